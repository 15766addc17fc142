/* [dense]: fully connected, W [U, I] row-major, b [U] (docs/INTERNALS.md "dense").
 * Any input shape is accepted: flatten is implicit (I = H*W*C, NHWC is already
 * [N, I]); the output is {1, 1, U}. One SGEMM each way, no workspace, nothing saved.
 *
 * Contract on dy: backward turns pass->dy into dz = dy * act'(y) IN PLACE.
 * dy is the next layer's dx buffer, which the network does not read again
 * after this call, so it is free scratch; callers that need dy afterwards must
 * pass a copy. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/bias_act.h"
#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/gemm.h"

typedef struct dense_layer {
  int units; /* U */
  clt_bias_act ba;
  int inputs; /* I, from infer */
} dense_layer;

static clt_status dense_parse(const clt_ini_section *sec, void **self) {
  *self = NULL;
  dense_layer *L = calloc(1, sizeof *L);
  if (!L) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading [dense]");
  clt_status st = clt_ini_require_int(sec, "units", 1, 1 << 20, &L->units);
  if (st == CLT_OK) st = clt_bias_act_parse(sec, &L->ba);
  if (st != CLT_OK) {
    free(L);
    return st;
  }
  *self = L;
  return CLT_OK;
}

static clt_status dense_infer(void *self, const clt_ini_section *sec, clt_shape in,
                              clt_shape *out) {
  dense_layer *L = self;
  size_t inputs = clt_shape_size(in);
  if (inputs > (size_t)INT_MAX)
    return clt_ini_section_fail(sec,
                                "%dx%dx%d inputs are too many for one sample (at most %d); add "
                                "pooling or strided conv layers before it",
                                in.h, in.w, in.c, INT_MAX);
  L->inputs = (int)inputs;
  *out = (clt_shape){1, 1, L->units};
  return CLT_OK;
}

static void dense_sizes(const void *self, int batch, clt_layer_sizes *s) {
  const dense_layer *L = self;
  (void)batch;
  memset(s, 0, sizeof *s);
  clt_init init = L->ba.act == CLT_ACT_RELU || L->ba.act == CLT_ACT_LEAKY_RELU
                      ? CLT_INIT_HE_NORMAL
                      : CLT_INIT_GLOROT_UNIFORM;
  s->params[0] =
      (clt_param_desc){"weights", (size_t)L->units * L->inputs, init, L->inputs, L->units};
  s->param_count = 1;
  if (L->ba.bias)
    s->params[s->param_count++] = (clt_param_desc){"bias", (size_t)L->units, CLT_INIT_ZEROS, 0, 0};
}

static clt_status dense_prepare(void *self, clt_ctx *ctx) {
  dense_layer *L = self;
  return clt_bias_act_prepare(&L->ba, ctx, L->units);
}

static clt_status check_batch(const dense_layer *L, int n) {
  CLT_TRY(clt_check_int_count((size_t)n * L->inputs, "dense", "input"));
  return clt_check_int_count((size_t)n * L->units, "dense", "output");
}

static clt_status dense_forward(void *self, const clt_pass *p) {
  dense_layer *L = self;
  size_t N = (size_t)p->batch, I = (size_t)L->inputs;
  CLT_TRY(check_batch(L, p->batch));
  /* y [N, U] = act(x [N, I] x W^T + b), W [U, I]: bias and activation fused into the GEMM
   * where it can (bias_act.h) */
  return clt_bias_act_gemm_forward(&L->ba, p->ctx, p->x, p->params[0], p->params[1], p->y, N,
                                   L->units, I);
}

static clt_status dense_backward(void *self, const clt_pass *p) {
  dense_layer *L = self;
  size_t N = (size_t)p->batch, U = (size_t)L->units, I = (size_t)L->inputs;
  CLT_TRY(check_batch(L, p->batch));
  /* dz [N, U] = dy * act'(y), in place in dy (see the contract at the top); db += colsum. */
  cl_mem dz = p->dy;
  CLT_TRY(clt_bias_act_backward(&L->ba, p->ctx, p->y, dz, p->grads[1], N, L->units));
  /* dW [U, I] += dz^T x */
  CLT_TRY(clt_sgemm(p->ctx, CLT_T, CLT_N, U, I, N, 1.0f, dz, 0, U, p->x, 0, I, 1.0f, p->grads[0], 0,
                    I));
  if (!p->dx) return CLT_OK;
  /* dx [N, I] = dz x W */
  return clt_sgemm(p->ctx, CLT_N, CLT_N, N, I, U, 1.0f, dz, 0, U, p->params[0], 0, I, 0.0f, p->dx,
                   0, I);
}

static void dense_describe(const void *self, char *buf, size_t size) {
  const dense_layer *L = self;
  snprintf(buf, size, "%d", L->units);
  clt_bias_act_describe(&L->ba, buf, size);
}

static void dense_info(const void *self, clt_layer_info *info) {
  const dense_layer *L = self;
  *info = (clt_layer_info){.bias = L->ba.bias, .act = L->ba.act, .alpha = L->ba.alpha};
}

static void dense_destroy(void *self) {
  dense_layer *L = self;
  if (!L) return;
  clt_bias_act_release(&L->ba);
  free(L);
}

const clt_layer_ops clt_layer_dense = {
    .name = "dense",
    .summary = "fully connected (flattens its input): units, bias, activation",
    .parse = dense_parse,
    .infer = dense_infer,
    .sizes = dense_sizes,
    .prepare = dense_prepare,
    .forward = dense_forward,
    .backward = dense_backward,
    .describe = dense_describe,
    .destroy = dense_destroy,
    .info = dense_info,
};
