/* cltrain train MODEL: train a model file on a data set on one device; --save writes
 * checkpoints, --resume goes on from one, --log writes a CSV row per epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cli/progress.h"
#include "cli/summary.h"
#include "cli/train_args.h"
#include "cli/train_csv.h"
#include "cli/train_images.h"
#include "cli/train_memory.h"
#include "nn/augment_section.h"
#include "runtime/gemm.h"
#include "runtime/profile.h"
#include "train/checkpoint.h"
#include "train/run_options.h"
#include "train/train_log.h"
#include "train/trainer.h"

static int augment_flags_given(const clt_train_options *o) {
  return o->augment_crop >= 0 || o->augment_flip || o->no_augment;
}

/* --no-augment, --augment-crop and --augment-flip on r, checked against its input shape. */
static clt_status augment_overrides(const clt_train_options *o, clt_recipe *r) {
  if (!augment_flags_given(o)) return CLT_OK;
  if (o->no_augment) {
    r->augment_crop = 0;
    r->augment_flip = CLT_FLIP_NONE;
  }
  if (o->augment_crop >= 0) r->augment_crop = o->augment_crop;
  if (o->augment_flip) r->augment_flip = CLT_FLIP_HORIZONTAL;
  char why[320];
  if (clt_augment_problem(r, why, sizeof why))
    return clt_fail(CLT_ERR_USAGE, "%s: %s",
                    o->augment_crop > 0 ? "--augment-crop" : "--augment-flip", why);
  return CLT_OK;
}

static clt_status apply_overrides(const clt_train_options *o, clt_recipe *r) {
  if (o->epochs) r->epochs = o->epochs;
  if (o->batch) r->batch = o->batch;
  if (o->lr > 0) r->learning_rate = o->lr;
  if (o->seed >= 0) r->seed = (uint32_t)o->seed;
  if (o->optimizer) {
    clt_optimizer kind;
    if (clt_optimizer_from_name(o->optimizer, &kind) != 0)
      return clt_fail(CLT_ERR_USAGE, "--optimizer %s: unknown; choose one of %s", o->optimizer,
                      clt_optimizer_choices());
    if (kind == CLT_OPT_ADAMW && r->optimizer != CLT_OPT_ADAMW && !r->weight_decay_set)
      r->weight_decay = CLT_RECIPE_DEFAULT_ADAMW_DECAY;
    r->optimizer = kind;
  }
  return augment_overrides(o, r);
}

typedef struct train_data {
  clt_dataset all, train, val, test;
  clt_csv_data *csv; /* CSV data: train and val stream from it; no test set */
} train_data;

static clt_status load_data(const clt_run_options *ro, const clt_model *m, train_data *d,
                            FILE *info) {
  const char *dir = ro->data;
  if (clt_csv_data_path(dir)) return clt_cli_csv_load(ro, m, &d->csv, &d->train, &d->val, info);
  CLT_TRY(clt_cli_load_images(ro, m, CLT_SPLIT_TRAIN, &d->all, info));
  CLT_TRY(clt_cli_load_images(ro, m, CLT_SPLIT_TEST, &d->test, info));

  if (ro->subset) {
    if (ro->subset < d->all.n) CLT_TRY(clt_dataset_subset(&d->all, 0, ro->subset, &d->all));
    if (ro->subset < d->test.n) CLT_TRY(clt_dataset_subset(&d->test, 0, ro->subset, &d->test));
  }
  if (d->all.h != m->input.h || d->all.w != m->input.w || d->all.c != m->input.c)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s takes %dx%dx%d inputs but the data in %s are %dx%dx%d; set input = "
                    "%dx%dx%d in [net] or use a model made for this data",
                    m->name, m->input.h, m->input.w, m->input.c, dir, d->all.h, d->all.w, d->all.c,
                    d->all.h, d->all.w, d->all.c);
  if (d->all.classes > m->classes)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the data in %s have %d classes but %s ends in %d outputs; set units = %d in "
                    "the [dense] layer before [softmax]",
                    dir, d->all.classes, m->name, m->classes, d->all.classes);
  if (clt_image_folder_has_val(dir)) { /* its own val/ folder: no split of train/ */
    CLT_TRY(clt_cli_load_images(ro, m, CLT_SPLIT_VAL, &d->val, info));
    d->train = d->all;
    memset(&d->all, 0, sizeof d->all);
    return CLT_OK;
  }
  return clt_dataset_split(&d->all, ro->val_split, &d->train, &d->val);
}

