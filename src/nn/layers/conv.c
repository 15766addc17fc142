/* [conv]: 2-D convolution, NHWC, weights [F, K, K, C], by one of three algorithms
 * (docs/INTERNALS.md "conv"): im2col + one SGEMM for the whole batch (described below),
 * implicit GEMM (conv_implicit.h: no col matrix), or the direct kernels for few input
 * channels (conv_direct.h); with algorithm = auto the layer times them at its first
 * forward and stores the winner (conv_choose.h).
 *
 * Buffers of one call (R = N*OH*OW output pixels, KKC = K*K*C):
 *   x [N, H, W, C], y [R, F] (= [N, OH, OW, F]), W [F, KKC], b [F],
 *   workspace: col [R, KKC], reused as dcol in backward.
 *
 * Workspace and saved: nothing is saved between forward and backward (the
 * workspace is shared by all layers, so col does not survive). Backward
 * recomputes col from x with im2col: one pass over R*KKC floats, cheap next to
 * the GEMMs' R*KKC*F multiply-adds, and it keeps the memory plan at one
 * [R, KKC] matrix instead of a saved col per conv layer. Once dW += dz^T x col
 * has been enqueued, col is dead, so dcol = dz x W overwrites it (the compute
 * queue is in order): one matrix serves both, workspace = R*KKC floats.
 * A 1x1 kernel with stride 1 and no padding needs no lowering at all: x is
 * already col [R, C] and dx is already dcol, so the workspace is 0.
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
#include "nn/layers/conv_choose.h"
#include "nn/layers/conv_direct.h"
#include "nn/layers/conv_implicit.h"
#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/clock.h"
#include "runtime/gemm.h"
#include "runtime/gemm_choose.h"
#include "runtime/memory.h"
#include "runtime/profile.h"

typedef enum { PAD_VALID, PAD_SAME, PAD_NUMBER } pad_mode;
/* ALGO_IMPLICIT_DW: backward only, the implicit weight gradient with im2col's input gradient
 * (GEMM + col2im). */
typedef enum {
  ALGO_AUTO,
  ALGO_IM2COL,
  ALGO_DIRECT,
  ALGO_IMPLICIT,
  ALGO_IMPLICIT_DW
} conv_algorithm;
static const char *const algorithm_names[] = {"auto", "im2col", "direct", "implicit",
                                              "implicit-dw"};

typedef struct conv_layer {
  int filters, size, stride; /* F, K, S */
  pad_mode padding;
  int pad_number; /* p for PAD_NUMBER */
  clt_bias_act ba;
  conv_algorithm algorithm; /* key algorithm */
  /* From infer. */
  clt_shape in, out;
  int pad_top, pad_bottom, pad_left, pad_right;
  int pointwise; /* 1x1, stride 1, no padding: no im2col */
  clt_kernel im2col, col2im;
  int vec; /* channels per vector of im2col_vec / col2im_vec; 1: the scalar kernels */
  /* From prepare. */
  conv_algorithm run, run_bwd; /* what runs forward (im2col, direct or implicit) and
                                  backward (also implicit-dw) */
  int decided;                 /* auto: 1 once looked up or measured (first forward) */
  int measured;                /* 1: chosen by timing (now or stored) */
  clt_conv_direct dk;
  clt_conv_implicit ik;
  int dk_built, ik_built; /* built at first use (ensure_kernels): no compile for what
                             never runs */
  clt_ctx *built_for;     /* the context of prepare */
} conv_layer;

/* Key algorithm: auto (measured at first use, see choose), im2col (im2col + GEMM), direct or
 * implicit (implicit GEMM). */
static clt_status parse_algorithm(const clt_ini_section *sec, conv_layer *L) {
  const char *v = NULL;
  CLT_TRY(clt_ini_get_string(sec, "algorithm", "auto", &v));
  if (strcmp(v, "auto") == 0)
    L->algorithm = ALGO_AUTO;
  else if (strcmp(v, "im2col") == 0)
    L->algorithm = ALGO_IM2COL;
  else if (strcmp(v, "direct") == 0)
    L->algorithm = ALGO_DIRECT;
  else if (strcmp(v, "implicit") == 0)
    L->algorithm = ALGO_IMPLICIT;
  else
    return clt_ini_key_fail(sec, "algorithm",
                            "use auto (measured per layer and device), im2col (im2col + GEMM), "
                            "implicit (implicit GEMM) or direct (for at most %d taps "
                            "size*size*channels)",
                            CLT_CONV_DIRECT_MAX_TAPS);
  return CLT_OK;
}

