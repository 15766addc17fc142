/* See session_compose.h: moved from session.c, unchanged but for the names. */
#include "train/session_compose.h"

#include <stdlib.h>
#include <string.h>

#include "nn/augment_section.h"
#include "runtime/fail.h"
#include "train/data_check.h"
#include "train/train_csv.h"

static int augment_flags_given(const clt_session_request *o) {
  return o->augment_crop >= 0 || o->augment_flip || o->no_augment;
}

/* The augmentation settings (none, crop padding, flips) on r, checked against its input shape. */
static clt_status augment_overrides(const clt_session_request *o, clt_recipe *r) {
  if (!augment_flags_given(o)) return CLT_OK;
  if (o->no_augment) {
    r->augment_crop = 0;
    r->augment_flip = CLT_FLIP_NONE;
  }
  if (o->augment_crop >= 0) r->augment_crop = o->augment_crop;
  if (o->augment_flip) r->augment_flip = CLT_FLIP_HORIZONTAL;
  char why[320];
  if (clt_augment_problem(r, why, sizeof why))
    return clt_fail(CLT_ERR_USAGE, "%s: %s", o->augment_crop > 0 ? "augment_crop" : "augment_flip",
                    why);
  return CLT_OK;
}

clt_status clt_session_apply_overrides(const clt_session_request *o, clt_recipe *r) {
  if (o->epochs) r->epochs = o->epochs;
  if (o->batch) r->batch = o->batch;
  if (o->lr > 0) r->learning_rate = o->lr;
  if (o->seed >= 0) r->seed = (uint32_t)o->seed;
  if (o->optimizer) {
    clt_optimizer kind;
    if (clt_optimizer_from_name(o->optimizer, &kind) != 0)
      return clt_fail(CLT_ERR_USAGE, "optimizer setting %s: unknown; choose one of %s",
                      o->optimizer, clt_optimizer_choices());
    if (kind == CLT_OPT_ADAMW && r->optimizer != CLT_OPT_ADAMW && !r->weight_decay_set)
      r->weight_decay = CLT_RECIPE_DEFAULT_ADAMW_DECAY;
    r->optimizer = kind;
  }
  return augment_overrides(o, r);
}

/* The run's data: a CSV table, or a folder (IDX, CIFAR-10 or an image folder, whose own val/
 * folder then replaces the validation split). Notes and decoding progress go to notes. */
clt_status clt_session_load_data(const clt_run_options *ro, const clt_model *m,
                                 const clt_device_options *dev, train_data *d,
                                 const clt_notes_sink *notes) {
  const char *dir = ro->data;
  FILE *info = notes->out;
  if (clt_csv_data_path(dir)) return clt_cli_csv_load(ro, m, &d->csv, &d->train, &d->val, info);
  int skip = ro->skip_bad_images, stream = ro->stream;
  CLT_TRY(clt_train_load_images(dir, m, CLT_FOLDER_TRAIN, dev, skip, stream, &d->all, notes));
  CLT_TRY(clt_train_load_images(dir, m, CLT_FOLDER_TEST, dev, skip, stream, &d->test, notes));
  if (ro->subset) {
    if (ro->subset < d->all.n) CLT_TRY(clt_dataset_subset(&d->all, 0, ro->subset, &d->all));
    if (ro->subset < d->test.n) CLT_TRY(clt_dataset_subset(&d->test, 0, ro->subset, &d->test));
  }
  /* Every set the run uses, before the first step: the test set too. */
  CLT_TRY(clt_data_check_model(&d->all, m, "training set", dir));
  CLT_TRY(clt_data_check_model(&d->test, m, "test set", dir));
  if (clt_image_folder_has_val(dir)) { /* its own val/ folder: no split of train/ */
    CLT_TRY(clt_train_load_images(dir, m, CLT_FOLDER_VAL, dev, skip, stream, &d->val, notes));
    CLT_TRY(clt_data_check_model(&d->val, m, "validation set", dir));
    d->train = d->all;
    memset(&d->all, 0, sizeof d->all);
    return CLT_OK;
  }
  return clt_dataset_split(&d->all, ro->val_split, &d->train, &d->val);
}

/* Options for one kind of data, given with the other kind: refused, never ignored. */
clt_status clt_session_data_kind_options(const clt_session_request *o, const char *data) {
  if (o->label) CLT_TRY(clt_data_option_check(data, "label", 1));
  if (o->task) CLT_TRY(clt_data_option_check(data, "task", 1));
  if (o->skip_bad_rows) CLT_TRY(clt_data_option_check(data, "skip_bad_rows", 1));
  if (o->skip_bad_images) CLT_TRY(clt_data_option_check(data, "skip_bad_images", 0));
  if (o->augment_crop >= 0) CLT_TRY(clt_data_option_check(data, "augment_crop", 0));
  if (o->augment_flip) CLT_TRY(clt_data_option_check(data, "augment_flip", 0));
  return CLT_OK;
}

