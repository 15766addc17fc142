#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/metrics.h"
#include "optim/schedule.h"
#include "runtime/memory.h"
#include "runtime/profile.h"
#include "runtime/clock.h"
#include "train/augment.h"
#include "train/replicas.h"
#include "train/train_step.h"
#include "train/data_check.h"

/* read_step: the step after which the host looked; first: the step the device guard
 * recorded (0 when only the metrics flag was seen, e.g. in a validation pass). */
static clt_status non_finite(long read_step, long first) {
  if (first > 0 && first == read_step)
    return clt_fail(CLT_ERR_NON_FINITE,
                    "the loss became NaN or infinite at step %ld; lower the learning rate "
                    "or check the input data",
                    first);
  if (first > 0)
    return clt_fail(CLT_ERR_NON_FINITE,
                    "the loss became NaN or infinite by step %ld (first at step %ld); lower the "
                    "learning rate or check the input data",
                    read_step, first);
  return clt_fail(CLT_ERR_NON_FINITE,
                  "the loss became NaN or infinite by step %ld; lower the learning rate "
                  "or check the input data",
                  read_step);
}

/* Blocking read of the metrics (and of the guard when there is one): the means, and the
 * raw accumulators into raw when non-NULL. */
static clt_status read_metrics(clt_network *net, cl_mem guard, long step, double *loss, double *acc,
                               float *raw) {
  float m[CLT_METRIC_FLOATS];
  cl_uint first = 0;
  CLT_TRY(clt_network_read_metrics(net, m));
  if (guard) CLT_TRY(clt_buffer_read(net->ctx, guard, 0, sizeof first, &first));
  if (first != 0 || m[CLT_METRIC_NONFINITE] > 0.0f || !isfinite(m[CLT_METRIC_LOSS_SUM]))
    return non_finite(step, (long)first);
  double count = m[CLT_METRIC_COUNT] > 0.0f ? m[CLT_METRIC_COUNT] : 1.0;
  *loss = m[CLT_METRIC_LOSS_SUM] / count;
  *acc = m[CLT_METRIC_CORRECT] / count;
  if (raw) memcpy(raw, m, sizeof m);
  return CLT_OK;
}

/* An inference pass; after_step: the training step it follows (validation), or -1. */
static clt_status evaluate_on(clt_network *net, clt_device_data *dd, int n, double *loss,
                              double *acc, long after_step) {
  CLT_TRY(clt_network_zero_metrics(net));
  for (int start = 0; start < n; start += net->batch) {
    int count = n - start < net->batch ? n - start : net->batch;
    CLT_TRY(clt_device_data_load(dd, start, count, net->input, net->labels));
    CLT_TRY(clt_network_forward(net, count, 0, 0));
  }
  clt_status st = read_metrics(net, NULL, after_step, loss, acc, NULL);
  if (st == CLT_ERR_NON_FINITE && after_step >= 0)
    return clt_fail(st,
                    "the validation loss became NaN or infinite after step %ld; lower the "
                    "learning rate or check the input data",
                    after_step);
  if (st == CLT_ERR_NON_FINITE)
    return clt_fail(st, "the loss on the evaluated data is NaN or infinite: the parameters or the "
                        "data hold NaN or infinite values");
  return st;
}

clt_status clt_evaluate(clt_network *net, const clt_dataset *ds, int force_stream, double *loss,
                        double *accuracy) {
  /* A set of another shape would make the batch gather write past the input buffer. */
  CLT_TRY(clt_data_check_model(ds, net->model, "evaluated set", "the data given"));
  clt_device_data *dd = NULL;
  int32_t *order = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *order);
  if (!order) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the evaluation");
  for (int i = 0; i < ds->n; i++) order[i] = i;
  clt_status st = clt_device_data_create(net->ctx, ds, net->batch, force_stream, &dd);
  if (st == CLT_OK) st = clt_device_data_set_order(dd, order);
  if (st == CLT_OK) st = evaluate_on(net, dd, ds->n, loss, accuracy, -1);
  if (st == CLT_OK) st = clt_ctx_finish(net->ctx);
  clt_device_data_destroy(dd);
  free(order);
  return st;
}

