/* [dropout]: inverted dropout (docs/INTERNALS.md "dropout"). Key rate in [0, 1).
 * Training: y = keep ? x / (1 - rate) : 0 with keep = clt_uniform(seed, stream, i) >= rate
 * for flat index i over the batch and stream = clt_stream(step, layer_index). The mask
 * is never stored: backward recomputes it from the same (seed, stream). Inference:
 * y = x (a buffer copy). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"
#include "runtime/rng.h"

typedef struct dropout_layer {
  double rate;
  clt_shape shape;
  clt_kernel apply_k;
  int prepared;
} dropout_layer;

static clt_status dropout_parse(const clt_ini_section *sec, void **self) {
  double rate;
  CLT_TRY(clt_ini_get_float_ex(sec, "rate", 0.0, 0.0, 1.0, CLT_INI_REQUIRED | CLT_INI_BELOW_MAX,
                               &rate));
  dropout_layer *d = calloc(1, sizeof *d);
  if (!d) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [dropout]");
  d->rate = rate;
  *self = d;
  return CLT_OK;
}

static clt_status dropout_infer(void *self, const clt_ini_section *sec, clt_shape in,
                                clt_shape *out) {
  (void)sec;
  dropout_layer *d = self;
  d->shape = in;
  *out = in;
  return CLT_OK;
}

static void dropout_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  (void)self;
  (void)batch;
  *sizes = (clt_layer_sizes){0};
}

static clt_status dropout_prepare(void *self, clt_ctx *ctx) {
  dropout_layer *d = self;
  if (d->prepared) return CLT_OK;
  CLT_TRY(clt_kernel_create(ctx, "dropout.cl", "dropout_apply", "", &d->apply_k));
  d->prepared = 1;
  return CLT_OK;
}

/* out = in masked and scaled (training) or copied (inference), over the whole batch. */
static clt_status dropout_run(dropout_layer *d, const clt_pass *pass, cl_mem in, cl_mem out) {
  if (!d->prepared) return clt_fail(CLT_ERR_INTERNAL, "[dropout] used before prepare (a bug)");
  size_t count = (size_t)pass->batch * clt_shape_size(d->shape);
  if (count == 0) return CLT_OK;
  if (!pass->training) {
    CLT_CL_CHECK(clEnqueueCopyBuffer(pass->ctx->compute, in, out, 0, 0, count * sizeof(float), 0,
                                     NULL, NULL));
    return CLT_OK;
  }
  if (count > INT_MAX)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "a [dropout] input of %zu values is over the 2^31 limit; lower the batch size",
                    count);
  clt_kernel *k = &d->apply_k;
  clt_arg_mem(k, in);
  clt_arg_mem(k, out);
  clt_arg_int(k, (int)count);
  clt_arg_uint(k, pass->sample_offset * (uint32_t)clt_shape_size(d->shape));
  clt_arg_uint(k, pass->seed);
  clt_arg_uint(k, clt_stream(pass->step, (uint32_t)pass->layer_index));
  clt_arg_float(k, (float)d->rate);
  clt_arg_float(k, (float)(1.0 / (1.0 - d->rate)));
  return clt_run_1d(pass->ctx, k, count);
}

static clt_status dropout_forward(void *self, const clt_pass *pass) {
  return dropout_run(self, pass, pass->x, pass->y);
}

static clt_status dropout_backward(void *self, const clt_pass *pass) {
  if (!pass->dx) return CLT_OK;
  return dropout_run(self, pass, pass->dy, pass->dx);
}

static void dropout_describe(const void *self, char *buf, size_t size) {
  const dropout_layer *d = self;
  snprintf(buf, size, "rate %g", d->rate);
}

static void dropout_destroy(void *self) {
  dropout_layer *d = self;
  if (!d) return;
  clt_kernel_release(&d->apply_k);
  free(d);
}

const clt_layer_ops clt_layer_dropout = {
    .name = "dropout",
    .summary = "inverted dropout in training, identity in inference (key: rate)",
    .parse = dropout_parse,
    .infer = dropout_infer,
    .sizes = dropout_sizes,
    .prepare = dropout_prepare,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .describe = dropout_describe,
    .destroy = dropout_destroy,
};
