/* [batchnorm]: batch normalisation over N, H, W per channel, Keras conventions
 * (docs/INTERNALS.md "batchnorm"). Keys: momentum (0, 1) default 0.99, epsilon (0, 1)
 * default 0.001. Shape unchanged.
 *
 * params: gamma [C] (ones), beta [C] (zeros). state [2C]: running_mean, then running_var
 * (starts at 1). saved [4C]: batch mean and inv_std = 1 / sqrt(var + eps) from the training
 * forward, then sum(dy) and sum(dy * xhat) from backward. The per-channel sums run in two
 * stages (cl/batchnorm.cl): partial sums over chunks of rows into the workspace, then the
 * chunks of each channel added in order (deterministic, and contiguous reads on CPUs, where
 * one work-group per channel striding over rows was half of resnet8's step); the elementwise
 * parts one work-item per element. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"

typedef struct bn_layer {
  double momentum, epsilon;
  clt_shape shape;
  clt_kernel partial_k, finalize_k, apply_k, infer_k, dx_k;
  int prepared;
} bn_layer;

static clt_status bn_parse(const clt_ini_section *sec, void **self) {
  const unsigned open = CLT_INI_ABOVE_MIN | CLT_INI_BELOW_MAX;
  double momentum, epsilon;
  CLT_TRY(clt_ini_get_float_ex(sec, "momentum", 0.99, 0.0, 1.0, open, &momentum));
  CLT_TRY(clt_ini_get_float_ex(sec, "epsilon", 0.001, 0.0, 1.0, open, &epsilon));
  bn_layer *b = calloc(1, sizeof *b);
  if (!b) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [batchnorm]");
  b->momentum = momentum;
  b->epsilon = epsilon;
  *self = b;
  return CLT_OK;
}

static clt_status bn_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  (void)sec;
  bn_layer *b = self;
  b->shape = in;
  *out = in;
  return CLT_OK;
}

/* Chunks of the two-stage sums over m rows: at most BN_CHUNKS, each at least BN_MIN_ROWS
 * rows (the partial sums need [chunks, C] floats twice in the workspace). */
enum { BN_CHUNKS = 256, BN_MIN_ROWS = 64 };
static int bn_chunks(int m) {
  int g = (m + BN_MIN_ROWS - 1) / BN_MIN_ROWS;
  return g < 1 ? 1 : g > BN_CHUNKS ? BN_CHUNKS : g;
}

static void bn_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  const bn_layer *b = self;
  size_t C = (size_t)b->shape.c;
  *sizes = (clt_layer_sizes){0};
  sizes->param_count = 2;
  sizes->params[0] = (clt_param_desc){"gamma", C, CLT_INIT_ONES, b->shape.c, b->shape.c};
  sizes->params[1] = (clt_param_desc){"beta", C, CLT_INIT_ZEROS, b->shape.c, b->shape.c};
  sizes->state_floats = 2 * C;          /* running_mean [C], running_var [C] */
  sizes->state_init_ones_from = (int)C; /* running_var starts at 1 */
  sizes->saved_floats = 4 * C;          /* mean, inv_std, sum dy, sum dy * xhat */
  size_t rows = (size_t)(batch > 0 ? batch : 1) * (size_t)b->shape.h * (size_t)b->shape.w;
  sizes->workspace_floats = 2 * C * (size_t)bn_chunks(rows > INT_MAX ? INT_MAX : (int)rows);
}

static void bn_release(bn_layer *b) {
  clt_kernel_release(&b->partial_k);
  clt_kernel_release(&b->finalize_k);
  clt_kernel_release(&b->apply_k);
  clt_kernel_release(&b->infer_k);
  clt_kernel_release(&b->dx_k);
}

static clt_status bn_prepare(void *self, clt_ctx *ctx) {
  bn_layer *b = self;
  if (b->prepared) return CLT_OK;
  static const char *const names[5] = {"batchnorm_partial", "batchnorm_finalize", "batchnorm_apply",
                                       "batchnorm_infer", "batchnorm_backward_dx"};
  clt_kernel *ks[5] = {&b->partial_k, &b->finalize_k, &b->apply_k, &b->infer_k, &b->dx_k};
  for (int i = 0; i < 5; i++) {
    clt_status st = clt_kernel_create(ctx, "batchnorm.cl", names[i], "", ks[i]);
    if (st != CLT_OK) {
      bn_release(b);
      return st;
    }
  }
  b->prepared = 1;
  return CLT_OK;
}

/* M = N*H*W rows and the element count of this pass; the kernels index with int. */
static clt_status bn_counts(const bn_layer *b, const clt_pass *pass, int *rows, int *total) {
  size_t m = (size_t)pass->batch * (size_t)b->shape.h * (size_t)b->shape.w;
  size_t n = m * (size_t)b->shape.c;
  if (n > INT_MAX)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "a [batchnorm] input of %zu values is over the 2^31 limit; lower the batch "
                    "size",
                    n);
  *rows = (int)m;
  *total = (int)n;
  return CLT_OK;
}

