/* [mse]: the regression head, mean squared error (cl/mse.cl).
 *
 * Input: predictions [N, 1, 1, 1] (a [dense] with units = 1). Output y: the predictions.
 * With targets (the labels buffer holds each target's float bits), forward computes the
 * per-sample squared error and absolute error into saved and adds the batch sums into
 * pass->metrics: CLT_METRIC_LOSS_SUM gets the squared errors (loss = MSE), and
 * CLT_METRIC_CORRECT the absolute errors (its mean is the MAE, reported instead of accuracy).
 * In training it writes dx = 2 (x - t) / N; backward has nothing left to do. */
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "nn/layers/head_reduce.h"
#include "nn/metrics.h"
#include "runtime/program.h"

typedef struct mse_layer {
  clt_kernel forward_k;
  clt_head_reduce reduce; /* the metric sums */
  int prepared;
} mse_layer;

static clt_status mse_parse(const clt_ini_section *sec, void **self) {
  (void)sec; /* no keys */
  mse_layer *s = calloc(1, sizeof *s);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [mse]");
  *self = s;
  return CLT_OK;
}

static clt_status mse_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  (void)self;
  if (in.h != 1 || in.w != 1 || in.c != 1)
    return clt_ini_section_fail(sec,
                                "takes one prediction per sample but gets %dx%dx%d; add a [dense] "
                                "layer with units = 1 before [mse]",
                                in.h, in.w, in.c);
  *out = in;
  return CLT_OK;
}

static void mse_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  (void)self;
  *sizes = (clt_layer_sizes){0};
  sizes->saved_floats = 2 * (size_t)batch; /* squared errors, then absolute errors */
  sizes->needs_labels = 1;
}

static clt_status mse_prepare(void *self, clt_ctx *ctx) {
  mse_layer *s = self;
  if (s->prepared) return CLT_OK;
  CLT_TRY(clt_kernel_create(ctx, "mse.cl", "mse_forward", "", &s->forward_k));
  clt_status st = clt_head_reduce_prepare(ctx, &s->reduce);
  if (st != CLT_OK) {
    clt_kernel_release(&s->forward_k);
    return st;
  }
  s->prepared = 1;
  return CLT_OK;
}

static clt_status mse_forward(void *self, const clt_pass *pass) {
  mse_layer *s = self;
  if (!s->prepared)
    return clt_fail(CLT_ERR_INTERNAL, "[mse] forward before prepare (a bug in the caller)");
  int n = pass->batch;
  if (n <= 0) return CLT_OK;
  int has_targets = pass->labels != NULL;
  if (has_targets && !pass->saved)
    return clt_fail(CLT_ERR_INTERNAL, "[mse] has targets but no saved buffer (a bug)");
  int write_dx = pass->training && pass->dx != NULL;
  clt_kernel *k = &s->forward_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->y);
  clt_arg_mem(k, has_targets ? pass->labels : pass->x);
  clt_arg_int(k, has_targets);
  clt_arg_mem(k, has_targets ? pass->saved : pass->y);
  clt_arg_mem(k, write_dx ? pass->dx : pass->y);
  clt_arg_int(k, write_dx);
  clt_arg_int(k, n);
  clt_arg_int(k, pass->loss_divisor > n ? pass->loss_divisor : n);
  CLT_TRY(clt_run_1d(pass->ctx, k, (size_t)n));
  if (has_targets && pass->metrics) CLT_TRY(clt_head_reduce_run(&s->reduce, pass));
  return CLT_OK;
}

/* The input gradient was written by forward. */
static clt_status mse_backward(void *self, const clt_pass *pass) {
  (void)self;
  (void)pass;
  return CLT_OK;
}

static void mse_describe(const void *self, char *buf, size_t size) {
  (void)self;
  snprintf(buf, size, "mean squared error loss");
}

static void mse_destroy(void *self) {
  mse_layer *s = self;
  if (!s) return;
  clt_kernel_release(&s->forward_k);
  clt_head_reduce_release(&s->reduce);
  free(s);
}

const clt_layer_ops clt_layer_mse = {
    .name = "mse",
    .summary = "the regression head: mean squared error against a numeric target (MAE "
               "reported); must be last, after a [dense] with units = 1",
    .parse = mse_parse,
    .infer = mse_infer,
    .sizes = mse_sizes,
    .prepare = mse_prepare,
    .forward = mse_forward,
    .backward = mse_backward,
    .describe = mse_describe,
    .destroy = mse_destroy,
};