static void free_data(train_data *d) {
  clt_dataset_free(&d->all);
  clt_dataset_free(&d->train);
  clt_dataset_free(&d->val);
  clt_dataset_free(&d->test);
  clt_csv_data_close(d->csv);
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void copy_path(char *dst, const char *src) {
  snprintf(dst, CLT_RUN_PATH_MAX, "%s", src ? src : "");
}

/* The options of a fresh run. */
static void fresh_options(const clt_train_options *o, clt_run_options *ro) {
  memset(ro, 0, sizeof *ro);
  copy_path(ro->model, o->model);
  copy_path(ro->data, o->data ? o->data : CLT_DEFAULT_DATA_DIR);
  ro->subset = o->subset;
  ro->val_split = o->val_split;
  ro->read_every = o->read_every;
  ro->stream = o->stream;
  copy_path(ro->save, o->save);
  ro->save_every = o->save_every;
  ro->keep_best = o->keep_best;
  copy_path(ro->log, o->log);
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
                  "--resume: %s %s differs from the checkpoint's %s; a resumed run keeps the "
                  "batch, optimizer, seed, --subset and --val-split it started with (drop %s, "
                  "or train afresh without --resume)",
                  option, given, saved, option);
}

/* Resume: the model, recipe and options from the checkpoint, then the command line on top
 * where that keeps the run the same (epochs, learning rate, saving, logging, display). */
static clt_status resume_setup(const clt_train_options *o, const clt_checkpoint *ck,
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
                      "or train %s afresh without --resume",
                      o->model, o->resume, ro->model, line, o->model);
  }
  char name[CLT_RUN_PATH_MAX + 64];
  snprintf(name, sizeof name, "%s", ro->model[0] ? ro->model : o->resume);
  CLT_TRY(clt_model_parse(ck->model_text, ck->model_length, name, model));
  char given[64], saved[64];
  if (o->batch && o->batch != r.batch) {
    snprintf(given, sizeof given, "%d", o->batch);
    snprintf(saved, sizeof saved, "%d", r.batch);
    return incompatible("--batch", given, saved);
  }
  if (o->optimizer && strcmp(o->optimizer, clt_optimizer_name(r.optimizer)) != 0)
    return incompatible("--optimizer", o->optimizer, clt_optimizer_name(r.optimizer));
  if (o->seed >= 0 && (uint32_t)o->seed != r.seed) {
    snprintf(given, sizeof given, "%lld", o->seed);
    snprintf(saved, sizeof saved, "%u", r.seed);
    return incompatible("--seed", given, saved);
  }
  if (augment_flags_given(o)) {
    clt_recipe a = r;
    CLT_TRY(augment_overrides(o, &a));
    if (a.augment_crop != r.augment_crop || a.augment_flip != r.augment_flip) {
      char saved_aug[64];
      clt_augment_describe(&a, given, sizeof given);
      clt_augment_describe(&r, saved_aug, sizeof saved_aug);
      return clt_fail(CLT_ERR_USAGE,
                      "--resume: the augmentation flags ask for %s but the checkpoint's run "
                      "augments with %s; a resumed run keeps its augmentation (drop the "
                      "--augment-* flags, or train afresh without --resume)",
                      given, saved_aug);
    }
  }
  if (o->subset && o->subset != ro->subset) {
    snprintf(given, sizeof given, "%d", o->subset);
    snprintf(saved, sizeof saved, "%d", ro->subset);
    return incompatible("--subset", given, ro->subset ? saved : "(all)");
  }
  if (o->val_split_given && o->val_split != ro->val_split) {
    snprintf(given, sizeof given, "%g", o->val_split);
    snprintf(saved, sizeof saved, "%g", ro->val_split);
    return incompatible("--val-split", given, saved);
  }
  if (o->label && strcmp(o->label, ro->label) != 0) /* CSV data */
    return incompatible("--label", o->label, ro->label[0] ? ro->label : "(the last column)");
  if (o->task && (strcmp(o->task, "regression") == 0) != ro->regression)
    return incompatible("--task", o->task, ro->regression ? "regression" : "classification");
  if (o->epochs && o->epochs != r.epochs) {
    if (r.schedule == CLT_SCHED_COSINE)
      clt_warn("--epochs %d changes the length of the cosine schedule (it was planned for %d "
               "epochs): the learning rates from here on differ from the original plan",
               o->epochs, r.epochs);
    r.epochs = o->epochs;
  }
  if (o->lr > 0 && o->lr != r.learning_rate) {
    clt_warn("--lr %g replaces the checkpoint's learning rate %g from here on", o->lr,
             r.learning_rate);
    r.learning_rate = o->lr;
  }
  if (r.epochs <= ck->pos.epoch) /* said before the data are loaded */
    return clt_fail(CLT_ERR_USAGE,
                    "%s has finished %d epochs already and --epochs is %d (the total, as in "
                    "Keras): pass --epochs %d or more to train further",
                    o->resume, ck->pos.epoch, r.epochs, ck->pos.epoch + 1);
  (*model)->recipe = r;
  if (o->data) copy_path(ro->data, o->data);
  if (o->read_every) ro->read_every = o->read_every;
  if (o->stream) ro->stream = 1;
  if (o->save)
    copy_path(ro->save, o->save);
  else if (!ro->save[0])
    copy_path(ro->save, o->resume);
  if (o->save_every) ro->save_every = o->save_every;
  if (o->keep_best) ro->keep_best = 1;
  if (o->log) copy_path(ro->log, o->log);
  snprintf(ro->version, sizeof ro->version, "%s", CLT_VERSION);
  const clt_train_position *p = &ck->pos;
  fprintf(info, "Resuming %s: %d of %d epochs done, step %d of %d in epoch %d (global step %ld)\n",
          o->resume, p->epoch, r.epochs, p->step, ck->steps_per_epoch, p->epoch + 1,
          p->global_step);
  return CLT_OK;
}

