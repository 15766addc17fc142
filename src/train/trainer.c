#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "nn/metrics.h"
#include "optim/schedule.h"
#include "runtime/profile.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static clt_status non_finite(long step) {
  return clt_fail(CLT_ERR_NON_FINITE,
                  "the loss became NaN or infinite by step %ld; lower the learning rate (--lr) "
                  "or check the input data",
                  step);
}

static clt_status read_means(clt_network *net, double *loss, double *acc, long step) {
  float m[CLT_METRIC_FLOATS];
  CLT_TRY(clt_network_read_metrics(net, m));
  if (m[CLT_METRIC_NONFINITE] > 0.0f || !isfinite(m[CLT_METRIC_LOSS_SUM])) return non_finite(step);
  double count = m[CLT_METRIC_COUNT] > 0.0f ? m[CLT_METRIC_COUNT] : 1.0;
  *loss = m[CLT_METRIC_LOSS_SUM] / count;
  *acc = m[CLT_METRIC_CORRECT] / count;
  return CLT_OK;
}

static clt_status evaluate_on(clt_network *net, clt_device_data *dd, int n, double *loss,
                              double *acc) {
  CLT_TRY(clt_network_zero_metrics(net));
  for (int start = 0; start < n; start += net->batch) {
    int count = n - start < net->batch ? n - start : net->batch;
    CLT_TRY(clt_device_data_load(dd, start, count, net->input, net->labels));
    CLT_TRY(clt_network_forward(net, count, 0, 0));
  }
  return read_means(net, loss, acc, 0);
}

clt_status clt_evaluate(clt_network *net, const clt_dataset *ds, int force_stream, double *loss,
                        double *accuracy) {
  clt_device_data *dd = NULL;
  int32_t *order = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *order);
  if (!order) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the evaluation");
  for (int i = 0; i < ds->n; i++) order[i] = i;
  clt_status st = clt_device_data_create(net->ctx, ds, net->batch, force_stream, &dd);
  if (st == CLT_OK) st = clt_device_data_set_order(dd, order);
  if (st == CLT_OK) st = evaluate_on(net, dd, ds->n, loss, accuracy);
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
  clt_device_data *train_data, *val_data;
  int32_t *order, *val_order;
  long global_step, total_steps;
  int steps_per_epoch;
} run_state;

/* One optimisation step on samples [start, start + n) of the epoch's order. */
static clt_status train_step(run_state *rs, int start, int n, double lr) {
  clt_network *net = rs->net;
  uint32_t step = (uint32_t)rs->global_step;
  clt_profiler_scope(net->ctx, "data");
  CLT_TRY(clt_device_data_load(rs->train_data, start, n, net->input, net->labels));
  clt_profiler_scope(net->ctx, "zero gradients");
  CLT_TRY(clt_network_zero_grads(net));
  CLT_TRY(clt_network_forward(net, n, 1, step));
  CLT_TRY(clt_network_backward(net, n, step));
  clt_profiler_scope(net->ctx, "optimizer");
  CLT_TRY(clt_optim_step(rs->opt, net->params.mem, net->grads.mem, net->optimizer.mem,
                         clt_network_param_arena_floats(net), lr, rs->global_step + 1));
  rs->global_step++;
  return CLT_OK;
}

static clt_status run_epoch(run_state *rs, int epoch, const clt_dataset *train) {
  const clt_recipe *r = &rs->cfg->recipe;
  clt_network *net = rs->net;
  clt_shuffle_order(r->seed, (uint32_t)epoch, train->n, rs->order);
  CLT_TRY(clt_device_data_set_order(rs->train_data, rs->order));
  CLT_TRY(clt_network_zero_metrics(net));
  double t0 = now_seconds(), loss = 0, acc = 0, lr = r->learning_rate;
  int read_every = rs->cfg->read_every > 0 ? rs->cfg->read_every : 20;
  for (int s = 0; s < rs->steps_per_epoch; s++) {
    int start = s * net->batch;
    int n = train->n - start < net->batch ? train->n - start : net->batch;
    lr = clt_schedule_lr(r, rs->global_step, rs->total_steps, rs->steps_per_epoch);
    CLT_TRY(train_step(rs, start, n, lr));
    int last = s + 1 == rs->steps_per_epoch;
    if ((s + 1) % read_every == 0 || last) {
      CLT_TRY(read_means(net, &loss, &acc, rs->global_step));
      if (rs->cb && rs->cb->progress) {
        double el = now_seconds() - t0;
        double images = (double)start + n;
        clt_progress p = {epoch + 1, r->epochs, s + 1, rs->steps_per_epoch,        rs->global_step,
                          loss,      acc,       el,    el > 0 ? images / el : 0.0, lr};
        rs->cb->progress(&p, rs->cb->user);
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
  rep.seconds = now_seconds() - t0;
  rep.images_per_second = rep.seconds > 0 ? train->n / rep.seconds : 0;
  if (rs->val_data) {
    CLT_TRY(evaluate_on(net, rs->val_data, rs->val_data->ds->n, &rep.val_loss, &rep.val_accuracy));
    rep.has_validation = 1;
  }
  if (rs->cb && rs->cb->epoch_end) rs->cb->epoch_end(&rep, rs->cb->user);
  return CLT_OK;
}

clt_status clt_train(clt_network *net, clt_optim *opt, const clt_dataset *train,
                     const clt_dataset *val, const clt_train_config *cfg,
                     const clt_train_callbacks *cb) {
  if (train->n < 1) return clt_fail(CLT_ERR_BAD_DATA, "the training set is empty");
  run_state rs = {net, opt, cfg, cb, NULL, NULL, NULL, NULL, 0, 0, 0};
  rs.steps_per_epoch = (train->n + net->batch - 1) / net->batch;
  rs.total_steps = (long)rs.steps_per_epoch * cfg->recipe.epochs;
  rs.order = malloc((size_t)train->n * sizeof *rs.order);
  rs.val_order = malloc((size_t)(val && val->n > 0 ? val->n : 1) * sizeof *rs.val_order);
  clt_status st = CLT_OK;
  if (!rs.order || !rs.val_order)
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the sample order");
  if (st == CLT_OK)
    st = clt_device_data_create(net->ctx, train, net->batch, cfg->force_stream, &rs.train_data);
  if (st == CLT_OK && val && val->n > 0) {
    for (int i = 0; i < val->n; i++) rs.val_order[i] = i;
    st = clt_device_data_create(net->ctx, val, net->batch, cfg->force_stream, &rs.val_data);
    if (st == CLT_OK) st = clt_device_data_set_order(rs.val_data, rs.val_order);
  }
  for (int e = 0; e < cfg->recipe.epochs && st == CLT_OK; e++) st = run_epoch(&rs, e, train);
  if (st == CLT_OK)
    st = clt_ctx_finish(net->ctx);
  else
    clt_ctx_finish(net->ctx); /* buffers below may still be in use by the queue */
  clt_device_data_destroy(rs.train_data);
  clt_device_data_destroy(rs.val_data);
  free(rs.order);
  free(rs.val_order);
  return st;
}