/* auto's candidates: direct for layers with at most 4 input channels and 32 taps (first
 * layers: the im2col matrix there is K*K times the input and its GEMM has a tiny K, which
 * GEMM kernels run far below their peak); implicit and im2col + GEMM for every layer. */
static int may_use_direct(const conv_layer *L) {
  if (L->algorithm != ALGO_AUTO) return L->algorithm == ALGO_DIRECT;
  return !L->pointwise && L->in.c <= 4 && L->size * L->size * L->in.c <= 32;
}

static int may_use_implicit(const conv_layer *L) {
  return L->algorithm == ALGO_AUTO || L->algorithm == ALGO_IMPLICIT;
}

/* auto without a measurement (no budget left, or GEMM selection not "auto"): direct where
 * it may run on CPU devices, else im2col + GEMM. */
static conv_algorithm unmeasured_rule(const conv_layer *L, const clt_ctx *ctx) {
  if (L->algorithm != ALGO_AUTO) return L->algorithm;
  return may_use_direct(L) && ctx->dev.kind == CLT_DEVICE_CPU ? ALGO_DIRECT : ALGO_IM2COL;
}

static clt_status parse_padding(const clt_ini_section *sec, conv_layer *L) {
  const char *v = NULL;
  CLT_TRY(clt_ini_get_string(sec, "padding", "valid", &v));
  if (strcmp(v, "valid") == 0) {
    L->padding = PAD_VALID;
    return CLT_OK;
  }
  if (strcmp(v, "same") == 0) {
    L->padding = PAD_SAME;
    return CLT_OK;
  }
  char *end = NULL;
  long p = strtol(v, &end, 10);
  if (end == v || *end != '\0' || p < 0 || p > 64)
    return clt_ini_key_fail(sec, "padding",
                            "use valid (no padding), same (output size = input size / stride) "
                            "or a whole number of pixels from 0 to 64 on every side");
  L->padding = PAD_NUMBER;
  L->pad_number = (int)p;
  return CLT_OK;
}

static clt_status conv_parse(const clt_ini_section *sec, void **self) {
  *self = NULL;
  conv_layer *L = calloc(1, sizeof *L);
  if (!L) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading [conv]");
  clt_status st = clt_ini_require_int(sec, "filters", 1, 65536, &L->filters);
  if (st == CLT_OK) st = clt_ini_require_int(sec, "size", 1, 64, &L->size);
  if (st == CLT_OK) st = clt_ini_get_int(sec, "stride", 1, 1, 64, &L->stride);
  if (st == CLT_OK) st = parse_padding(sec, L);
  if (st == CLT_OK) st = clt_bias_act_parse(sec, &L->ba);
  if (st == CLT_OK) st = parse_algorithm(sec, L);
  if (st != CLT_OK) {
    free(L);
    return st;
  }
  *self = L;
  return CLT_OK;
}

/* Pads of one dimension (INTERNALS.md: same is TensorFlow's rule). */
static void pads_1d(const conv_layer *L, int in, int *before, int *after) {
  if (L->padding == PAD_SAME) {
    int out = (in + L->stride - 1) / L->stride;
    int total = (out - 1) * L->stride + L->size - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
  } else {
    *before = *after = L->padding == PAD_NUMBER ? L->pad_number : 0;
  }
}