void clt_session_free_data(train_data *d) {
  clt_dataset_free(&d->all);
  clt_dataset_free(&d->train);
  clt_dataset_free(&d->val);
  clt_dataset_free(&d->test);
  clt_csv_data_close(d->csv);
}

void clt_session_copy_path(char *dst, const char *src) {
  snprintf(dst, CLT_RUN_PATH_MAX, "%s", src ? src : "");
}

/* The options of a fresh run. */
void clt_session_fresh_options(const clt_session_request *o, clt_run_options *ro) {
  memset(ro, 0, sizeof *ro);
  clt_session_copy_path(ro->model, o->model);
  clt_session_copy_path(ro->data, o->data ? o->data : CLT_DEFAULT_DATA_DIR);
  ro->subset = o->subset;
  ro->val_split = o->val_split;
  ro->read_every = o->read_every;
  ro->stream = o->stream;
  clt_session_copy_path(ro->save, o->save);
  ro->save_every = o->save_every;
  ro->keep_best = o->keep_best;
  clt_session_copy_path(ro->log, o->log);
  snprintf(ro->version, sizeof ro->version, "%s", CLT_VERSION);
  snprintf(ro->label, sizeof ro->label, "%s", o->label ? o->label : "");
  ro->regression = o->task && strcmp(o->task, "regression") == 0;
  ro->skip_bad_rows = o->skip_bad_rows;
  ro->skip_bad_images = o->skip_bad_images;
}

/* The first line where two texts differ (1-based). */
static int first_difference(const char *a, size_t na, const char *b, size_t nb) {
  int line = 1;
  for (size_t i = 0; i < na && i < nb && a[i] == b[i]; i++)
    if (a[i] == '\n') line++;
  return line;
}

static clt_status incompatible(const char *option, const char *given, const char *saved) {
  return clt_fail(CLT_ERR_USAGE,
                  "resuming: %s %s differs from the checkpoint's %s; a resumed run keeps the "
                  "batch, optimizer, seed, subset and validation split it started with (leave "
                  "%s unset, or train afresh instead of resuming)",
                  option, given, saved, option);
}

/* Resume: the model, recipe and options from the checkpoint, then the command line on top
 * where that keeps the run the same (epochs, learning rate, saving, logging, display). */