/* The checks that need the data and the device. */
static clt_status resume_check(const clt_checkpoint *ck, const train_data *d, const clt_ctx *ctx,
                               const char *path) {
  if (d->train.n != ck->train_n || d->val.n != ck->val_n)
    return clt_fail(CLT_ERR_USAGE,
                    "%s was trained on %d training and %d validation images but the data now "
                    "give %d and %d: resume with the data the checkpoint was made with (--data)",
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

/* The display and the --log file, behind the trainer's epoch_end. */
typedef struct epoch_sink {
  clt_progress_display display;
  FILE *log;
  const char *log_path;
  clt_status log_status;
} epoch_sink;

static void sink_progress(const clt_progress *p, void *user) {
  clt_progress_update(p, &((epoch_sink *)user)->display);
}

static void sink_epoch_end(const clt_epoch_report *r, void *user) {
  epoch_sink *s = user;
  clt_progress_epoch_end(r, &s->display);
  if (s->log && s->log_status == CLT_OK)
    s->log_status = clt_train_log_write(s->log, s->log_path, r);
}

/* Writes checkpoints for the trainer. */
typedef struct saver {
  clt_network *net;
  clt_checkpoint ck; /* the fixed sections; tensors and position filled per save */
  const char *path;
  char best[CLT_RUN_PATH_MAX + 8];
  int keep_best;
  epoch_sink *sink;
} saver;

static clt_status save_now(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                           void *user) {
  saver *s = user;
  (void)rep;
  /* A failed log write stops the run here, at a consistent point. */
  if (s->sink->log_status != CLT_OK) return s->sink->log_status;
  s->ck.pos = *pos;
  free(s->ck.device);
  s->ck.device = clt_checkpoint_device_text(s->net->ctx);
  if (!s->ck.device) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving");
  clt_status st = clt_checkpoint_capture(s->net, &s->ck);
  if (st == CLT_ERR_NON_FINITE)
    return clt_fail(st,
                    "the parameters became NaN or infinite by step %ld; %s is left as it was; "
                    "lower the learning rate (--lr)",
                    pos->global_step, s->path);
  CLT_TRY(st);
  CLT_TRY(clt_checkpoint_write(s->path, &s->ck));
  if (new_best && s->keep_best) CLT_TRY(clt_checkpoint_write(s->best, &s->ck));
  return CLT_OK;
}

static char *class_names_text(const clt_dataset *ds) {
  if (!ds->class_names) return NULL;
  size_t n = 1;
  for (int i = 0; i < ds->classes; i++) n += strlen(ds->class_names[i]) + 1;
  char *t = malloc(n);
  if (!t) return NULL;
  t[0] = '\0';
  for (int i = 0; i < ds->classes; i++) {
    strcat(t, ds->class_names[i]);
    strcat(t, "\n");
  }
  return t;
}

static clt_status saver_init(saver *s, clt_network *net, const clt_model *model,
                             const clt_run_options *ro, const train_data *d, epoch_sink *sink) {
  memset(s, 0, sizeof *s);
  s->net = net;
  s->path = ro->save;
  s->keep_best = ro->keep_best;
  s->sink = sink;
  if (clt_checkpoint_best_path(ro->save, s->best, sizeof s->best) != 0)
    return clt_fail(CLT_ERR_USAGE, "--save %s: path too long", ro->save);
  clt_checkpoint *ck = &s->ck;
  ck->version = CLT_CHECKPOINT_VERSION;
  ck->model_text = malloc(model->text_length + 1);
  ck->options = clt_run_options_text(ro, &model->recipe);
  ck->class_names = class_names_text(&d->train);
  if (!ck->model_text || !ck->options || (d->train.class_names && !ck->class_names))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory preparing checkpoints");
  memcpy(ck->model_text, model->text, model->text_length);
  ck->model_text[model->text_length] = '\0';
  ck->model_length = model->text_length;
  ck->epochs = model->recipe.epochs;
  ck->steps_per_epoch = (d->train.n + net->batch - 1) / net->batch;
  ck->batch = net->batch;
  ck->seed = model->recipe.seed;
  ck->train_n = d->train.n;
  ck->val_n = d->val.n;
  ck->data_crc = clt_checkpoint_data_crc(&d->train);
  if (d->csv) CLT_TRY(clt_cli_csv_checkpoint(d->csv, ck));
  return CLT_OK;
}

static clt_status train_and_test(const clt_train_options *o, const clt_run_options *ro,
                                 clt_model *model, clt_ctx *ctx, clt_optim *opt, clt_network *net,
                                 const train_data *data, const clt_checkpoint *resumed, FILE *info,
                                 const struct timespec *t0) {
  epoch_sink sink;
  memset(&sink, 0, sizeof sink);
  clt_progress_init(&sink.display, stdout, o->json);
  sink.display.regression = model->regression;
  saver sv;
  memset(&sv, 0, sizeof sv);
  clt_train_saving saving;
  memset(&saving, 0, sizeof saving);
  clt_status st = CLT_OK;
  if (resumed) saving.start = resumed->pos;
  if (ro->log[0]) {
    sink.log_path = ro->log;
    st = clt_train_log_open(ro->log, resumed != NULL, resumed ? resumed->pos.epoch : 0, &sink.log);
  }
  if (st == CLT_OK && ro->save[0]) {
    st = saver_init(&sv, net, model, ro, data, &sink);
    saving.save = save_now;
    saving.user = &sv;
    saving.save_every = ro->save_every;
  }
  if (st == CLT_OK) {
    clt_train_callbacks cb = {sink_progress, sink_epoch_end, &sink};
    clt_train_config cfg = {model->recipe, ro->read_every, ro->stream, model->regression, NULL};
    if (o->profile) st = clt_profiler_start(ctx);
    if (st == CLT_OK)
      st = clt_train_resumable(net, opt, &data->train, &data->val, &cfg, &cb, &saving);
    if (st == CLT_OK) st = sink.log_status;
    if (st == CLT_OK && o->profile) {
      st = clt_profiler_collect(ctx);
      long steps = (long)(model->recipe.epochs - saving.start.epoch) *
                       ((data->train.n + net->batch - 1) / net->batch) -
                   saving.start.step;
      fprintf(info, "Device time per training step (%ld steps; validation included):\n", steps);
      clt_profiler_print(ctx, info, steps);
      clt_profiler_stop(ctx);
    }
  }
  if (sink.log && fclose(sink.log) != 0 && st == CLT_OK)
    st = clt_fail(CLT_ERR_IO, "cannot write log %s", ro->log);
  clt_checkpoint_free(&sv.ck);
  if (st == CLT_OK && ro->save[0])
    fprintf(info, "Checkpoint: %s%s%s\n", ro->save, ro->keep_best ? "; best: " : "",
            ro->keep_best ? sv.best : "");
  if (st == CLT_OK && data->test.n > 0) { /* CSV data have no test set: cltrain eval */
    double loss, acc;
    st = clt_evaluate(net, &data->test, ro->stream, &loss, &acc);
    if (st == CLT_OK && o->json)
      printf("{\"test_loss\":%.6f,\"test_accuracy\":%.6f,\"test_samples\":%d,\"seconds\":%.2f}\n",
             loss, acc, data->test.n, seconds_since(t0));
    else if (st == CLT_OK)
      printf("Test: loss %.4f - accuracy %.4f (%d images), %.1f s in all\n", loss, acc,
             data->test.n, seconds_since(t0));
  }
  return st;
}

static clt_status run(const clt_train_options *o, FILE *info) {
  clt_model *model = NULL;
  clt_ctx *ctx = NULL;
  clt_optim *opt = NULL;
  clt_network *net = NULL;
  clt_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  clt_run_options *ro = calloc(1, sizeof *ro);
  train_data data;
  memset(&data, 0, sizeof data);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  clt_status st = ro ? CLT_OK : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  if (st == CLT_OK && o->resume) {
    st = clt_checkpoint_read(o->resume, &ck);
    if (st == CLT_OK) st = resume_setup(o, &ck, ro, &model, info);
  } else if (st == CLT_OK) {
    fresh_options(o, ro);
    st = clt_model_load(o->model, &model);
    if (st == CLT_OK) st = apply_overrides(o, &model->recipe);
  }
  /* The device before the data: a batch that cannot fit fails at once (precheck). */
  if (st == CLT_OK) st = clt_open_device(&o->dev, o->profile, &ctx);
  if (st == CLT_OK) st = clt_optim_create(ctx, &model->recipe, &opt);
  if (st == CLT_OK && !o->batch_auto)
    st = clt_train_memory_precheck(model, ctx, clt_optim_state_per_param(opt), ro->data, ro->subset,
                                   ro->val_split, ro->stream);
  if (st == CLT_OK) st = load_data(ro, model, &data, info);
  if (st == CLT_OK && o->resume) st = resume_check(&ck, &data, ctx, o->resume);
  if (st == CLT_OK)
    st = clt_train_memory_plan(model, ctx, clt_optim_state_per_param(opt), &data.train, &data.val,
                               &data.test, ro->stream, o->batch_auto, o->resume != NULL, info);
  if (st == CLT_OK) {
    clt_train_summary(info, model, ctx, clt_optim_state_per_param(opt), &data.train, &data.val,
                      &data.test);
    int batch = model->recipe.batch < data.train.n ? model->recipe.batch : data.train.n;
    st = clt_network_create(model, ctx, batch, clt_optim_state_per_param(opt), model->recipe.seed,
                            &net);
  }
  if (st == CLT_OK && o->resume) st = clt_checkpoint_restore(net, &ck, 1);
  if (st == CLT_OK) {
    fprintf(info, "Preparing GEMM kernels...");
    fflush(info);
    st = clt_gemm_warm_up(ctx);
    fprintf(info, " ready %.1f s after start\n", seconds_since(&t0));
  }
  if (st == CLT_OK)
    st = train_and_test(o, ro, model, ctx, opt, net, &data, o->resume ? &ck : NULL, info, &t0);
  if (st == CLT_OK && data.csv) clt_cli_csv_report_memory(data.csv, info);
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_ctx_destroy(ctx);
  clt_model_free(model);
  clt_checkpoint_free(&ck);
  free(ro);
  free_data(&data);
  return st;
}

int clt_cmd_train(int argc, char **argv) {
  clt_train_options o;
  int rc = clt_train_parse_args(argc, argv, &o);
  if (rc) return clt_cli_exit(rc);
  /* With --json, stdout carries only JSON: the summary goes to stderr. */
  clt_status st = run(&o, o.json ? stderr : stdout);
  return clt_exit_status(st);
}
