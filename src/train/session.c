/* The session: a run composed from its request (train/session.h), moved here from the
 * cltrain train command, and the public API's session calls (include/cltrain/cltrain.h). */
#include "train/data_check.h"
#include "train/gemm_notes.h"
#include "train/save_targets.h"
#include "train/session.h"
#include "train/session_compose.h"
#include "train/session_replicas.h"
#include "train/session_internal.h"
#include "train/session_saver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cltrain/cltrain.h"
#include "nn/augment_section.h"
#include "runtime/gemm.h"
#include "runtime/profile.h"
#include "train/checkpoint.h"
#include "train/eval_csv.h"
#include "train/evaluate.h"
#include "train/inference.h"
#include "train/run_options.h"
#include "train/summary.h"
#include "train/train_csv.h"
#include "train/train_images.h"
#include "train/train_log.h"
#include "train/train_memory.h"
#include "train/trainer.h"

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

typedef struct epoch_sink {
  clt_callbacks cb; /* the public callbacks (zeroed: none) */
  int stop;         /* a callback returned non-zero */
  FILE *log;
  const char *log_path;
  clt_status log_status;
} epoch_sink;

static void sink_progress(const clt_progress *p, void *user) {
  epoch_sink *s = user;
  if (!s->cb.progress) return;
  clt_progress_info i = {p->epoch,        p->epochs,      p->step,
                         p->steps,        p->global_step, p->loss,
                         p->accuracy,     p->elapsed,     p->images_per_second,
                         p->learning_rate};
  if (s->cb.progress(&i, s->cb.user)) s->stop = 1;
}

static void sink_epoch_end(const clt_epoch_report *r, void *user) {
  epoch_sink *s = user;
  if (s->cb.epoch_end) {
    clt_epoch_info i = {r->epoch,         r->epochs,         r->global_step,      r->loss,
                        r->accuracy,      r->has_validation, r->val_loss,         r->val_accuracy,
                        r->learning_rate, r->seconds,        r->images_per_second};
    if (s->cb.epoch_end(&i, s->cb.user)) s->stop = 1;
  }
  if (s->log && s->log_status == CLT_OK)
    s->log_status = clt_train_log_write(s->log, s->log_path, r);
}

/* ---- the session ---- */

/* Hands what the notes gained since the last call to the message callback. */
static void notes_flush(clt_session *s) {
  if (!s->notes || fflush(s->notes) != 0) return;
  if (s->notes_len > s->notes_sent && s->cfg.message)
    s->cfg.message(s->notes_buf + s->notes_sent, s->cfg.user);
  s->notes_sent = s->notes_len;
}

/* notes_flush for a clt_notes_sink. */
static void notes_hand_on(void *session) {
  notes_flush(session);
}

/* Warnings of the calls on s go to its callback. */
clt_warning_route clt_session_route_warnings(const clt_session *s) {
  clt_warning_route r = {1, s->cfg.warning, s->cfg.user};
  return clt_warning_route_set(r);
}