clt_status clt_session_resume_setup(const clt_session_request *o, const clt_checkpoint *ck,
                                    clt_run_options *ro, clt_model **model, FILE *info) {
  clt_recipe r;
  CLT_TRY(clt_run_options_parse(ck->options, o->resume, ro, &r));
  if (o->model) {
    clt_model *given = NULL;
    CLT_TRY(clt_model_load(o->model, &given));
    int same = given->text_length == ck->model_length &&
               memcmp(given->text, ck->model_text, ck->model_length) == 0;
    int line = first_difference(given->text, given->text_length, ck->model_text, ck->model_length);
    clt_model_free(given);
    if (!same)
      return clt_fail(CLT_ERR_USAGE,
                      "%s differs from the model %s was made with (%s; first difference on line "
                      "%d): resume without the model argument (the checkpoint holds its model), "
                      "or train %s afresh instead of resuming",
                      o->model, o->resume, ro->model, line, o->model);
  }
  char name[CLT_RUN_PATH_MAX + 64];
  snprintf(name, sizeof name, "%s", ro->model[0] ? ro->model : o->resume);
  CLT_TRY(clt_checkpoint_model(ck, o->resume, name, model));
  char given[64], saved[64];
  if (o->batch && o->batch != r.batch) {
    snprintf(given, sizeof given, "%d", o->batch);
    snprintf(saved, sizeof saved, "%d", r.batch);
    return incompatible("batch", given, saved);
  }
  if (o->optimizer && strcmp(o->optimizer, clt_optimizer_name(r.optimizer)) != 0)
    return incompatible("optimizer", o->optimizer, clt_optimizer_name(r.optimizer));
  if (o->seed >= 0 && (uint32_t)o->seed != r.seed) {
    snprintf(given, sizeof given, "%lld", o->seed);
    snprintf(saved, sizeof saved, "%u", r.seed);
    return incompatible("seed", given, saved);
  }
  if (augment_flags_given(o)) {
    clt_recipe a = r;
    CLT_TRY(augment_overrides(o, &a));
    if (a.augment_crop != r.augment_crop || a.augment_flip != r.augment_flip) {
      char saved_aug[64];
      clt_augment_describe(&a, given, sizeof given);
      clt_augment_describe(&r, saved_aug, sizeof saved_aug);
      return clt_fail(CLT_ERR_USAGE,
                      "resuming: the augmentation settings ask for %s but the checkpoint's run "
                      "augments with %s; a resumed run keeps its augmentation (leave the "
                      "augmentation settings unset, or train afresh instead of resuming)",
                      given, saved_aug);
    }
  }
  if (o->subset && o->subset != ro->subset) {
    snprintf(given, sizeof given, "%d", o->subset);
    snprintf(saved, sizeof saved, "%d", ro->subset);
    return incompatible("subset", given, ro->subset ? saved : "(all)");
  }
  if (o->val_split_given && o->val_split != ro->val_split) {
    snprintf(given, sizeof given, "%g", o->val_split);
    snprintf(saved, sizeof saved, "%g", ro->val_split);
    return incompatible("val_split", given, saved);
  }
  if (o->label && strcmp(o->label, ro->label) != 0) /* CSV data */
    return incompatible("label", o->label, ro->label[0] ? ro->label : "(the last column)");
  if (o->task && (strcmp(o->task, "regression") == 0) != ro->regression)
    return incompatible("task", o->task, ro->regression ? "regression" : "classification");
  if (o->epochs && o->epochs != r.epochs) {
    if (r.schedule == CLT_SCHED_COSINE)
      clt_warn("epochs setting %d changes the length of the cosine schedule (it was planned for %d "
               "epochs): the learning rates from here on differ from the original plan",
               o->epochs, r.epochs);
    r.epochs = o->epochs;
  }
  if (o->lr > 0 && o->lr != r.learning_rate) {
    clt_warn("learning rate setting %g replaces the checkpoint's learning rate %g from here on",
             o->lr, r.learning_rate);
    r.learning_rate = o->lr;
  }
  if (r.epochs <= ck->pos.epoch) /* said before the data are loaded */
    return clt_fail(CLT_ERR_USAGE,
                    "%s has finished %d epochs already and the run's epochs setting is %d (the "
                    "total, as in Keras): set epochs to %d or more to train further",
                    o->resume, ck->pos.epoch, r.epochs, ck->pos.epoch + 1);
  (*model)->recipe = r;
  if (o->data) clt_session_copy_path(ro->data, o->data);
  if (o->read_every) ro->read_every = o->read_every;
  if (o->stream) ro->stream = 1;
  /* Saves go to the resumed file, not to the path recorded inside it: resuming from a copy
   * must not overwrite the run it was copied from. */
  clt_session_copy_path(ro->save, o->save ? o->save : o->resume);
  if (o->save_every) ro->save_every = o->save_every;
  if (o->keep_best) ro->keep_best = 1;
  if (o->log) clt_session_copy_path(ro->log, o->log);
  snprintf(ro->version, sizeof ro->version, "%s", CLT_VERSION);
  const clt_train_position *p = &ck->pos;
  fprintf(info, "Resuming %s: %d of %d epochs done, step %d of %d in epoch %d (global step %ld)\n",
          o->resume, p->epoch, r.epochs, p->step, ck->steps_per_epoch, p->epoch + 1,
          p->global_step);
  return CLT_OK;
}

/* The checks that need the data and the device. */
clt_status clt_session_resume_check(const clt_checkpoint *ck, const train_data *d,
                                    const clt_ctx *ctx, const char *path) {
  if (d->train.n != ck->train_n || d->val.n != ck->val_n)
    return clt_fail(CLT_ERR_USAGE,
                    "%s was trained on %d training and %d validation images but the data now "
                    "give %d and %d: resume with the data the checkpoint was made with",
                    path, ck->train_n, ck->val_n, d->train.n, d->val.n);
  if (clt_checkpoint_data_crc(&d->train) != ck->data_crc)
    clt_warn("the training data differ from those %s was trained on: the run goes on, but "
             "not as it would have without the break",
             path);
  char name[256], driver[256];
  clt_checkpoint_value(ck->device, "device", name, sizeof name);
  clt_checkpoint_value(ck->device, "driver", driver, sizeof driver);
  if (strcmp(name, ctx->dev.name) != 0 || strcmp(driver, ctx->dev.driver_version) != 0)
    clt_warn("%s was made on %s (driver %s); this run is on %s (driver %s): results will "
             "differ in the last bits from a run that stayed on one device",
             path, name, driver, ctx->dev.name, ctx->dev.driver_version);
  return CLT_OK;
}

/* The caller's callbacks and the --log file, behind the trainer's callbacks. */
