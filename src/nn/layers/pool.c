/* [maxpool] and [avgpool]: square window K, stride S (default K), no padding
 * (docs/INTERNALS.md "maxpool, avgpool"). OH = (H - K) / S + 1, likewise OW; C unchanged.
 *
 * maxpool saves, in training, the argmax of each window as an int (offset kh * K + kw,
 * the first maximum in scan order) in the saved buffer [N, OH, OW, C] read as int by the
 * kernels. Backward of both is a gather over the windows covering each input element
 * (cl/pool.cl), so overlapping windows (K > S) need no atomics; maxpool with S >= K
 * uses a direct form (each input lies in at most one window). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"

#define POOL_MAX_SIZE 64

typedef struct pool_layer {
  int is_max; /* 1: maxpool, 0: avgpool */
  int size;   /* K */
  int stride; /* S */
  clt_shape in, out;
  clt_kernel forward_k, backward_k;
  int vec, vec_bwd; /* channels per vector of the forward, backward kernel (1: scalar) */
  int prepared;
} pool_layer;

static clt_status pool_parse(const clt_ini_section *sec, int is_max, void **self) {
  int size, stride;
  CLT_TRY(clt_ini_require_int(sec, "size", 1, POOL_MAX_SIZE, &size));
  CLT_TRY(clt_ini_get_int(sec, "stride", size, 1, POOL_MAX_SIZE, &stride));
  pool_layer *p = calloc(1, sizeof *p);
  if (!p) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [%s]", sec->name);
  p->is_max = is_max;
  p->size = size;
  p->stride = stride;
  *self = p;
  return CLT_OK;
}

static clt_status maxpool_parse(const clt_ini_section *sec, void **self) {
  return pool_parse(sec, 1, self);
}

static clt_status avgpool_parse(const clt_ini_section *sec, void **self) {
  return pool_parse(sec, 0, self);
}

static clt_status pool_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  pool_layer *p = self;
  if (in.h < p->size || in.w < p->size)
    return clt_ini_section_fail(sec,
                                "window size %d is larger than its %dx%dx%d input; use size <= %d "
                                "or remove a pooling layer before it",
                                p->size, in.h, in.w, in.c, in.h < in.w ? in.h : in.w);
  p->in = in;
  p->out = (clt_shape){(in.h - p->size) / p->stride + 1, (in.w - p->size) / p->stride + 1, in.c};
  *out = p->out;
  return CLT_OK;
}

static void pool_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  const pool_layer *p = self;
  *sizes = (clt_layer_sizes){0};
  if (p->is_max) sizes->saved_floats = (size_t)batch * clt_shape_size(p->out); /* argmax, int */
}

static clt_status pool_prepare(void *self, clt_ctx *ctx) {
  pool_layer *p = self;
  if (p->prepared) return CLT_OK;
  const char *fwd = p->is_max ? "maxpool_forward" : "avgpool_forward";
  /* Windows that do not overlap (S >= K): each input is in at most one window. */
  const char *bwd = !p->is_max             ? "avgpool_backward"
                    : p->stride >= p->size ? "maxpool_backward_disjoint"
                                           : "maxpool_backward";
  /* maxpool with C a multiple of 4: the vector kernels (cl/pool.cl), the widest that
   * divides C; the overlapping-window backward stays scalar. */
  p->vec = 1;
  for (int v = 16; p->is_max && v >= 4; v /= 2)
    if (p->in.c % v == 0) {
      p->vec = v;
      break;
    }
  int vec_bwd = p->vec > 1 && p->stride >= p->size;
  if (p->vec > 1) fwd = "maxpool_forward_vec";
  if (vec_bwd) bwd = "maxpool_backward_disjoint_vec";
  char options[64]; /* K, S and the vector width as constants: see cl/pool.cl */
  snprintf(options, sizeof options, "-DPOOL_K=%d -DPOOL_S=%d -DPOOL_V=%d", p->size, p->stride,
           p->vec > 1 ? p->vec : 4);
  p->vec_bwd = vec_bwd ? p->vec : 1;
  CLT_TRY(clt_kernel_create(ctx, "pool.cl", fwd, options, &p->forward_k));
  clt_status st = clt_kernel_create(ctx, "pool.cl", bwd, options, &p->backward_k);
  if (st != CLT_OK) {
    clt_kernel_release(&p->forward_k);
    return st;
  }
  p->prepared = 1;
  return CLT_OK;
}