/* One stage pair of a per-channel sum (cl/batchnorm.cl, `what` there). */
static clt_status bn_sum(bn_layer *b, const clt_pass *pass, cl_mem dy, cl_mem dgamma, cl_mem dbeta,
                         int m, int what) {
  int C = b->shape.c, G = bn_chunks(m), R = (m + G - 1) / G;
  if (!pass->workspace)
    return clt_fail(CLT_ERR_INTERNAL, "[batchnorm] without its workspace (a bug)");
  clt_kernel *k = &b->partial_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, dy);
  clt_arg_mem(k, pass->saved);
  clt_arg_mem(k, pass->workspace);
  clt_arg_int(k, m);
  clt_arg_int(k, C);
  clt_arg_int(k, R);
  clt_arg_int(k, G);
  clt_arg_int(k, what);
  CLT_TRY(clt_run_2d(pass->ctx, k, (size_t)C, (size_t)G));
  k = &b->finalize_k;
  clt_arg_mem(k, pass->workspace);
  clt_arg_mem(k, pass->saved);
  clt_arg_mem(k, pass->state ? pass->state : pass->saved);
  clt_arg_mem(k, dgamma);
  clt_arg_mem(k, dbeta);
  clt_arg_int(k, m);
  clt_arg_int(k, C);
  clt_arg_int(k, G);
  clt_arg_float(k, (float)b->momentum);
  clt_arg_float(k, (float)b->epsilon);
  clt_arg_int(k, what);
  return clt_run_1d(pass->ctx, k, (size_t)C);
}

static clt_status bn_forward(void *self, const clt_pass *pass) {
  bn_layer *b = self;
  if (!b->prepared) return clt_fail(CLT_ERR_INTERNAL, "[batchnorm] forward before prepare (a bug)");
  if (!pass->state || (pass->training && !pass->saved))
    return clt_fail(CLT_ERR_INTERNAL, "[batchnorm] forward without its state or saved buffer");
  int m = 0, total = 0, C = b->shape.c;
  CLT_TRY(bn_counts(b, pass, &m, &total));
  if (total == 0) return CLT_OK;
  if (!pass->training) {
    clt_kernel *k = &b->infer_k;
    clt_arg_mem(k, pass->x);
    clt_arg_mem(k, pass->y);
    clt_arg_mem(k, pass->params[0]);
    clt_arg_mem(k, pass->params[1]);
    clt_arg_mem(k, pass->state);
    clt_arg_int(k, m);
    clt_arg_int(k, C);
    clt_arg_float(k, (float)b->epsilon);
    return clt_run_2d(pass->ctx, k, (size_t)C, (size_t)m);
  }
  CLT_TRY(bn_sum(b, pass, pass->x, pass->saved, pass->saved, m, 0)); /* mean */
  CLT_TRY(bn_sum(b, pass, pass->x, pass->saved, pass->saved, m, 1)); /* variance */

  clt_kernel *k = &b->apply_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->y);
  clt_arg_mem(k, pass->params[0]);
  clt_arg_mem(k, pass->params[1]);
  clt_arg_mem(k, pass->saved);
  clt_arg_int(k, m);
  clt_arg_int(k, C);
  return clt_run_2d(pass->ctx, k, (size_t)C, (size_t)m);
}

/* Training-mode backward: uses the batch statistics saved by the training forward. */
static clt_status bn_backward(void *self, const clt_pass *pass) {
  bn_layer *b = self;
  if (!b->prepared)
    return clt_fail(CLT_ERR_INTERNAL, "[batchnorm] backward before prepare (a bug)");
  if (!pass->saved)
    return clt_fail(CLT_ERR_INTERNAL, "[batchnorm] backward without its saved buffer (a bug)");
  int m = 0, total = 0, C = b->shape.c;
  CLT_TRY(bn_counts(b, pass, &m, &total));
  if (total == 0) return CLT_OK;
  CLT_TRY(bn_sum(b, pass, pass->dy, pass->grads[0], pass->grads[1], m, 2));
  if (!pass->dx) return CLT_OK;

  clt_kernel *k = &b->dx_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->dy);
  clt_arg_mem(k, pass->params[0]);
  clt_arg_mem(k, pass->saved);
  clt_arg_mem(k, pass->dx);
  clt_arg_int(k, m);
  clt_arg_int(k, C);
  clt_arg_float(k, (float)(1.0 / (double)m));
  return clt_run_2d(pass->ctx, k, (size_t)C, (size_t)m);
}

static void bn_info(const void *self, clt_layer_info *info) {
  *info = (clt_layer_info){.epsilon = ((const bn_layer *)self)->epsilon};
}

static void bn_describe(const void *self, char *buf, size_t size) {
  const bn_layer *b = self;
  snprintf(buf, size, "momentum %g, epsilon %g", b->momentum, b->epsilon);
}

static void bn_destroy(void *self) {
  bn_layer *b = self;
  if (!b) return;
  bn_release(b);
  free(b);
}

const clt_layer_ops clt_layer_batchnorm = {
    .name = "batchnorm",
    .summary = "batch normalisation per channel (keys: momentum, epsilon)",
    .parse = bn_parse,
    .infer = bn_infer,
    .sizes = bn_sizes,
    .prepare = bn_prepare,
    .forward = bn_forward,
    .backward = bn_backward,
    .describe = bn_describe,
    .info = bn_info,
    .destroy = bn_destroy,
};
