/* [global_avgpool]: the mean of each channel over all pixels, x [N, H, W, C] ->
 * y [N, 1, 1, C] (docs/INTERNALS.md "global_avgpool"); a [dense] after it reads
 * [N, C] as it is (NHWC needs no flatten). Backward spreads dy / (H*W) to every
 * pixel. No keys, no parameters, nothing saved. */
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/bias_act.h"
#include "nn/layers/layers.h"
#include "runtime/program.h"

typedef struct gap_layer {
  clt_shape in;
  clt_kernel forward_k, backward_k;
} gap_layer;

static clt_status gap_parse(const clt_ini_section *sec, void **self) {
  (void)sec;
  *self = calloc(1, sizeof(gap_layer));
  if (!*self) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading [global_avgpool]");
  return CLT_OK;
}

static clt_status gap_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  (void)sec;
  gap_layer *L = self;
  L->in = in;
  *out = (clt_shape){1, 1, in.c};
  return CLT_OK;
}

static void gap_sizes(const void *self, int batch, clt_layer_sizes *sz) {
  (void)self;
  (void)batch;
  *sz = (clt_layer_sizes){0};
}

static clt_status gap_prepare(void *self, clt_ctx *ctx) {
  gap_layer *L = self;
  clt_kernel_release(&L->forward_k);
  clt_kernel_release(&L->backward_k);
  CLT_TRY(clt_kernel_create(ctx, "residual.cl", "global_avgpool_forward", NULL, &L->forward_k));
  return clt_kernel_create(ctx, "residual.cl", "global_avgpool_backward", NULL, &L->backward_k);
}

static void gap_args(const gap_layer *L, const clt_pass *p, clt_kernel *k, cl_mem a, cl_mem b) {
  clt_arg_mem(k, a);
  clt_arg_mem(k, b);
  clt_arg_int(k, p->batch);
  clt_arg_int(k, L->in.h * L->in.w);
  clt_arg_int(k, L->in.c);
  clt_arg_float(k, 1.0f / (float)(L->in.h * L->in.w));
}

static clt_status gap_forward(void *self, const clt_pass *p) {
  gap_layer *L = self;
  CLT_TRY(clt_check_int_count((size_t)p->batch * clt_shape_size(L->in), "global_avgpool", "input"));
  gap_args(L, p, &L->forward_k, p->x, p->y);
  return clt_run_2d(p->ctx, &L->forward_k, (size_t)L->in.c, (size_t)p->batch);
}

static clt_status gap_backward(void *self, const clt_pass *p) {
  gap_layer *L = self;
  if (!p->dx) return CLT_OK;
  CLT_TRY(clt_check_int_count((size_t)p->batch * clt_shape_size(L->in), "global_avgpool", "input"));
  gap_args(L, p, &L->backward_k, p->dy, p->dx);
  size_t global[3] = {(size_t)L->in.c, (size_t)L->in.h * L->in.w, (size_t)p->batch}, local[3];
  clt_local_3d(&L->backward_k, global, local);
  return clt_run_3d(p->ctx, &L->backward_k, global, local);
}

static void gap_describe(const void *self, char *buf, size_t size) {
  const gap_layer *L = self;
  snprintf(buf, size, "mean over %dx%d", L->in.h, L->in.w);
}

static void gap_destroy(void *self) {
  gap_layer *L = self;
  if (!L) return;
  clt_kernel_release(&L->forward_k);
  clt_kernel_release(&L->backward_k);
  free(L);
}

const clt_layer_ops clt_layer_global_avgpool = {
    .name = "global_avgpool",
    .summary = "mean of each channel over all pixels: HxWxC -> 1x1xC (no keys)",
    .parse = gap_parse,
    .infer = gap_infer,
    .sizes = gap_sizes,
    .prepare = gap_prepare,
    .forward = gap_forward,
    .backward = gap_backward,
    .describe = gap_describe,
    .destroy = gap_destroy,
};