typedef struct run_state {
  clt_network *net;
  clt_optim *opt;
  const clt_train_config *cfg;
  const clt_train_callbacks *cb;
  clt_train_saving saving;
  clt_device_data *train_data, *val_data;
  int32_t *order, *val_order;
  long global_step, total_steps;
  int steps_per_epoch;
  cl_mem guard; /* [1] uint: first non-finite step (cl/guard.cl) */
  clt_kernel guard_kernel;
  clt_augmenter augment; /* training batches only */
  int has_best;
  double best_val_accuracy;
  int stopped;                /* a callback asked to stop */
  clt_train_position reached; /* where a stop left the run */
  clt_replicas *reps;         /* NULL: one device, one process */
} run_state;

/* read_metrics over every lane and rank: the sums of the accumulators; every rank stops
 * when any lane of any rank saw a non-finite loss. */
static clt_status read_all_metrics(run_state *rs, long step, double *loss, double *acc,
                                   float *raw) {
  clt_replicas *r = rs->reps;
  float sum[CLT_METRIC_FLOATS] = {0};
  cl_uint first = 0;
  for (int l = 0; l < r->lanes; l++) {
    float m[CLT_METRIC_FLOATS];
    cl_uint f = 0;
    CLT_TRY(clt_network_read_metrics(r->lane[l].net, m));
    CLT_TRY(clt_buffer_read(r->lane[l].ctx, r->lane[l].guard, 0, sizeof f, &f));
    for (int i = 0; i < CLT_METRIC_FLOATS; i++) sum[i] += m[i];
    if (f != 0 && (first == 0 || f < first)) first = f;
  }
  double d[CLT_METRIC_FLOATS];
  for (int i = 0; i < CLT_METRIC_FLOATS; i++) d[i] = sum[i];
  CLT_TRY(clt_peers_sum_doubles(r->peers, d, CLT_METRIC_FLOATS));
  int bad = first != 0 || d[CLT_METRIC_NONFINITE] > 0.0 || !isfinite(d[CLT_METRIC_LOSS_SUM]);
  CLT_TRY(clt_peers_max_int(r->peers, &bad));
  if (bad) return non_finite(step, (long)first);
  double count = d[CLT_METRIC_COUNT] > 0.0 ? d[CLT_METRIC_COUNT] : 1.0;
  *loss = d[CLT_METRIC_LOSS_SUM] / count;
  *acc = d[CLT_METRIC_CORRECT] / count;
  if (raw)
    for (int i = 0; i < CLT_METRIC_FLOATS; i++) raw[i] = (float)d[i];
  return CLT_OK;
}

/* Every rank agrees on a stop asked for on any of them. */
static clt_status agree_stop(run_state *rs) {
  if (!rs->reps || !rs->cb || !rs->cb->stop) return CLT_OK;
  int stop = *rs->cb->stop != 0;
  CLT_TRY(clt_peers_max_int(rs->reps->peers, &stop));
  if (stop && !*rs->cb->stop) *(int *)rs->cb->stop = 1;
  return CLT_OK;
}

/* One optimisation step on samples [start, start + n) of the epoch's order. */
static clt_status train_step(run_state *rs, int start, int n, double lr) {
  clt_network *net = rs->net;
  if (rs->reps) {
    CLT_TRY(clt_replicas_step(rs->reps, start, n, rs->global_step, lr));
    rs->global_step++;
    return CLT_OK;
  }
  uint32_t step = (uint32_t)rs->global_step;
  clt_profiler_scope(net->ctx, "data");
  CLT_TRY(clt_device_data_load(rs->train_data, start, n,
                               clt_augmenter_target(&rs->augment, net->input), net->labels));
  if (rs->augment.active) {
    clt_profiler_scope(net->ctx, "augment");
    CLT_TRY(clt_augmenter_apply(&rs->augment, net->ctx, net->input, n, step, 0));
  }
  clt_step_guard guard = {&rs->guard_kernel, rs->guard};
  CLT_TRY(clt_train_step(net, rs->opt, n, rs->global_step, lr, &guard));
  rs->global_step++;
  return CLT_OK;
}