static clt_status conv_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  conv_layer *L = self;
  int K = L->size;
  pads_1d(L, in.h, &L->pad_top, &L->pad_bottom);
  pads_1d(L, in.w, &L->pad_left, &L->pad_right);
  int ph = in.h + L->pad_top + L->pad_bottom, pw = in.w + L->pad_left + L->pad_right;
  if (ph < K || pw < K)
    return clt_ini_section_fail(
        sec,
        "kernel %dx%d is larger than the padded input %dx%d (input %dx%dx%d, padding %d); use a "
        "smaller size, padding = same, or more padding",
        K, K, ph, pw, in.h, in.w, in.c, L->pad_top);
  clt_shape o = {(ph - K) / L->stride + 1, (pw - K) / L->stride + 1, L->filters};
  if (o.h > CLT_INI_MAX_SHAPE_EXTENT || o.w > CLT_INI_MAX_SHAPE_EXTENT)
    return clt_ini_section_fail(sec,
                                "output %dx%d is larger than %d pixels on a side; use less "
                                "padding or a larger stride",
                                o.h, o.w, CLT_INI_MAX_SHAPE_EXTENT);
  size_t kkc = (size_t)K * K * in.c;
  size_t most = clt_shape_size(in);
  if (clt_shape_size(o) > most) most = clt_shape_size(o);
  if ((size_t)o.h * o.w * kkc > most) most = (size_t)o.h * o.w * kkc; /* im2col rows */
  if (most > (size_t)INT_MAX)
    return clt_ini_section_fail(sec,
                                "one sample needs %zu floats in one tensor, more than the "
                                "kernels index (%d); use a smaller input, a larger stride, a "
                                "smaller size or fewer filters",
                                most, INT_MAX);
  if (L->algorithm == ALGO_DIRECT && !clt_conv_direct_fits(K, in.c))
    return clt_ini_key_fail(sec, "algorithm",
                            "direct takes at most %d taps (size*size*channels), this layer has "
                            "%zu; use algorithm = im2col or auto",
                            CLT_CONV_DIRECT_MAX_TAPS, kkc);
  L->in = in;
  L->out = o;
  L->pointwise = K == 1 && L->stride == 1 && L->pad_top == 0 && L->pad_bottom == 0 &&
                 L->pad_left == 0 && L->pad_right == 0;
  *out = o;
  return CLT_OK;
}

static void conv_sizes(const void *self, int batch, clt_layer_sizes *s) {
  const conv_layer *L = self;
  int K = L->size, C = L->in.c, F = L->filters;
  memset(s, 0, sizeof *s);
  clt_init init = L->ba.act == CLT_ACT_RELU || L->ba.act == CLT_ACT_LEAKY_RELU
                      ? CLT_INIT_HE_NORMAL
                      : CLT_INIT_GLOROT_UNIFORM;
  s->params[0] = (clt_param_desc){"weights", (size_t)F * K * K * C, init, K * K * C, K * K * F};
  s->param_count = 1;
  if (L->ba.bias)
    s->params[s->param_count++] = (clt_param_desc){"bias", (size_t)F, CLT_INIT_ZEROS, 0, 0};
  if (!L->pointwise)
    s->workspace_floats = (size_t)batch * L->out.h * L->out.w * ((size_t)K * K * C); /* col */
  /* The direct path may be chosen at prepare (per device): its transposed weights and
   * gradient chunk sums. col stays reserved for an input gradient (conv_backward). */
  if (may_use_direct(L)) {
    size_t direct = clt_conv_direct_workspace(K, C, F);
    if (direct > s->workspace_floats) s->workspace_floats = direct;
  }
  if (may_use_implicit(L)) {
    size_t rows = (size_t)batch * L->out.h * L->out.w;
    size_t implicit = clt_conv_implicit_workspace(K, C, F, rows);
    if (implicit > s->workspace_floats) s->workspace_floats = implicit;
  }
}

static clt_status conv_prepare(void *self, clt_ctx *ctx) {
  conv_layer *L = self;
  clt_kernel_release(&L->im2col);
  clt_kernel_release(&L->col2im);
  /* The widest vector of channels that divides C (cl/conv.cl, im2col_vec). */
  L->vec = 1;
  for (int v = 16; v >= 4; v /= 2)
    if (L->in.c % v == 0) {
      L->vec = v;
      break;
    }
  char options[64]; /* K, S and the vector width as constants: see cl/conv.cl */
  snprintf(options, sizeof options, "-DCONV_K=%d -DCONV_S=%d -DCONV_V=%d", L->size, L->stride,
           L->vec > 1 ? L->vec : 4);
  CLT_TRY(
      clt_kernel_create(ctx, "conv.cl", L->vec > 1 ? "im2col_vec" : "im2col", options, &L->im2col));
  CLT_TRY(
      clt_kernel_create(ctx, "conv.cl", L->vec > 1 ? "col2im_vec" : "col2im", options, &L->col2im));
  clt_conv_direct_release(&L->dk);
  clt_conv_implicit_release(&L->ik);
  L->dk_built = L->ik_built = 0;
  L->built_for = ctx;
  L->run = L->run_bwd = unmeasured_rule(L, ctx);
  L->decided = L->algorithm != ALGO_AUTO;
  L->measured = 0;
  return clt_bias_act_prepare(&L->ba, ctx, L->filters);
}

