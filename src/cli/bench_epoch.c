/* Whole epochs for `cltrain bench --data`, with the data wait of each. */
#include "cli/bench_epoch.h"

#include <stdio.h>
#include <string.h>

typedef struct epoch_sink {
  clt_data_wait *wait;
  clt_bench_epoch *out;
  int n, steps;
  const clt_dataset *ds;
  clt_status st;
} epoch_sink;

/* At each epoch end (its last step's metrics were read: the queue is idle), the epoch's
 * data wait, then zeroed for the next. */
static void epoch_end(const clt_epoch_report *r, void *user) {
  epoch_sink *k = user;
  if (k->st != CLT_OK || k->n >= r->epochs) return;
  k->st = clt_data_wait_collect(k->wait);
  clt_bench_epoch *e = &k->out[k->n++];
  e->epoch = r->epoch;
  e->images = k->ds->n;
  e->steps = k->steps;
  e->seconds = r->seconds;
  e->images_per_s = r->images_per_second;
  e->wait_ms = k->wait->wait_ms;
  e->max_wait_ms = k->wait->max_ms;
  e->waited_loads = k->wait->waited;
  e->busy_ms = k->wait->busy_ms;
  if (k->st == CLT_OK) k->st = clt_data_wait_reset(k->wait);
}

clt_status clt_bench_epochs_run(clt_network *net, clt_optim *opt, const clt_dataset *ds,
                                const clt_recipe *recipe, int epochs, int force_stream,
                                clt_bench_epoch *out) {
  memset(out, 0, (size_t)epochs * sizeof *out);
  if (!net->ctx->profiling)
    return clt_fail(CLT_ERR_INTERNAL, "the data wait needs a profiling context");
  clt_data_wait wait;
  memset(&wait, 0, sizeof wait);
  clt_train_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.recipe = *recipe;
  cfg.recipe.batch = net->batch;
  cfg.recipe.epochs = epochs;
  cfg.force_stream = force_stream;
  cfg.data_wait = &wait;
  epoch_sink sink = {&wait, out, 0, (ds->n + net->batch - 1) / net->batch, ds, CLT_OK};
  clt_train_callbacks cb = {NULL, epoch_end, &sink, NULL};
  clt_dataset no_val;
  memset(&no_val, 0, sizeof no_val);
  clt_status st = clt_train(net, opt, ds, &no_val, &cfg, &cb);
  if (st == CLT_OK) st = sink.st;
  clt_data_wait_free(&wait);
  return st;
}

void clt_bench_print_data_wait(const clt_data_wait *w, int resident, const char *data,
                               const clt_bench_epoch *epochs, int n_epochs) {
  double loads = w->loads > 0 ? (double)w->loads : 1.0;
  const char *mode = resident ? "resident" : "streamed";
  printf("data wait (compute queue idle for its batch): %.3f ms per step, max %.3f ms, %ld of "
         "%ld loads waited (%s); loads took %.3f ms per step on the device\n",
         w->wait_ms / loads, w->max_ms, w->waited, w->loads, mode, w->busy_ms / loads);
  for (int e = 0; data && epochs && e < n_epochs; e++) {
    const clt_bench_epoch *r = &epochs[e];
    printf("epoch %d of %s (%d images, %d steps, %s): %.2f s, %.1f images/s; data wait %.1f ms "
           "per epoch (%.2f%% of it; max %.3f ms, %ld of %d loads waited), loads %.1f ms\n",
           r->epoch, data, r->images, r->steps, mode, r->seconds, r->images_per_s, r->wait_ms,
           r->seconds > 0 ? 100.0 * r->wait_ms / (1000.0 * r->seconds) : 0.0, r->max_wait_ms,
           r->waited_loads, r->steps, r->busy_ms);
  }
}

void clt_bench_data_wait_json(cJSON *root, const clt_data_wait *w, int resident, const char *data,
                              const clt_bench_epoch *epochs, int n_epochs) {
  double loads = w->loads > 0 ? (double)w->loads : 1.0;
  cJSON_AddStringToObject(root, "data_mode", resident ? "resident" : "streamed");
  cJSON_AddNumberToObject(root, "data_wait_ms_per_step", w->wait_ms / loads);
  cJSON_AddNumberToObject(root, "data_wait_max_ms", w->max_ms);
  cJSON_AddNumberToObject(root, "data_load_device_ms_per_step", w->busy_ms / loads);
  if (!data || !epochs) return;
  cJSON_AddStringToObject(root, "data", data);
  cJSON *list = cJSON_AddArrayToObject(root, "epochs");
  for (int e = 0; e < n_epochs; e++) {
    const clt_bench_epoch *r = &epochs[e];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "epoch", r->epoch);
    cJSON_AddNumberToObject(j, "images", r->images);
    cJSON_AddNumberToObject(j, "steps", r->steps);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "images_per_s", r->images_per_s);
    cJSON_AddNumberToObject(j, "data_wait_ms", r->wait_ms);
    cJSON_AddNumberToObject(j, "data_wait_max_ms", r->max_wait_ms);
    cJSON_AddNumberToObject(j, "waited_loads", (double)r->waited_loads);
    cJSON_AddNumberToObject(j, "data_load_device_ms", r->busy_ms);
    cJSON_AddItemToArray(list, j);
  }
}