static void fill_position(const run_state *rs, int epoch, int step, const float *metrics,
                          double seconds, clt_train_position *pos) {
  memset(pos, 0, sizeof *pos);
  pos->epoch = epoch;
  pos->step = step;
  pos->global_step = rs->global_step;
  if (metrics) memcpy(pos->metrics, metrics, sizeof pos->metrics);
  pos->epoch_seconds = seconds;
  pos->has_best = rs->has_best;
  pos->best_val_accuracy = rs->best_val_accuracy;
}

/* Runs epoch from its step first_step (0, or where a checkpoint left off). */
static clt_status run_epoch(run_state *rs, int epoch, int first_step, const clt_dataset *train) {
  const clt_recipe *r = &rs->cfg->recipe;
  const clt_train_position *start = &rs->saving.start;
  clt_network *net = rs->net;
  if (train->source) /* streamed data keep their own order (data/csv_stream.h) */
    CLT_TRY(train->source->begin_epoch(train->source->self, r->seed, epoch));
  else
    clt_shuffle_order(r->seed, (uint32_t)epoch, train->n, rs->order);
  CLT_TRY(clt_device_data_set_order(rs->train_data, rs->order));
  CLT_TRY(clt_network_zero_metrics(net));
  for (int l = 1; rs->reps && l < rs->reps->lanes; l++) {
    CLT_TRY(clt_device_data_set_order(rs->reps->lane[l].data, rs->order));
    CLT_TRY(clt_network_zero_metrics(rs->reps->lane[l].net));
  }
  double t0 = clt_now_seconds(), loss = 0, acc = 0, lr = r->learning_rate;
  /* The accumulators saved are the sums over every replica: rank 0's lane 0 takes them. */
  if (first_step > 0 && rs->reps && rs->reps->rank != 0)
    t0 -= start->epoch_seconds;
  else if (first_step > 0) {
    /* Resumed inside the epoch: its accumulators and clock go on from the checkpoint. */
    CLT_TRY(clt_buffer_write(net->ctx, net->metrics, 0, sizeof start->metrics, start->metrics));
    t0 -= start->epoch_seconds;
  }
  int read_every = rs->cfg->read_every > 0 ? rs->cfg->read_every : 20;
  /* With replicas every rank reads back at the save points (collective sums), saving or not. */
  int save_every = rs->saving.save || rs->reps ? rs->saving.save_every : 0;
  for (int s = first_step; s < rs->steps_per_epoch; s++) {
    int start_sample = s * net->batch;
    int n = train->n - start_sample < net->batch ? train->n - start_sample : net->batch;
    lr = clt_schedule_lr(r, rs->global_step, rs->total_steps, rs->steps_per_epoch);
    CLT_TRY(train_step(rs, start_sample, n, lr));
    int last = s + 1 == rs->steps_per_epoch;
    /* Mid-epoch saves; the last step's state is saved at the epoch end, after validation. */
    int save = save_every > 0 && rs->global_step % save_every == 0 && !last;
    if ((s + 1) % read_every == 0 || last || save) {
      float raw[CLT_METRIC_FLOATS];
      if (rs->reps)
        CLT_TRY(read_all_metrics(rs, rs->global_step, &loss, &acc, raw));
      else
        CLT_TRY(read_metrics(net, rs->guard, rs->global_step, &loss, &acc, raw));
      double el = clt_now_seconds() - t0;
      if (rs->cb && rs->cb->progress && ((s + 1) % read_every == 0 || last)) {
        double images = (double)start_sample + n;
        clt_progress p = {epoch + 1, r->epochs, s + 1, rs->steps_per_epoch,        rs->global_step,
                          loss,      acc,       el,    el > 0 ? images / el : 0.0, lr};
        rs->cb->progress(&p, rs->cb->user);
        CLT_TRY(agree_stop(rs));
        if (rs->cb->stop && *rs->cb->stop) {
          fill_position(rs, epoch, s + 1, raw, el, &rs->reached);
          rs->stopped = 1;
          if (s + 1 < rs->steps_per_epoch) return CLT_OK; /* else: the epoch ends as usual */
        }
      }
      if (save) {
        if (rs->reps) CLT_TRY(clt_replicas_sync(rs->reps));
        clt_train_position pos;
        fill_position(rs, epoch, s + 1, raw, el, &pos);
        if (rs->saving.save) CLT_TRY(rs->saving.save(&pos, NULL, 0, rs->saving.user));
      }
    }
  }
  clt_epoch_report rep = {0};
  rep.epoch = epoch + 1;
  rep.epochs = r->epochs;
  rep.global_step = rs->global_step;
  rep.loss = loss;
  rep.accuracy = acc;
  rep.learning_rate = lr;
  rep.seconds = clt_now_seconds() - t0;
  rep.images_per_second = rep.seconds > 0 ? train->n / rep.seconds : 0;
  /* Lanes of other vendors may round the optimizer differently: lane 0's state to all. */
  if (rs->reps) CLT_TRY(clt_replicas_sync(rs->reps));
  if (rs->val_data && (!rs->reps || rs->reps->rank == 0)) {
    CLT_TRY(evaluate_on(net, rs->val_data, rs->val_data->ds->n, &rep.val_loss, &rep.val_accuracy,
                        rs->global_step));
    rep.has_validation = 1;
  }
  if (rs->cb && rs->cb->epoch_end) rs->cb->epoch_end(&rep, rs->cb->user);
  CLT_TRY(agree_stop(rs));
  if (rs->cb && rs->cb->stop && *rs->cb->stop) rs->stopped = 1;
  int new_best = 0;
  int better = rs->cfg->lower_is_better ? rep.val_accuracy < rs->best_val_accuracy
                                        : rep.val_accuracy > rs->best_val_accuracy;
  if (rep.has_validation && (!rs->has_best || better)) {
    rs->has_best = 1;
    rs->best_val_accuracy = rep.val_accuracy;
    new_best = 1;
  }
  fill_position(rs, epoch + 1, 0, NULL, 0.0, &rs->reached);
  if (rs->saving.save) {
    clt_train_position pos;
    fill_position(rs, epoch + 1, 0, NULL, 0.0, &pos);
    CLT_TRY(rs->saving.save(&pos, &rep, new_best, rs->saving.user));
  }
  return CLT_OK;
}