/* The geometry arguments shared by im2col and col2im, after the two buffers and the
 * batch size N. */
static void geometry_args(const conv_layer *L, clt_kernel *k) {
  clt_arg_int(k, L->in.h);
  clt_arg_int(k, L->in.w);
  clt_arg_int(k, L->in.c);
  clt_arg_int(k, L->out.h);
  clt_arg_int(k, L->out.w);
  clt_arg_int(k, L->size);
  clt_arg_int(k, L->stride);
  clt_arg_int(k, L->pad_top);
  clt_arg_int(k, L->pad_left);
}

/* col [R, KKC] (written) from x [N, H, W, C]: work-items (K*C, OW*K, N*OH), one per
 * entry (cl/conv.cl). */
static clt_status run_im2col(conv_layer *L, const clt_pass *p) {
  if (!p->workspace)
    return clt_fail(CLT_ERR_INTERNAL, "conv: no workspace buffer (the memory plan gave none)");
  clt_kernel *k = &L->im2col;
  clt_arg_mem(k, p->x);
  clt_arg_mem(k, p->workspace);
  clt_arg_int(k, p->batch);
  geometry_args(L, k);
  size_t global[3] = {(size_t)L->size * L->in.c / L->vec, (size_t)L->out.w * L->size,
                      (size_t)p->batch * L->out.h};
  size_t local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(p->ctx, k, global, local);
}

/* dx [N, H, W, C] (written) from dcol [R, KKC]: work-items (C, W, N*H). */
static clt_status run_col2im(conv_layer *L, const clt_pass *p, cl_mem dcol) {
  clt_kernel *k = &L->col2im;
  clt_arg_mem(k, dcol);
  clt_arg_mem(k, p->dx);
  clt_arg_int(k, p->batch);
  geometry_args(L, k);
  size_t global[3] = {(size_t)L->in.c / L->vec, (size_t)L->in.w, (size_t)p->batch * L->in.h},
         local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(p->ctx, k, global, local);
}

/* Checks that every tensor of a batch of n fits the kernels' int indices. */
static clt_status check_batch(const conv_layer *L, int n, size_t *rows, size_t *kkc) {
  *kkc = (size_t)L->size * L->size * L->in.c;
  *rows = (size_t)n * L->out.h * L->out.w;
  CLT_TRY(clt_check_int_count((size_t)n * clt_shape_size(L->in), "conv", "input"));
  CLT_TRY(clt_check_int_count(*rows * L->filters, "conv", "output"));
  return clt_check_int_count(*rows * *kkc, "conv", "im2col");
}

/* The profiler records the launches of an algorithm's pass as one span named like an
 * SGEMM call of the same product ("sgemm_NT RxFxKKC conv:implicit"), so that `cltrain
 * bench` counts its FLOPs and shows, per layer and pass, which algorithm ran. */
typedef struct span {
  cl_event *end;
  struct clt_profiler *saved;
} span;

static span span_begin(clt_ctx *ctx, const char *op, size_t m, size_t n, size_t k,
                       conv_algorithm a) {
  span sp = {NULL, ctx->profiler};
  if (!ctx->profiler) return sp;
  char name[160];
  snprintf(name, sizeof name, "sgemm_%s %zux%zux%zu conv:%s", op, m, n, k, algorithm_names[a]);
  cl_event *start = NULL;
  sp.end = clt_profile_event_span(ctx, name, &start);
  if (start && clEnqueueMarkerWithWaitList(ctx->compute, 0, NULL, start) != CL_SUCCESS)
    *start = NULL;
  ctx->profiler = NULL; /* the span covers its launches: they record no events of their own */
  return sp;
}