/* The geometry arguments shared by all the kernels, after their buffers and the
 * batch size N. */
static void pool_args(const pool_layer *p, clt_kernel *k) {
  clt_arg_int(k, p->in.h);
  clt_arg_int(k, p->in.w);
  clt_arg_int(k, p->in.c);
  clt_arg_int(k, p->out.h);
  clt_arg_int(k, p->out.w);
  clt_arg_int(k, p->size);
  clt_arg_int(k, p->stride);
}

/* The kernels index with int. */
static clt_status pool_check_count(size_t count) {
  if (count > INT_MAX)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "a pooling input of %zu values is over the 2^31 limit; lower the batch size",
                    count);
  return CLT_OK;
}

/* A 3-D launch (C, columns, N * rows) of k: channels innermost (cl/pool.cl). */
static clt_status pool_run(const clt_pass *pass, clt_kernel *k, clt_shape s, int vec) {
  size_t global[3] = {(size_t)s.c / vec, (size_t)s.w, (size_t)pass->batch * s.h}, local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(pass->ctx, k, global, local);
}

static clt_status pool_forward(void *self, const clt_pass *pass) {
  pool_layer *p = self;
  if (!p->prepared) return clt_fail(CLT_ERR_INTERNAL, "pool forward before prepare (a bug)");
  CLT_TRY(pool_check_count((size_t)pass->batch * clt_shape_size(p->in)));
  clt_kernel *k = &p->forward_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->y);
  if (p->is_max) {
    int save = pass->training && pass->saved != NULL;
    /* Without saving, a valid buffer the kernel never writes rather than NULL. */
    clt_arg_mem(k, save ? pass->saved : pass->y);
    clt_arg_int(k, save);
  }
  clt_arg_int(k, pass->batch);
  pool_args(p, k);
  if (!p->is_max) clt_arg_float(k, 1.0f / (float)(p->size * p->size));
  return pool_run(pass, k, p->out, p->vec);
}

static clt_status pool_backward(void *self, const clt_pass *pass) {
  pool_layer *p = self;
  if (!p->prepared) return clt_fail(CLT_ERR_INTERNAL, "pool backward before prepare (a bug)");
  if (!pass->dx) return CLT_OK; /* first layer: no parameters, nothing to do */
  if (p->is_max && !pass->saved)
    return clt_fail(CLT_ERR_INTERNAL, "[maxpool] backward without its saved argmax (a bug)");
  CLT_TRY(pool_check_count((size_t)pass->batch * clt_shape_size(p->in)));
  clt_kernel *k = &p->backward_k;
  clt_arg_mem(k, pass->dy);
  if (p->is_max) clt_arg_mem(k, pass->saved);
  clt_arg_mem(k, pass->dx);
  clt_arg_int(k, pass->batch);
  pool_args(p, k);
  if (!p->is_max) clt_arg_float(k, 1.0f / (float)(p->size * p->size));
  return pool_run(pass, k, p->in, p->vec_bwd);
}

static void pool_describe(const void *self, char *buf, size_t size) {
  const pool_layer *p = self;
  snprintf(buf, size, "%dx%d /%d", p->size, p->size, p->stride);
}

static void pool_info(const void *self, clt_layer_info *info) {
  const pool_layer *p = self;
  *info = (clt_layer_info){.size = p->size, .stride = p->stride};
}

static void pool_destroy(void *self) {
  pool_layer *p = self;
  if (!p) return;
  clt_kernel_release(&p->forward_k);
  clt_kernel_release(&p->backward_k);
  free(p);
}

const clt_layer_ops clt_layer_maxpool = {
    .name = "maxpool",
    .summary = "max over each size x size window (keys: size, stride = size); no padding",
    .parse = maxpool_parse,
    .infer = pool_infer,
    .sizes = pool_sizes,
    .prepare = pool_prepare,
    .forward = pool_forward,
    .backward = pool_backward,
    .describe = pool_describe,
    .destroy = pool_destroy,
    .info = pool_info,
};

const clt_layer_ops clt_layer_avgpool = {
    .name = "avgpool",
    .summary = "mean over each size x size window (keys: size, stride = size); no padding",
    .parse = avgpool_parse,
    .infer = pool_infer,
    .sizes = pool_sizes,
    .prepare = pool_prepare,
    .forward = pool_forward,
    .backward = pool_backward,
    .describe = pool_describe,
    .destroy = pool_destroy,
    .info = pool_info,
};