/* A start position must fit this run: the checkpoint's batch and data give the same
 * number of steps per epoch. */
static clt_status check_start(const run_state *rs, const clt_train_position *p, int epochs) {
  if (p->epoch < 0 || p->step < 0 || p->step >= rs->steps_per_epoch ||
      p->global_step != (long)p->epoch * rs->steps_per_epoch + p->step)
    return clt_fail(CLT_ERR_USAGE,
                    "cannot resume at step %d of epoch %d (global step %ld) with %d steps per "
                    "epoch: the batch size or the training data differ from the checkpoint's run",
                    p->step, p->epoch + 1, p->global_step, rs->steps_per_epoch);
  if (p->epoch >= epochs)
    return clt_fail(
        CLT_ERR_USAGE,
        "the checkpoint has finished %d epochs already and the run's epochs setting is %d "
        "(the total, as in Keras): set epochs to %d or more to train further",
        p->epoch, epochs, p->epoch + 1);
  return CLT_OK;
}

clt_status clt_train(clt_network *net, clt_optim *opt, const clt_dataset *train,
                     const clt_dataset *val, const clt_train_config *cfg,
                     const clt_train_callbacks *cb) {
  return clt_train_resumable(net, opt, train, val, cfg, cb, NULL);
}

clt_status clt_train_resumable(clt_network *net, clt_optim *opt, const clt_dataset *train,
                               const clt_dataset *val, const clt_train_config *cfg,
                               const clt_train_callbacks *cb, const clt_train_saving *saving) {
  if (train->n < 1) return clt_fail(CLT_ERR_BAD_DATA, "the training set is empty");
  CLT_TRY(clt_data_check_model(train, net->model, "training set", "the data given"));
  if (val && val->n > 0)
    CLT_TRY(clt_data_check_model(val, net->model, "validation set", "the data given"));
  run_state rs;
  memset(&rs, 0, sizeof rs);
  rs.net = net;
  rs.opt = opt;
  rs.cfg = cfg;
  rs.cb = cb;
  rs.reps = cfg->replicas;
  if (saving) rs.saving = *saving;
  const clt_train_position *start = &rs.saving.start;
  rs.steps_per_epoch = (train->n + net->batch - 1) / net->batch;
  rs.total_steps = (long)rs.steps_per_epoch * cfg->recipe.epochs;
  rs.global_step = start->global_step;
  rs.has_best = start->has_best;
  rs.best_val_accuracy = start->best_val_accuracy;
  rs.order = malloc((size_t)(train->source ? 1 : train->n) * sizeof *rs.order);
  rs.val_order = malloc((size_t)(val && val->n > 0 && !val->source ? val->n : 1) *
                        sizeof *rs.val_order); /* streamed data read in file order */
  clt_status st = check_start(&rs, start, cfg->recipe.epochs);
  if (st == CLT_OK && (!rs.order || !rs.val_order))
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the sample order");
  if (st == CLT_OK)
    st = clt_kernel_create(net->ctx, "guard.cl", "nonfinite_guard", "", &rs.guard_kernel);
  if (st == CLT_OK) st = clt_buffer_create(net->ctx, sizeof(cl_uint), &rs.guard);
  if (st == CLT_OK) st = clt_buffer_zero(net->ctx, rs.guard, 0, sizeof(cl_uint));
  if (st == CLT_OK) st = clt_augmenter_for_network(net, &cfg->recipe, &rs.augment);
  if (st == CLT_OK)
    st = clt_device_data_create(net->ctx, train, net->batch, cfg->force_stream, &rs.train_data);
  if (st == CLT_OK) rs.train_data->wait = cfg->data_wait;
  if (st == CLT_OK && val && val->n > 0) {
    for (int i = 0; i < val->n && !val->source; i++) rs.val_order[i] = i;
    st = clt_device_data_create(net->ctx, val, net->batch, cfg->force_stream, &rs.val_data);
    if (st == CLT_OK) st = clt_device_data_set_order(rs.val_data, rs.val_order);
  }
  if (st == CLT_OK && rs.reps)
    st = clt_replicas_train_begin(rs.reps, train, cfg->force_stream, &cfg->recipe, rs.train_data,
                                  &rs.augment, rs.guard, &rs.guard_kernel);
  for (int e = start->epoch; e < cfg->recipe.epochs && st == CLT_OK && !rs.stopped; e++)
    st = run_epoch(&rs, e, e == start->epoch ? start->step : 0, train);
  if (st == CLT_OK && saving && saving->reached) *saving->reached = rs.reached;
  if (st == CLT_OK)
    st = clt_ctx_finish(net->ctx);
  else
    clt_ctx_finish(net->ctx); /* buffers below may still be in use by the queue */
  clt_replicas_train_end(rs.reps);
  clt_device_data_destroy(rs.train_data);
  clt_device_data_destroy(rs.val_data);
  clt_buffer_release(&rs.guard);
  clt_kernel_release(&rs.guard_kernel);
  clt_augmenter_release(&rs.augment);
  free(rs.order);
  free(rs.val_order);
  return st;
}