static clt_status span_end(clt_ctx *ctx, span sp, clt_status st) {
  ctx->profiler = sp.saved;
  if (st == CLT_OK && sp.end &&
      clEnqueueMarkerWithWaitList(ctx->compute, 0, NULL, sp.end) != CL_SUCCESS)
    *sp.end = NULL;
  return st;
}

/* Builds the direct or implicit kernels before their first launch. */
static clt_status ensure_kernels(conv_layer *L, conv_algorithm a) {
  int direct = a == ALGO_DIRECT, implicit = a == ALGO_IMPLICIT || a == ALGO_IMPLICIT_DW;
  if ((!direct || L->dk_built) && (!implicit || L->ik_built)) return CLT_OK;
  clt_conv_geom g = {L->in.h,    L->in.w, L->in.c,   L->out.h,   L->out.w,
                     L->filters, L->size, L->stride, L->pad_top, L->pad_left};
  if (direct)
    CLT_TRY(clt_conv_direct_prepare(&L->dk, L->built_for, &g, L->ba.act, L->ba.alpha, L->ba.bias));
  else
    CLT_TRY(
        clt_conv_implicit_prepare(&L->ik, L->built_for, &g, L->ba.act, L->ba.alpha, L->ba.bias));
  if (direct)
    L->dk_built = 1;
  else
    L->ik_built = 1;
  return CLT_OK;
}

static clt_status forward_with(conv_layer *L, const clt_pass *p, conv_algorithm a) {
  size_t R, KKC, F = (size_t)L->filters;
  CLT_TRY(check_batch(L, p->batch, &R, &KKC));
  CLT_TRY(ensure_kernels(L, a));
  if (a != ALGO_IM2COL && !p->workspace)
    return clt_fail(CLT_ERR_INTERNAL, "conv: no workspace buffer (the memory plan gave none)");
  if (a == ALGO_DIRECT || a == ALGO_IMPLICIT) {
    span sp = span_begin(p->ctx, "NT", R, F, KKC, a);
    clt_status st = a == ALGO_DIRECT
                        ? clt_conv_direct_forward(&L->dk, p->ctx, p->batch, p->x, p->params[0],
                                                  p->params[1], p->y, p->workspace)
                        : clt_conv_implicit_forward(&L->ik, p->ctx, p->batch, p->x, p->params[0],
                                                    p->params[1], p->y, p->workspace);
    return span_end(p->ctx, sp, st);
  }
  cl_mem col = p->x; /* [R, C]: pointwise */
  if (!L->pointwise) {
    CLT_TRY(run_im2col(L, p));
    col = p->workspace;
  }
  /* y [R, F] = act(col [R, KKC] x W^T + b), W [F, KKC]: bias and activation fused into the
   * GEMM where it can (bias_act.h) */
  return clt_bias_act_gemm_forward(&L->ba, p->ctx, col, p->params[0], p->params[1], p->y, R,
                                   L->filters, KKC);
}

/* dx from dz: dcol [R, KKC] = dz x W, then col2im; pointwise: dcol is dx itself. Else
 * dcol overwrites the workspace, which the in-order queue has finished reading. */
static clt_status input_gradient(conv_layer *L, const clt_pass *p, cl_mem dz, size_t R, size_t KKC,
                                 size_t F, conv_algorithm a) {
  if (a == ALGO_IMPLICIT) {
    span sp = span_begin(p->ctx, "NN", R, KKC, F, a);
    return span_end(p->ctx, sp,
                    clt_conv_implicit_dx(&L->ik, p->ctx, p->batch, dz, p->params[0], p->dx));
  }
  cl_mem dcol = L->pointwise ? p->dx : p->workspace;
  CLT_TRY(clt_sgemm(p->ctx, CLT_N, CLT_N, R, KKC, F, 1.0f, dz, 0, F, p->params[0], 0, KKC, 0.0f,
                    dcol, 0, KKC));
  if (L->pointwise) return CLT_OK;
  return run_col2im(L, p, dcol);
}