static clt_status open_run(clt_session *s) {
  const clt_session_request *o = &s->o;
  FILE *info = s->notes;
  clt_run_options *ro = s->ro;
  train_data *data = &s->data;
  clt_status st = clt_balance_check(s->cfg.balance);
  if (st == CLT_OK) st = clt_bucket_check(s->cfg.bucket_kib);
  if (st == CLT_OK && s->cfg.distributed) st = clt_peers_open(&s->peers);
  if (st == CLT_OK)
    st = clt_device_specs(o->dev.device, s->cfg.distributed, s->cfg.local_rank, &s->specs,
                          &s->spec_count);
  if (st == CLT_OK) s->o.dev.device = s->specs[0]; /* lane 0; the others below */
  if (st == CLT_OK && o->resume) {
    st = clt_checkpoint_read(o->resume, &s->ck);
    if (st == CLT_OK) st = clt_session_resume_setup(o, &s->ck, ro, &s->model, info);
    s->resumed = st == CLT_OK;
  } else if (st == CLT_OK) {
    clt_session_fresh_options(o, ro);
    st = s->model_text ? clt_model_parse(s->model_text, s->model_length, o->model, &s->model)
                       : clt_model_load(o->model, &s->model);
    if (st == CLT_OK) st = clt_session_apply_overrides(o, &s->model->recipe);
  }
  clt_model *model = s->model;
  /* The files the run writes, before anything slow. */
  if (st == CLT_OK) st = clt_save_targets_check(ro->save, ro->keep_best, ro->log, o->overwrite);
  /* Options the data would ignore, and keeping the best without a validation split: at once. */
  if (st == CLT_OK) st = clt_session_data_kind_options(o, ro->data);
  if (st == CLT_OK && ro->keep_best && ro->val_split == 0) st = clt_keep_best_check(1, &data->val);
  /* The device before the data: a batch that cannot fit fails at once (precheck). */
  if (st == CLT_OK) st = clt_open_device(&o->dev, o->profile, &s->ctx);
  if (st == CLT_OK) st = clt_optim_create(s->ctx, &model->recipe, &s->opt);
  if (st == CLT_OK && !o->batch_auto)
    st = clt_train_memory_precheck(model, s->ctx, clt_optim_state_per_param(s->opt), ro->data,
                                   ro->subset, ro->val_split, ro->stream);
  clt_notes_sink notes = {info, notes_hand_on, s};
  if (st == CLT_OK) st = clt_session_load_data(ro, model, &o->dev, data, &notes);
  if (st == CLT_OK) st = clt_keep_best_check(ro->keep_best && ro->save[0], &data->val);
  if (st == CLT_OK && o->resume) st = clt_session_resume_check(&s->ck, data, s->ctx, o->resume);
  if (st == CLT_OK)
    st = clt_train_memory_plan(model, s->ctx, s->opt, clt_optim_state_per_param(s->opt),
                               &data->train, &data->val, &data->test, ro->stream, o->batch_auto,
                               o->resume != NULL, info);
  if (st == CLT_OK) {
    clt_train_summary(info, model, s->ctx, clt_optim_state_per_param(s->opt), &data->train,
                      &data->val, &data->test);
    int batch = model->recipe.batch < data->train.n ? model->recipe.batch : data->train.n;
    st = clt_network_create(model, s->ctx, batch, clt_optim_state_per_param(s->opt),
                            model->recipe.seed, &s->net);
  }
  if (st == CLT_OK && o->resume) st = clt_checkpoint_restore(s->net, &s->ck, 1);
  if (st == CLT_OK) {
    fprintf(info, "Preparing GEMM kernels...");
    notes_flush(s);
    st = clt_gemm_warm_up(s->ctx);
    fprintf(info, " ready %.1f s after start\n", seconds_since(&s->t0));
    clt_train_gemm_notes(info); /* shapes first met in training are chosen then: say so */
  }
  if (st == CLT_OK) {
    clt_replica_request rq = {s->cfg.balance, o->resume ? &s->ck : NULL, &data->train, info,
                              s->cfg.bucket_kib};
    st = clt_session_replicas(model, s->ctx, s->opt, s->net, &o->dev, s->specs, s->spec_count,
                              s->peers, o->profile, &rq, &s->reps);
  }
  if (st == CLT_OK && o->resume) s->pos = s->ck.pos;
  return st;
}

