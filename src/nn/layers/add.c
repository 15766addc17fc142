/* [add]: a residual connection. y = act(x + P(s)), where x [N, H, W, F] is the
 * previous layer's output and s [N, H2, W2, C] (pass->x2) the output of the
 * earlier layer named by the key `from` (docs/INTERNALS.md "add").
 *
 * P is the identity when s has x's shape, else (projection = auto) a 1x1
 * convolution with stride S and no bias, weights W [F, C] (He normal, fan_in C),
 * where S is the integer stride that maps H2 x W2 onto H x W the way a 1x1
 * convolution with no padding does: (H2 - 1) / S + 1 = H, likewise W. A
 * projection = always projects even equal shapes; none refuses to project.
 *
 * Buffers (R = N*H*W output pixels): workspace xs [R, C], the strided pixels of
 * s (skip_gather), reused as dxs = dz x W in backward (xs is dead once dW has
 * been enqueued: the compute queue is in order). Nothing is saved.
 *
 * Backward: dz = dy * act'(y) in place in dy (the conv contract: dy is free
 * scratch), dx = dz, and the skip gradient is ADDED into pass->dx2 (the network's
 * accumulator for the source layer): dz itself, or P's backward scattered back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/bias_act.h"
#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/gemm.h"

enum { PROJECT_AUTO, PROJECT_NONE, PROJECT_ALWAYS };

typedef struct add_layer {
  char *from; /* the source layer's name */
  int projection_mode;
  clt_bias_act ba; /* activation only: no bias */
  clt_shape in, skip, out;
  int project, stride; /* from infer */
  clt_kernel add, add_into, gather, scatter_add;
} add_layer;

static void add_destroy(void *self) {
  add_layer *L = self;
  if (!L) return;
  clt_kernel_release(&L->add);
  clt_kernel_release(&L->add_into);
  clt_kernel_release(&L->gather);
  clt_kernel_release(&L->scatter_add);
  clt_bias_act_release(&L->ba);
  free(L->from);
  free(L);
}

static clt_status add_parse(const clt_ini_section *sec, void **self) {
  static const char *const modes[] = {"auto", "none", "always", NULL};
  *self = NULL;
  const char *from = NULL;
  int mode = PROJECT_AUTO;
  CLT_TRY(clt_ini_require_string(sec, "from", &from));
  CLT_TRY(clt_ini_get_choice(sec, "projection", PROJECT_AUTO, modes, &mode));
  if (clt_ini_has(sec, "bias"))
    return clt_ini_key_fail(sec, "bias",
                            "[add] has no bias; remove the key (a [batchnorm] before it has beta)");
  add_layer *L = calloc(1, sizeof *L);
  if (!L) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading [add]");
  L->projection_mode = mode;
  L->from = strdup(from);
  clt_status st = L->from ? clt_bias_act_parse(sec, &L->ba)
                          : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading [add]");
  if (st != CLT_OK) {
    add_destroy(L);
    return st;
  }
  L->ba.bias = 0;
  *self = L;
  return CLT_OK;
}

static const char *add_from(const void *self) {
  return ((const add_layer *)self)->from;
}

static void add_set_from_shape(void *self, clt_shape shape) {
  ((add_layer *)self)->skip = shape;
}

/* The stride S of a 1x1, unpadded convolution from extent `big` to `small`, or 0. */
static int projection_stride(int big_h, int big_w, int h, int w) {
  for (int s = 1; s <= big_h && s <= big_w; s++)
    if ((big_h - 1) / s + 1 == h && (big_w - 1) / s + 1 == w) return s;
  return 0;
}