static clt_status backward_with(conv_layer *L, const clt_pass *p, conv_algorithm a) {
  size_t R, KKC, F = (size_t)L->filters;
  CLT_TRY(check_batch(L, p->batch, &R, &KKC));
  CLT_TRY(ensure_kernels(L, a));
  cl_mem dz = p->dy;
  if (a != ALGO_IM2COL && !p->workspace)
    return clt_fail(CLT_ERR_INTERNAL, "conv: no workspace buffer (the memory plan gave none)");
  if (a == ALGO_DIRECT) {
    /* dW, db and (when dx follows) dz in place in dy, in two launches; dx by GEMM. */
    span sp = span_begin(p->ctx, "TN", F, KKC, R, a);
    CLT_TRY(span_end(p->ctx, sp,
                     clt_conv_direct_backward(&L->dk, p->ctx, p->batch, p->x, p->y, dz, p->grads[0],
                                              p->grads[1], p->workspace, p->dx != NULL)));
    if (!p->dx) return CLT_OK;
    return input_gradient(L, p, dz, R, KKC, F, ALGO_IM2COL);
  }
  conv_algorithm a_dx = a == ALGO_IMPLICIT ? ALGO_IMPLICIT : ALGO_IM2COL;
  /* dz [R, F] = dy * act'(y), in place in dy (see the contract at the top); db += colsum. */
  CLT_TRY(clt_bias_act_backward(&L->ba, p->ctx, p->y, dz, p->grads[1], R, L->filters));
  if (a == ALGO_IMPLICIT || a == ALGO_IMPLICIT_DW) {
    span sp = span_begin(p->ctx, "TN", F, KKC, R, ALGO_IMPLICIT);
    CLT_TRY(span_end(
        p->ctx, sp,
        clt_conv_implicit_dw(&L->ik, p->ctx, p->batch, p->x, dz, p->grads[0], p->workspace)));
  } else {
    cl_mem col = p->x;
    if (!L->pointwise) {
      CLT_TRY(run_im2col(L, p)); /* recomputed: the workspace did not survive */
      col = p->workspace;
    }
    /* dW [F, KKC] += dz^T x col */
    CLT_TRY(clt_sgemm(p->ctx, CLT_T, CLT_N, F, KKC, R, 1.0f, dz, 0, F, col, 0, KKC, 1.0f,
                      p->grads[0], 0, KKC));
  }
  if (!p->dx) return CLT_OK;
  return input_gradient(L, p, dz, R, KKC, F, a_dx);
}

/* auto at the first forward: the stored decision for this device, driver, shape and batch,
 * else the forward candidates timed on a forward pass and the backward candidates on a
 * backward pass (with an input gradient unless it is the first layer) on scratch gradients,
 * within the start-up budget of GEMM selection ($CLTRAIN_GEMM_BUDGET, default 8 s: the
 * time both have spent counts; im2col is timed with the default GEMM variant, see choose);
 * the winners are stored. No measurement (the unmeasured rule) when GEMM
 * selection is not "auto" (CLTRAIN_GEMM=default: deterministic runs, Oclgrind) or the
 * budget is spent. */
static clt_status time_pass(conv_layer *L, const clt_pass *q, conv_algorithm a, int backward,
                            double *seconds) {
  clt_ctx *ctx = q->ctx;
  double best = 1e30, spent = 0.0;
  clt_status st = CLT_OK;
  if (backward) st = forward_with(L, q, L->run); /* y for act'(y) */
  for (int r = -1; r < 2 && st == CLT_OK; r++) {
    st = clt_ctx_finish(ctx);
    double t0 = clt_now_seconds();
    if (st == CLT_OK) st = backward ? backward_with(L, q, a) : forward_with(L, q, a);
    if (st == CLT_OK) st = clt_ctx_finish(ctx);
    double t = clt_now_seconds() - t0;
    if (r < 0) continue; /* the first call builds GEMM kernels and chooses their variants */
    if (t < best) best = t;
    spent += t;
    if (spent > 0.1) break; /* a slow candidate: enough */
  }
  *seconds = best;
  return st;
}

