/* See batch_speed.h. A step is the trainer's (batch gather, zeroed gradients, forward,
 * backward, optimizer) without the metric read-back. */
#include "train/batch_speed.h"
#include "train/train_step.h"

#include <stdlib.h>

#include "nn/network.h"
#include "runtime/clock.h"
#include "train/device_data.h"

/* Two batches of random pixels in [0, 1) and labels of every class. */
static clt_status random_set(const clt_model *m, int batch, clt_dataset *ds, int32_t **order) {
  int n = 2 * batch;
  size_t sample = clt_shape_size(m->input);
  ds->n = n;
  ds->h = m->input.h;
  ds->w = m->input.w;
  ds->c = m->input.c;
  ds->classes = m->classes;
  ds->images = malloc((size_t)n * sample * sizeof(float));
  ds->labels = malloc((size_t)n * sizeof(int32_t));
  *order = malloc((size_t)n * sizeof(int32_t));
  if (!ds->images || !ds->labels || !*order)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "out of host memory for measuring the automatic batch's speed");
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < (size_t)n * sample; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ds->images[i] = (float)(x >> 8) / 16777216.0f;
  }
  for (int i = 0; i < n; i++) {
    ds->labels[i] = i % (m->classes > 0 ? m->classes : 1);
    (*order)[i] = i;
  }
  return CLT_OK;
}

static clt_status step(clt_network *net, clt_device_data *dd, clt_optim *opt, long t) {
  CLT_TRY(clt_device_data_load(dd, (int)(t % 2) * net->batch, net->batch, net->input, net->labels));
  return clt_train_step(net, opt, net->batch, t, 1e-4, NULL);
}

clt_status clt_batch_images_per_second(clt_model *model, clt_ctx *ctx, clt_optim *opt,
                                       int optimizer_blocks, int batch, double seconds,
                                       double *images_per_s) {
  clt_dataset ds = {0};
  int32_t *order = NULL;
  clt_network *net = NULL;
  clt_device_data *dd = NULL;
  clt_status st = random_set(model, batch, &ds, &order);
  if (st == CLT_OK)
    st = clt_network_create(model, ctx, batch, optimizer_blocks, model->recipe.seed, &net);
  if (st == CLT_OK) st = clt_device_data_create(ctx, &ds, batch, 0, &dd);
  if (st == CLT_OK) st = clt_device_data_set_order(dd, order);
  long t = 0;
  if (st == CLT_OK) st = step(net, dd, opt, t++); /* warm-up: first use of each kernel */
  if (st == CLT_OK) st = clt_ctx_finish(ctx);
  double t0 = clt_now_seconds(), elapsed = 0.0;
  long timed = 0;
  while (st == CLT_OK && (timed < 2 || elapsed < seconds)) {
    st = step(net, dd, opt, t++);
    if (st == CLT_OK) st = clt_ctx_finish(ctx);
    timed++;
    elapsed = clt_now_seconds() - t0;
  }
  if (st == CLT_OK) *images_per_s = elapsed > 0.0 ? (double)timed * batch / elapsed : 0.0;
  if (ctx) clt_ctx_finish(ctx);
  clt_device_data_destroy(dd);
  clt_network_destroy(net);
  free(ds.images);
  free(ds.labels);
  free(order);
  return st;
}