static clt_status add_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  add_layer *L = self;
  clt_shape s = L->skip;
  int same = s.h == in.h && s.w == in.w && s.c == in.c;
  L->stride = projection_stride(s.h, s.w, in.h, in.w);
  L->project =
      L->projection_mode == PROJECT_ALWAYS || (!same && L->projection_mode == PROJECT_AUTO);
  if (!same && L->projection_mode == PROJECT_NONE)
    return clt_ini_section_fail(sec,
                                "input %dx%dx%d and the output %dx%dx%d of layer '%s' differ and "
                                "projection = none; make the shapes equal or use projection = auto",
                                in.h, in.w, in.c, s.h, s.w, s.c, L->from);
  if (L->project && L->stride == 0)
    return clt_ini_section_fail(sec,
                                "input %dx%dx%d and the output %dx%dx%d of layer '%s' differ by no "
                                "whole stride (a 1x1 projection with stride S maps H to "
                                "(H - 1) / S + 1); add from a layer of a matching size",
                                in.h, in.w, in.c, s.h, s.w, s.c, L->from);
  L->in = in;
  L->out = in;
  *out = in;
  return CLT_OK;
}

static void add_sizes(const void *self, int batch, clt_layer_sizes *sz) {
  const add_layer *L = self;
  memset(sz, 0, sizeof *sz);
  if (!L->project) return;
  int C = L->skip.c, F = L->in.c;
  sz->params[0] = (clt_param_desc){"weights", (size_t)F * C, CLT_INIT_HE_NORMAL, C, F};
  sz->param_count = 1;
  sz->workspace_floats = (size_t)batch * L->in.h * L->in.w * (size_t)C; /* xs, then dxs */
}

static clt_status add_prepare(void *self, clt_ctx *ctx) {
  add_layer *L = self;
  clt_kernel_release(&L->add);
  clt_kernel_release(&L->add_into);
  clt_kernel_release(&L->gather);
  clt_kernel_release(&L->scatter_add);
  CLT_TRY(clt_kernel_create(ctx, "residual.cl", "add_forward", NULL, &L->add));
  CLT_TRY(clt_kernel_create(ctx, "residual.cl", "add_into", NULL, &L->add_into));
  CLT_TRY(clt_kernel_create(ctx, "residual.cl", "skip_gather", NULL, &L->gather));
  CLT_TRY(clt_kernel_create(ctx, "residual.cl", "skip_scatter_add", NULL, &L->scatter_add));
  return clt_bias_act_prepare(&L->ba, ctx, L->in.c);
}

static clt_status run_add_into(add_layer *L, clt_ctx *ctx, cl_mem dst, cl_mem src, size_t count) {
  clt_arg_mem(&L->add_into, dst);
  clt_arg_mem(&L->add_into, src);
  clt_arg_int(&L->add_into, (int)count);
  return clt_run_1d(ctx, &L->add_into, count);
}

/* gather (xs from s) or scatter_add (ds += dxs) between [N, H2, W2, C] and [N, H, W, C]. */
static clt_status run_strided(add_layer *L, const clt_pass *p, clt_kernel *k, cl_mem a, cl_mem b) {
  clt_arg_mem(k, a);
  clt_arg_mem(k, b);
  clt_arg_int(k, p->batch);
  clt_arg_int(k, L->skip.h);
  clt_arg_int(k, L->skip.w);
  clt_arg_int(k, L->skip.c);
  clt_arg_int(k, L->in.h);
  clt_arg_int(k, L->in.w);
  clt_arg_int(k, L->stride);
  size_t global[3] = {(size_t)L->skip.c, (size_t)L->in.w, (size_t)p->batch * L->in.h}, local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(p->ctx, k, global, local);
}

static clt_status check_buffers(const add_layer *L, const clt_pass *p, size_t *count) {
  if (!p->x2) return clt_fail(CLT_ERR_INTERNAL, "[add] without its second input (a bug)");
  if (L->project && !p->workspace)
    return clt_fail(CLT_ERR_INTERNAL, "[add] projection without a workspace (a bug)");
  *count = (size_t)p->batch * clt_shape_size(L->in);
  CLT_TRY(clt_check_int_count(*count, "add", "input"));
  return clt_check_int_count((size_t)p->batch * clt_shape_size(L->skip), "add", "skip input");
}