static int candidate(const conv_layer *L, conv_algorithm a, int backward, int first) {
  if (a == ALGO_DIRECT) return may_use_direct(L);
  if (a == ALGO_IMPLICIT_DW) return backward && !first; /* as implicit without a dx */
  return 1;
}

/* Times the candidates of one pass; the fastest into *winner (unchanged when none ran).
 * Past deadline (clt_now_seconds) no further candidate starts and *complete is cleared. */
static clt_status time_candidates(conv_layer *L, const clt_pass *q, int backward,
                                  conv_algorithm *winner, double *seconds, double deadline,
                                  int *complete) {
  *seconds = 1e30;
  for (int a = ALGO_IM2COL; a <= ALGO_IMPLICIT_DW; a++) {
    if (!candidate(L, (conv_algorithm)a, backward, q->dx == NULL)) continue;
    if (clt_now_seconds() > deadline) {
      *complete = 0;
      return CLT_OK;
    }
    double t = 0.0;
    CLT_TRY(time_pass(L, q, (conv_algorithm)a, backward, &t));
    if (t < *seconds) {
      *seconds = t;
      *winner = (conv_algorithm)a;
    }
  }
  return CLT_OK;
}

static int algorithm_named(const char *name, conv_algorithm *out) {
  for (int a = ALGO_IM2COL; a <= ALGO_IMPLICIT_DW; a++)
    if (strcmp(name, algorithm_names[a]) == 0) {
      *out = (conv_algorithm)a;
      return 1;
    }
  return 0;
}

static clt_status choose(conv_layer *L, const clt_pass *p) {
  clt_ctx *ctx = p->ctx;
  L->decided = 1;
  clt_conv_shape sh = {L->in.h,    L->in.w,       L->in.c,     L->filters,   L->size, L->stride,
                       L->pad_top, L->pad_bottom, L->pad_left, L->pad_right, p->batch};
  clt_conv_choice c;
  conv_algorithm fwd, bwd;
  int first = p->layer_index == 0;
  if (clt_conv_choice_find(ctx, &sh, &c) && algorithm_named(c.forward, &fwd) &&
      algorithm_named(c.backward, &bwd) && fwd != ALGO_IMPLICIT_DW && candidate(L, fwd, 0, 0) &&
      candidate(L, bwd, 1, first)) {
    L->run = fwd;
    L->run_bwd = bwd;
    L->measured = 1;
    return CLT_OK;
  }
  double budget = ctx->gemm_budget > 0 ? ctx->gemm_budget : 8.0;
  if ((ctx->gemm_mode[0] && strcmp(ctx->gemm_mode, "auto") != 0) ||
      ctx->conv_select_seconds + clt_gemm_selection_seconds(ctx, NULL) >= budget)
    return CLT_OK;
  size_t R, KKC, F = (size_t)L->filters;
  CLT_TRY(check_batch(L, p->batch, &R, &KKC));
  size_t sizes[4] = {R * F, (size_t)p->batch * clt_shape_size(L->in), F * KKC, F};
  cl_mem bufs[4] = {NULL, NULL, NULL, NULL};
  clt_status st = CLT_OK;
  for (int i = 0; i < 4 && st == CLT_OK; i++) {
    st = clt_buffer_create(ctx, sizes[i] * sizeof(float), &bufs[i]);
    if (st == CLT_OK) st = clt_buffer_zero(ctx, bufs[i], 0, sizes[i] * sizeof(float));
  }
  clt_pass q = *p; /* y is p's (the real forward follows); gradients are scratch */
  q.dy = bufs[0];
  q.dx = first ? NULL : bufs[1];
  q.grads[0] = bufs[2];
  q.grads[1] = bufs[3];
  struct clt_profiler *profiler = ctx->profiler;
  ctx->profiler = NULL; /* the timing is no part of any profiled step */
  double start = clt_now_seconds();
  /* The budget bounds this layer too: a first run on a machine whose PoCL cache is empty
   * compiles every candidate, a second or more each. Cut short, the layer keeps the
   * unmeasured rule for this run and stores nothing (a later run times it whole). */
  double deadline =
      start + (budget - ctx->conv_select_seconds - clt_gemm_selection_seconds(ctx, NULL));
  int complete = 1;
  /* im2col's GEMMs run the device's default variant while the candidates are timed, so no
   * GEMM choice (PoCL compiling its variants: 7 s for fashion_cnn's first layer on a fresh
   * machine) nests inside one candidate's timing; the winner's GEMMs are chosen at their
   * first real call. */
  int forced = clt_gemm_is_forced(ctx);
  clt_gemm_variant plain;
  clt_gemm_default_variant(&ctx->dev, &plain);
  if (!forced) clt_gemm_force(ctx, &plain);
  fwd = L->run, bwd = L->run_bwd;
  if (st == CLT_OK) st = time_candidates(L, &q, 0, &fwd, &c.seconds_forward, deadline, &complete);
  L->run = fwd; /* the backward candidates run after the chosen forward */
  if (st == CLT_OK && complete)
    st = time_candidates(L, &q, 1, &bwd, &c.seconds_backward, deadline, &complete);
  if (!forced) clt_gemm_force(ctx, NULL);
  ctx->profiler = profiler;
  ctx->conv_select_seconds += clt_now_seconds() - start;
  for (int i = 0; i < 4; i++)
    if (bufs[i]) clReleaseMemObject(bufs[i]);
  CLT_TRY(st);
  if (!complete) {
    L->run = L->run_bwd = unmeasured_rule(L, ctx);
    return CLT_OK;
  }
  L->run = fwd;
  L->run_bwd = bwd;
  L->measured = 1;
  c.shape = sh;
  snprintf(c.forward, sizeof c.forward, "%s", algorithm_names[fwd]);
  snprintf(c.backward, sizeof c.backward, "%s", algorithm_names[bwd]);
  if (clt_conv_choice_store(ctx, &c) != CLT_OK)
    clt_warn("conv algorithm choice not stored: %s", clt_last_error());
  return CLT_OK;
}