static clt_status train_run(clt_session *s, epoch_sink *sink) {
  const clt_session_request *o = &s->o;
  const clt_run_options *ro = s->ro;
  FILE *info = s->notes;
  clt_model *model = s->model;
  clt_network *net = s->net;
  clt_ctx *ctx = s->ctx;
  const train_data *data = &s->data;
  saver sv;
  memset(&sv, 0, sizeof sv);
  clt_train_saving saving;
  memset(&saving, 0, sizeof saving);
  clt_status st = CLT_OK;
  saving.start = s->pos;
  clt_train_position reached = s->pos;
  saving.reached = &reached;
  int rank0 = clt_peers_rank(s->peers) == 0; /* only rank 0 logs and saves */
  char *layout = s->reps ? clt_replicas_layout_text(s->reps) : NULL;
  if (s->reps && !layout) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  if (st == CLT_OK && ro->log[0] && rank0) {
    sink->log_path = ro->log;
    st = clt_train_log_open(ro->log, s->resumed || s->trained, s->pos.epoch, o->overwrite,
                            &sink->log);
  }
  if (st == CLT_OK && ro->save[0] && rank0) {
    st = clt_saver_init(&sv, net, model, ro, data, &sink->log_status, layout);
    saving.save = clt_saver_save;
    saving.user = &sv;
  }
  if (ro->save[0]) saving.save_every = ro->save_every; /* every rank reads back there */
  if (st == CLT_OK) {
    clt_train_callbacks cb = {sink_progress, sink_epoch_end, sink, &sink->stop};
    clt_train_config cfg = {model->recipe,     ro->read_every, ro->stream,
                            model->regression, NULL,           s->reps};
    if (o->profile) st = clt_profiler_start(ctx);
    if (st == CLT_OK)
      st = clt_train_resumable(net, s->opt, &data->train, &data->val, &cfg, &cb, &saving);
    if (st == CLT_OK) st = sink->log_status;
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
  if (sink->log && fclose(sink->log) != 0 && st == CLT_OK)
    st = clt_fail(CLT_ERR_IO, "cannot write log %s", ro->log);
  sink->log = NULL;
  clt_checkpoint_free(&sv.ck);
  free(layout);
  if (st == CLT_OK && ro->save[0] && rank0)
    fprintf(info, "Checkpoint: %s%s%s\n", ro->save, ro->keep_best ? "; best: " : "",
            ro->keep_best ? sv.best : "");
  if (st == CLT_OK && data->csv) clt_cli_csv_report_memory(data->csv, info);
  if (st == CLT_OK) s->pos = reached;
  s->trained = 1;
  return st;
}

/* ---- the public API ---- */

/* The struct_size prefix of src (at most dst_size bytes) over dst's defaults. */
static void copy_sized(void *dst, size_t dst_size, const void *src) {
  if (!src) return;
  size_t n = *(const size_t *)src;
  memcpy(dst, src, n < dst_size ? n : dst_size);
  *(size_t *)dst = dst_size;
}

const char *clt_version(void) {
  return CLT_VERSION;
}

void clt_config_init(clt_config *c) {
  memset(c, 0, sizeof *c);
  c->struct_size = sizeof *c;
  c->kernel_cache = 1;
  c->gemm_tuning = 1;
  c->local_rank = -1;
}

void clt_run_config_init(clt_run_config *r) {
  memset(r, 0, sizeof *r);
  r->struct_size = sizeof *r;
  r->val_split = -1.0;
  r->seed = -1;
  r->augment_crop = -1;
  r->regression = -1;
}

static const char *keep(clt_session *s, const char *text) {
  if (!text) return NULL;
  char *copy =
      s->string_count < (int)(sizeof s->strings / sizeof s->strings[0]) ? strdup(text) : NULL;
  if (!copy) {
    s->strings_lost = 1;
    return NULL;
  }
  s->strings[s->string_count++] = copy;
  return copy;
}

/* A session with its config and notes stream, before anything is opened. */
static clt_status session_new(const clt_config *config, clt_session **out) {
  *out = NULL;
  clt_session *s = calloc(1, sizeof *s);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a session");
  clock_gettime(CLOCK_MONOTONIC, &s->t0);
  clt_config_init(&s->cfg);
  copy_sized(&s->cfg, sizeof s->cfg, config);
  clt_device_options *d = &s->o.dev;
  d->device = keep(s, s->cfg.device);
  d->kernel_dir = keep(s, s->cfg.kernel_dir);
  d->cache_dir = keep(s, s->cfg.cache_dir);
  d->no_kernel_cache = !s->cfg.kernel_cache;
  d->keep_binaries = s->cfg.kernel_cache == 2;
  d->no_gemm_tune = !s->cfg.gemm_tuning;
  d->memory_limit = s->cfg.memory_limit;
  d->alloc_limit = s->cfg.alloc_limit;
  d->gemm_mode = keep(s, s->cfg.gemm_selection);
  d->gemm_budget = s->cfg.gemm_budget;
  d->host_memory = s->cfg.host_memory_limit;
  s->cfg.balance = keep(s, s->cfg.balance);
  s->o.profile = s->cfg.profile;
  s->o.seed = -1;
  s->o.augment_crop = -1;
  s->o.val_split = 0.1;
  s->notes = open_memstream(&s->notes_buf, &s->notes_len);
  s->ro = calloc(1, sizeof *s->ro);
  *out = s;
  if (!s->notes || !s->ro || s->strings_lost)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a session");
  return CLT_OK;
}

/* The run settings of run over the request's "not given" values. */
static void request_from(clt_session *s, const clt_run_config *given) {
  clt_run_config run;
  clt_run_config_init(&run);
  copy_sized(&run, sizeof run, given);
  clt_session_request *o = &s->o;
  o->data = keep(s, run.data);
  o->subset = run.subset;
  o->val_split_given = run.val_split >= 0.0;
  if (o->val_split_given) o->val_split = run.val_split;
  o->epochs = run.epochs;
  o->batch = run.batch;
  o->batch_auto = run.batch_auto;
  o->lr = run.learning_rate;
  o->optimizer = keep(s, run.optimizer);
  o->seed = run.seed;
  o->read_every = run.read_every;
  o->stream = run.stream;
  o->save = keep(s, run.save);
  o->save_every = run.save_every;
  o->keep_best = run.keep_best;
  o->log = keep(s, run.log);
  o->label = keep(s, run.label);
  o->task = run.regression < 0 ? NULL : run.regression ? "regression" : "classification";
  o->skip_bad_rows = run.skip_bad_rows;
  o->skip_bad_images = run.skip_bad_images;
  o->augment_crop = run.augment_crop;
  o->augment_flip = run.augment_flip;
  o->no_augment = run.no_augment;
  o->overwrite = run.overwrite;
}

static clt_status class_names(clt_session *s) {
  int k = s->model->classes;
  s->names = calloc((size_t)k, sizeof *s->names);
  if (!s->names) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  const clt_dataset *ds = &s->data.train;
  for (int i = 0; i < k; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d", i);
    s->names[i] = strdup(ds->class_names && i < ds->classes ? ds->class_names[i] : buf);
    if (!s->names[i]) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  return CLT_OK;
}

static clt_status finish_open(clt_session *s, clt_status st, clt_session **out) {
  if (st == CLT_OK && !s->inference) st = class_names(s);
  notes_flush(s);
  if (st != CLT_OK) {
    clt_session_close(s);
    s = NULL;
  }
  *out = s;
  return st;
}

static clt_status open_with(const clt_config *config, const char *model, const char *text,
                            size_t length, const char *resume, const clt_run_config *run,
                            clt_session **out) {
  clt_session *s = NULL;
  clt_status st = session_new(config, &s);
  if (!s) return st;
  clt_warning_route old = clt_session_route_warnings(s);
  if (st == CLT_OK) {
    request_from(s, run);
    s->o.model = keep(s, model);
    s->o.resume = keep(s, resume);
    s->model_text = text;
    s->model_length = length;
    if (s->strings_lost)
      st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a session");
    else if (!s->o.model && !resume)
      st = clt_fail(CLT_ERR_USAGE, "no model given: name a model file or pass its text");
    if (st == CLT_OK) st = open_run(s);
    s->model_text = NULL; /* not kept: the model holds its own copy */
  }
  st = finish_open(s, st, out);
  clt_warning_route_set(old);
  return st;
}

clt_status clt_session_open(const clt_config *config, const char *model_path,
                            const clt_run_config *run, clt_session **out) {
  if (!out) return clt_fail(CLT_ERR_USAGE, "clt_session_open: out is NULL");
  *out = NULL;
  if (!model_path) return clt_fail(CLT_ERR_USAGE, "clt_session_open: no model file given");
  return open_with(config, model_path, NULL, 0, NULL, run, out);
}

clt_status clt_session_open_text(const clt_config *config, const char *text, size_t length,
                                 const char *name, const clt_run_config *run, clt_session **out) {
  if (!out) return clt_fail(CLT_ERR_USAGE, "clt_session_open_text: out is NULL");
  *out = NULL;
  if (!text) return clt_fail(CLT_ERR_USAGE, "clt_session_open_text: no model text given");
  return open_with(config, name ? name : "(model text)", text, length, NULL, run, out);
}

clt_status clt_session_resume(const clt_config *config, const char *checkpoint,
                              const char *model_path, const clt_run_config *overrides,
                              clt_session **out) {
  if (!out) return clt_fail(CLT_ERR_USAGE, "clt_session_resume: out is NULL");
  *out = NULL;
  if (!checkpoint) return clt_fail(CLT_ERR_USAGE, "clt_session_resume: no checkpoint given");
  return open_with(config, model_path, NULL, 0, checkpoint, overrides, out);
}

clt_status clt_session_open_checkpoint(const clt_config *config, const char *checkpoint, int batch,
                                       clt_session **out) {
  if (!out) return clt_fail(CLT_ERR_USAGE, "clt_session_open_checkpoint: out is NULL");
  *out = NULL;
  if (!checkpoint)
    return clt_fail(CLT_ERR_USAGE, "clt_session_open_checkpoint: no checkpoint given");
  clt_session *s = NULL;
  clt_status st = session_new(config, &s);
  if (!s) return st;
  clt_warning_route old = clt_session_route_warnings(s);
  s->inference = 1;
  if (st == CLT_OK) st = clt_inference_open(checkpoint, &s->o.dev, batch, &s->inf);
  if (st == CLT_OK) {
    s->model = s->inf.model;
    s->ctx = s->inf.ctx;
    s->net = s->inf.net;
    *s->ro = s->inf.run;
    s->pos = s->inf.ck.pos;
  }
  st = finish_open(s, st, out);
  clt_warning_route_set(old);
  return st;
}

void clt_session_close(clt_session *s) {
  if (!s) return;
  if (s->inference) {
    clt_inference_close(&s->inf);
  } else {
    if (s->names && s->model)
      for (int i = 0; i < s->model->classes; i++) free(s->names[i]);
    clt_replicas_destroy(s->reps);
    clt_network_destroy(s->net);
    clt_optim_destroy(s->opt);
    clt_ctx_destroy(s->ctx);
    clt_model_free(s->model);
  }
  free(s->names);
  clt_device_specs_free(s->specs, s->spec_count);
  clt_peers_close(s->peers);
  clt_eval_result_free(&s->report);
  free(s->report_scores);
  clt_checkpoint_free(&s->ck);
  clt_session_free_data(&s->data);
  free(s->ro);
  if (s->notes) fclose(s->notes);
  free(s->notes_buf);
  for (int i = 0; i < s->string_count; i++) free(s->strings[i]);
  free(s);
}

clt_status clt_session_train(clt_session *s, const clt_callbacks *callbacks, int *stopped) {
  if (stopped) *stopped = 0;
  if (!s) return clt_fail(CLT_ERR_USAGE, "clt_session_train: no session");
  if (s->inference)
    return clt_fail(CLT_ERR_USAGE, "a session opened for inference cannot train: resume the "
                                   "checkpoint instead (clt_session_resume)");
  clt_warning_route old = clt_session_route_warnings(s);
  epoch_sink sink;
  memset(&sink, 0, sizeof sink);
  copy_sized(&sink.cb, sizeof sink.cb, callbacks);
  clt_status st = train_run(s, &sink);
  notes_flush(s);
  if (st == CLT_OK && stopped) *stopped = sink.stop;
  clt_warning_route_set(old);
  return st;
}

/* The test split of a folder (IDX, CIFAR-10 or images fitted to the model's input, with the
 * run's skip_bad_images), checked against the model's input. */
clt_status clt_session_load_test(clt_session *s, const char *dir, clt_dataset *ds) {
  clt_notes_sink notes = {s->notes, notes_hand_on, s};
  CLT_TRY(clt_train_load_images(dir, s->model, CLT_FOLDER_TEST, &s->o.dev, s->ro->skip_bad_images,
                                0, ds, s->notes ? &notes : NULL));
  return clt_data_check_model(ds, s->model, "test set", dir);
}

clt_status clt_session_evaluate(clt_session *s, const char *data, double *loss, double *accuracy,
                                int *samples) {
  if (loss) *loss = 0;
  if (accuracy) *accuracy = 0;
  if (samples) *samples = 0;
  if (!s) return clt_fail(CLT_ERR_USAGE, "clt_session_evaluate: no session");
  clt_warning_route old = clt_session_route_warnings(s);
  clt_dataset own;
  memset(&own, 0, sizeof own);
  const clt_dataset *ds = data ? &own : &s->data.test;
  clt_status st = data ? clt_session_load_test(s, data, &own) : CLT_OK;
  double l = 0, a = 0;
  if (st == CLT_OK && ds->n > 0) st = clt_evaluate(s->net, ds, s->ro->stream, &l, &a);
  if (st == CLT_OK) {
    if (loss) *loss = l;
    if (accuracy) *accuracy = a;
    if (samples) *samples = ds->n;
  }
  clt_dataset_free(&own);
  clt_warning_route_set(old);
  return st;
}

clt_status clt_session_predict(clt_session *s, const float *images, int count,
                               float *probabilities) {
  if (!s || !images || !probabilities || count < 0)
    return clt_fail(CLT_ERR_USAGE, "clt_session_predict: a session, images and room for the "
                                   "probabilities are needed, and a count of 0 or more");
  clt_warning_route old = clt_session_route_warnings(s);
  size_t sample = clt_shape_size(s->model->input);
  int k = s->model->classes, b = s->net->batch;
  clt_status st = CLT_OK;
  for (int start = 0; start < count && st == CLT_OK; start += b) {
    int n = count - start < b ? count - start : b;
    st = clt_infer(s->net, images + (size_t)start * sample, NULL, n,
                   probabilities + (size_t)start * (size_t)k);
  }
  clt_warning_route_set(old);
  return st;
}

clt_status clt_session_save(clt_session *s, const char *path) {
  if (!s || !path || !*path) return clt_fail(CLT_ERR_USAGE, "clt_session_save: no path given");
  if (s->inference)
    return clt_fail(CLT_ERR_USAGE, "a session opened for inference holds no training data to "
                                   "record: resume the checkpoint to save it again");
  clt_warning_route old = clt_session_route_warnings(s);
  clt_run_options *ro = malloc(sizeof *ro);
  clt_status st = ro ? CLT_OK : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving");
  saver sv;
  memset(&sv, 0, sizeof sv);
  char *layout = s->reps ? clt_replicas_layout_text(s->reps) : NULL;
  if (st == CLT_OK && s->reps && !layout)
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving");
  if (st == CLT_OK) {
    *ro = *s->ro;
    clt_session_copy_path(ro->save, path);
    ro->keep_best = 0;
    st = clt_saver_init(&sv, s->net, s->model, ro, &s->data, NULL, layout);
  }
  if (st == CLT_OK) st = clt_saver_save(&s->pos, NULL, 0, &sv);
  clt_checkpoint_free(&sv.ck);
  free(layout);
  free(ro);
  clt_warning_route_set(old);
  return st;
}