static clt_status add_forward(void *self, const clt_pass *p) {
  add_layer *L = self;
  size_t count = 0, R = (size_t)p->batch * L->in.h * L->in.w, F = (size_t)L->in.c;
  size_t C = (size_t)L->skip.c;
  CLT_TRY(check_buffers(L, p, &count));
  if (!L->project) {
    clt_arg_mem(&L->add, p->x);
    clt_arg_mem(&L->add, p->x2);
    clt_arg_mem(&L->add, p->y);
    clt_arg_int(&L->add, (int)count);
    CLT_TRY(clt_run_1d(p->ctx, &L->add, count));
  } else {
    CLT_TRY(run_strided(L, p, &L->gather, p->x2, p->workspace));
    /* y [R, F] = xs [R, C] x W^T, W [F, C]; then y += x */
    CLT_TRY(clt_sgemm(p->ctx, CLT_N, CLT_T, R, F, C, 1.0f, p->workspace, 0, C, p->params[0], 0, C,
                      0.0f, p->y, 0, F));
    CLT_TRY(run_add_into(L, p->ctx, p->y, p->x, count));
  }
  return clt_bias_act_forward(&L->ba, p->ctx, p->y, NULL, R, L->in.c);
}

static clt_status add_backward(void *self, const clt_pass *p) {
  add_layer *L = self;
  size_t count = 0, R = (size_t)p->batch * L->in.h * L->in.w, F = (size_t)L->in.c;
  size_t C = (size_t)L->skip.c;
  CLT_TRY(check_buffers(L, p, &count));
  if (!p->dx2) return clt_fail(CLT_ERR_INTERNAL, "[add] backward without dx2 (a bug)");
  cl_mem dz = p->dy;
  CLT_TRY(clt_bias_act_backward(&L->ba, p->ctx, p->y, dz, NULL, R, L->in.c));
  if (p->dx)
    CLT_CL_CHECK(clEnqueueCopyBuffer(p->ctx->compute, dz, p->dx, 0, 0, count * sizeof(float), 0,
                                     NULL, NULL));
  if (!L->project) return run_add_into(L, p->ctx, p->dx2, dz, count);
  /* dW [F, C] += dz^T x xs; xs recomputed (the workspace did not survive). */
  CLT_TRY(run_strided(L, p, &L->gather, p->x2, p->workspace));
  CLT_TRY(clt_sgemm(p->ctx, CLT_T, CLT_N, F, C, R, 1.0f, dz, 0, F, p->workspace, 0, C, 1.0f,
                    p->grads[0], 0, C));
  /* dxs [R, C] = dz x W overwrites xs; then ds += dxs at the strided pixels. */
  CLT_TRY(clt_sgemm(p->ctx, CLT_N, CLT_N, R, C, F, 1.0f, dz, 0, F, p->params[0], 0, C, 0.0f,
                    p->workspace, 0, C));
  return run_strided(L, p, &L->scatter_add, p->workspace, p->dx2);
}

static void add_info(const void *self, clt_layer_info *info) {
  const add_layer *L = self;
  *info = (clt_layer_info){
      .stride = L->stride, .act = L->ba.act, .alpha = L->ba.alpha, .projection = L->project};
}

static void add_describe(const void *self, char *buf, size_t size) {
  const add_layer *L = self;
  if (L->project)
    snprintf(buf, size, "from %s, 1x1 /%d projection %d->%d", L->from, L->stride, L->skip.c,
             L->in.c);
  else
    snprintf(buf, size, "from %s", L->from);
  size_t len = strlen(buf);
  if (L->ba.act != CLT_ACT_LINEAR && len < size)
    snprintf(buf + len, size - len, ", %s", clt_activation_name(L->ba.act));
}

const clt_layer_ops clt_layer_add = {
    .name = "add",
    .summary = "residual sum with the output of the earlier layer named by from (keys: from, "
               "projection = auto|none|always, activation)",
    .parse = add_parse,
    .infer = add_infer,
    .sizes = add_sizes,
    .prepare = add_prepare,
    .forward = add_forward,
    .backward = add_backward,
    .describe = add_describe,
    .info = add_info,
    .destroy = add_destroy,
    .from = add_from,
    .set_from_shape = add_set_from_shape,
};