static clt_status conv_forward(void *self, const clt_pass *p) {
  conv_layer *L = self;
  if (!L->decided) CLT_TRY(choose(L, p));
  return forward_with(L, p, L->run);
}

static clt_status conv_backward(void *self, const clt_pass *p) {
  conv_layer *L = self;
  return backward_with(L, p, L->run_bwd);
}

static void conv_describe(const void *self, char *buf, size_t size) {
  const conv_layer *L = self;
  char pad[32];
  if (L->padding == PAD_SAME)
    snprintf(pad, sizeof pad, "same");
  else if (L->padding == PAD_VALID)
    snprintf(pad, sizeof pad, "valid");
  else
    snprintf(pad, sizeof pad, "pad %d", L->pad_number);
  snprintf(buf, size, "%d %dx%d /%d %s", L->filters, L->size, L->size, L->stride, pad);
  clt_bias_act_describe(&L->ba, buf, size);
}

static void conv_info(const void *self, clt_layer_info *info) {
  const conv_layer *L = self;
  *info = (clt_layer_info){.size = L->size,
                           .stride = L->stride,
                           .pad_top = L->pad_top,
                           .pad_bottom = L->pad_bottom,
                           .pad_left = L->pad_left,
                           .pad_right = L->pad_right,
                           .bias = L->ba.bias,
                           .act = L->ba.act,
                           .alpha = L->ba.alpha,
                           .algorithm = algorithm_names[L->run],
                           .algorithm_backward = algorithm_names[L->run_bwd],
                           .measured = L->measured};
}

static void conv_destroy(void *self) {
  conv_layer *L = self;
  if (!L) return;
  clt_kernel_release(&L->im2col);
  clt_kernel_release(&L->col2im);
  clt_conv_direct_release(&L->dk);
  clt_conv_implicit_release(&L->ik);
  clt_bias_act_release(&L->ba);
  free(L);
}

const clt_layer_ops clt_layer_conv = {
    .name = "conv",
    .summary = "2-D convolution: filters, size, stride, padding (valid, same or a number), bias, "
               "activation, algorithm (auto, im2col, implicit or direct)",
    .parse = conv_parse,
    .infer = conv_infer,
    .sizes = conv_sizes,
    .prepare = conv_prepare,
    .forward = conv_forward,
    .backward = conv_backward,
    .describe = conv_describe,
    .destroy = conv_destroy,
    .info = conv_info,
};
