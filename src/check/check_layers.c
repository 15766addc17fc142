/* <layer>/<case>: every layer type of the registry (nn/registry.c), forward and backward
 * on the device against the float64 reference (src/ref), on fresh random inputs.
 *
 * The rows come from the registry: each layer type runs the cases of the table below
 * that name it, and a type without a case (or without a reference adapter) gets a row
 * "<layer>/missing" that fails, so that a new layer type cannot slip past the check.
 *
 * One case: the layer is built from its model-file section (parse, infer, sizes,
 * prepare, as the network does), given random float inputs, parameters, starting
 * gradients, layer state and labels, then run forward and (training) backward exactly as
 * nn/network.c calls it. The reference adapter (check_layer_refs.c) reads the same keys as
 * docs/INTERNALS.md defines them and computes the same outputs in double. Compared: y; dx;
 * every parameter gradient (backward adds: the device starts from random values and must
 * end at start + gradient); layer state (batchnorm running statistics); the head's loss and
 * correct count. Every output buffer carries CHECK_PAD sentinel floats past its end, which must
 * survive (the index guard). Shapes are odd (never multiples of a work-group size),
 * include batch 1, stride 2, padding and, for the elementwise layers, a length of
 * 2 x (the device's work-group size) + 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "nn/ini.h"
#include "nn/layer.h"
#include "nn/metrics.h"
#include "runtime/memory.h"
#include "runtime/rng.h"

/* ---- the cases ---- */

enum { DEF = 1, QUICK = 2, BOTH = 3 };
#define WG (-1) /* w = 2 * work-group + 1 (with h = c = 1) */

typedef struct layer_case {
  const char *layer; /* registry name */
  const char *name;  /* the row is "<layer>/<name>" */
  int modes;         /* DEF, QUICK or BOTH */
  int n, h, w, c;    /* input (batch, then one sample) */
  const char *keys;  /* the section's body */
  int training;      /* 0: an inference forward only */
  double x_lo, x_hi; /* input range; both 0: [-1, 1) */
  double quantum;    /* > 0: inputs rounded to multiples of it (ties) */
  int first;         /* 1: backward as the network's first layer (dx NULL, not compared) */
} layer_case;

static const layer_case cases[] = {
    /* conv: padding same / valid / a number, asymmetric same, strides 1-3, 1x1 paths,
     * batch 1, every activation, with and without bias. */
    {"conv", "3x3-s1-same-relu", BOTH, 3, 7, 5, 3,
     "filters = 5\nsize = 3\npadding = same\n"
     "activation = relu\n",
     1, 0, 0, 0, 0},
    {"conv", "3x3-s2-valid-batch1", DEF, 1, 7, 5, 3, "filters = 13\nsize = 3\nstride = 2\n", 1, 0,
     0, 0, 0},
    {"conv", "3x3-s2-same", BOTH, 2, 5, 7, 2,
     "filters = 3\nsize = 3\nstride = 2\n"
     "padding = same\nactivation = leaky_relu\n"
     "alpha = 0.1\n",
     1, 0, 0, 0, 0},
    {"conv", "5x5-s2-pad2-tanh-nobias", DEF, 3, 7, 5, 3,
     "filters = 1\nsize = 5\nstride = 2\n"
     "padding = 2\nbias = 0\n"
     "activation = tanh\n",
     1, 0, 0, 0, 0},
    {"conv", "1x1-sigmoid", DEF, 3, 7, 5, 3, "filters = 13\nsize = 1\nactivation = sigmoid\n", 1, 0,
     0, 0, 0},
    {"conv", "1x1-s2-same-leaky", DEF, 2, 7, 5, 3,
     "filters = 5\nsize = 1\nstride = 2\n"
     "padding = same\nactivation = leaky_relu\n"
     "alpha = 0.1\n",
     1, 0, 0, 0, 0},
    {"conv", "4x4-same-asymmetric", DEF, 1, 6, 8, 2, "filters = 4\nsize = 4\npadding = same\n", 1,
     0, 0, 0, 0},
    {"conv", "3x3-s3-same-relu", DEF, 3, 7, 5, 3,
     "filters = 5\nsize = 3\nstride = 3\n"
     "padding = same\nactivation = relu\n",
     1, 0, 0, 0, 0},
    {"conv", "3x3-s2-pad1-relu-wide", DEF, 5, 13, 11, 7,
     "filters = 17\nsize = 3\nstride = 2\n"
     "padding = 1\nactivation = relu\n",
     1, 0, 0, 0, 0},
    /* conv, both algorithms forced (auto picks direct for C <= 4 on CPUs only): the direct
     * kernels as a first layer (no dx: forward and weight gradient alone), with C = 1 and
     * 3, every vector width (F = 32, 12, 6, 5), strides, padding; with a dx (dz written
     * back for the GEMM + col2im input gradient); im2col with few channels. */
    {"conv", "direct-c1-f32-first", BOTH, 3, 11, 9, 1,
     "filters = 32\nsize = 3\nactivation = relu\nalgorithm = direct\n", 1, 0, 0, 0, 1},
    {"conv", "direct-c3-s2-same-leaky-first", DEF, 2, 9, 11, 3,
     "filters = 12\nsize = 3\nstride = 2\npadding = same\nactivation = leaky_relu\n"
     "alpha = 0.1\nalgorithm = direct\n",
     1, 0, 0, 0, 1},
    {"conv", "direct-c2-5x5-pad2-tanh-nobias", DEF, 3, 7, 6, 2,
     "filters = 6\nsize = 5\npadding = 2\nbias = 0\nactivation = tanh\nalgorithm = direct\n", 1, 0,
     0, 0, 0},
    {"conv", "direct-c1-s3-sigmoid-batch1", DEF, 1, 13, 10, 1,
     "filters = 5\nsize = 4\nstride = 3\nactivation = sigmoid\nalgorithm = direct\n", 1, 0, 0, 0,
     0},
    {"conv", "direct-c3-inference", DEF, 3, 7, 5, 3,
     "filters = 8\nsize = 3\npadding = same\nactivation = relu\nalgorithm = direct\n", 0, 0, 0, 0,
     0},
    /* im2col_vec / col2im_vec: C a multiple of 16, 8 and 4. */
    {"conv", "vec16-3x3-s1-same-relu", BOTH, 2, 6, 5, 16,
     "filters = 7\nsize = 3\npadding = same\nactivation = relu\n", 1, 0, 0, 0, 0},
    {"conv", "vec8-3x3-s2-valid", DEF, 3, 9, 7, 8, "filters = 5\nsize = 3\nstride = 2\n", 1, 0, 0,
     0, 0},
    {"conv", "vec4-5x5-s2-pad1-tanh", DEF, 2, 9, 8, 12,
     "filters = 6\nsize = 5\nstride = 2\npadding = 1\nactivation = tanh\n", 1, 0, 0, 0, 0},
    {"conv", "im2col-c3-relu-first", DEF, 3, 7, 5, 3,
     "filters = 5\nsize = 3\npadding = same\nactivation = relu\nalgorithm = im2col\n", 1, 0, 0, 0,
     1},
    /* conv, implicit GEMM forced (forward with the fused bias and activation, dx, dW):
     * strides 1-3, padding same / valid / a number, 1x1, C = 1 and 3, odd sizes, every
     * vector width of filters (F = 32, 24, 12, 6, 5) and channels (C = 16, 8, 12, 6, 3, 1),
     * a first layer and an inference forward. */
    {"conv", "implicit-3x3-s1-same-relu", BOTH, 3, 7, 5, 3,
     "filters = 5\nsize = 3\npadding = same\nactivation = relu\nalgorithm = implicit\n", 1, 0, 0, 0,
     0},
    {"conv", "implicit-c16-f32-3x3-s2-valid", BOTH, 2, 9, 7, 16,
     "filters = 32\nsize = 3\nstride = 2\nalgorithm = implicit\n", 1, 0, 0, 0, 0},
    {"conv", "implicit-c1-f32-first", BOTH, 3, 11, 9, 1,
     "filters = 32\nsize = 3\nactivation = relu\nalgorithm = implicit\n", 1, 0, 0, 0, 1},
    {"conv", "implicit-c1-f24-5x5-pad2-tanh-nobias", DEF, 2, 9, 7, 1,
     "filters = 24\nsize = 5\npadding = 2\nbias = 0\nactivation = tanh\n"
     "algorithm = implicit\n",
     1, 0, 0, 0, 0},
    {"conv", "implicit-c8-f12-3x3-s3-same-leaky", DEF, 3, 11, 10, 8,
     "filters = 12\nsize = 3\nstride = 3\npadding = same\nactivation = leaky_relu\n"
     "alpha = 0.1\nalgorithm = implicit\n",
     1, 0, 0, 0, 0},
    {"conv", "implicit-c12-f6-4x4-same-asymmetric", DEF, 2, 6, 8, 12,
     "filters = 6\nsize = 4\npadding = same\nalgorithm = implicit\n", 1, 0, 0, 0, 0},
    {"conv", "implicit-c6-f5-1x1-sigmoid", DEF, 3, 7, 5, 6,
     "filters = 5\nsize = 1\nactivation = sigmoid\nalgorithm = implicit\n", 1, 0, 0, 0, 0},
    {"conv", "implicit-c3-f17-1x1-s2-same", DEF, 2, 7, 5, 3,
     "filters = 17\nsize = 1\nstride = 2\npadding = same\nalgorithm = implicit\n", 1, 0, 0, 0, 0},
    {"conv", "implicit-c3-f64-3x3-s2-pad1-wide", DEF, 5, 13, 11, 3,
     "filters = 64\nsize = 3\nstride = 2\npadding = 1\nactivation = relu\n"
     "algorithm = implicit\n",
     1, 0, 0, 0, 0},
    {"conv", "implicit-c32-f64-3x3-batch64", DEF, 64, 5, 5, 32,
     "filters = 64\nsize = 3\nactivation = relu\nalgorithm = implicit\n", 1, 0, 0, 0, 0},
    {"conv", "implicit-c3-inference", DEF, 3, 7, 5, 3,
     "filters = 8\nsize = 3\npadding = same\nactivation = relu\nalgorithm = implicit\n", 0, 0, 0, 0,
     0},
    /* dense: implicit flatten, batch 1, every activation, no bias. */
    {"dense", "105-to-17-relu", BOTH, 3, 7, 5, 3, "units = 17\nactivation = relu\n", 1, 0, 0, 0, 0},
    {"dense", "batch1-sigmoid", DEF, 1, 1, 1, 37, "units = 13\nactivation = sigmoid\n", 1, 0, 0, 0,
     0},
    {"dense", "tanh-nobias", DEF, 5, 3, 3, 5, "units = 1\nbias = 0\nactivation = tanh\n", 1, 0, 0,
     0, 0},
    {"dense", "leaky-wide", DEF, 37, 1, 1, 129, "units = 67\nactivation = leaky_relu\n", 1, 0, 0, 0,
     0},
    /* maxpool: floor of odd extents, overlapping windows, ties, inference. */
    {"maxpool", "2x2", BOTH, 3, 7, 5, 3, "size = 2\n", 1, 0, 0, 0, 0},
    {"maxpool", "3x3-s2-overlap", DEF, 2, 9, 7, 5, "size = 3\nstride = 2\n", 1, 0, 0, 0, 0},
    {"maxpool", "2x2-s1-ties", DEF, 3, 7, 5, 3, "size = 2\nstride = 1\n", 1, 0, 0, 0.5, 0},
    {"maxpool", "3x3-s3-batch1", DEF, 1, 11, 13, 7, "size = 3\n", 1, 0, 0, 0, 0},
    {"maxpool", "2x2-inference", DEF, 3, 7, 5, 3, "size = 2\n", 0, 0, 0, 0, 0},
    /* maxpool_forward_vec / maxpool_backward_disjoint_vec (C = 16, 8, 12), ties; the
     * overlapping backward stays scalar. */
    {"maxpool", "vec16-2x2", BOTH, 3, 9, 7, 16, "size = 2\n", 1, 0, 0, 0, 0},
    {"maxpool", "vec8-2x2-ties", DEF, 2, 8, 6, 8, "size = 2\n", 1, 0, 0, 0.5, 0},
    {"maxpool", "vec4-3x3-s2-overlap", DEF, 2, 9, 7, 12, "size = 3\nstride = 2\n", 1, 0, 0, 0, 0},
    {"maxpool", "vec8-3x3-s3-inference", DEF, 1, 10, 11, 8, "size = 3\n", 0, 0, 0, 0, 0},
    /* avgpool */
    {"avgpool", "2x2", BOTH, 3, 7, 5, 3, "size = 2\n", 1, 0, 0, 0, 0},
    {"avgpool", "3x3-s2-overlap", DEF, 2, 9, 7, 5, "size = 3\nstride = 2\n", 1, 0, 0, 0, 0},
    {"avgpool", "2x2-s1-batch1", DEF, 1, 7, 5, 3, "size = 2\nstride = 1\n", 1, 0, 0, 0, 0},
    /* activation: each function; a length just past two work-groups. */
    {"activation", "linear", DEF, 3, 7, 5, 3, "activation = linear\n", 1, -3, 3, 0, 0},
    {"activation", "relu", BOTH, 3, 7, 5, 3, "activation = relu\n", 1, -3, 3, 0.25, 0},
    {"activation", "leaky_relu-0.2", DEF, 3, 7, 5, 3, "activation = leaky_relu\nalpha = 0.2\n", 1,
     -3, 3, 0.25, 0},
    {"activation", "sigmoid", DEF, 3, 7, 5, 3, "activation = sigmoid\n", 1, -3, 3, 0, 0},
    {"activation", "tanh-batch1", DEF, 1, 13, 11, 17, "activation = tanh\n", 1, -3, 3, 0, 0},
    {"activation", "relu-wg+1", BOTH, 1, 1, WG, 1, "activation = relu\n", 1, -3, 3, 0, 0},
    /* dropout: the mask bit for bit (a wrong element is off by O(1)), inference. */
    {"dropout", "0.5", BOTH, 3, 7, 5, 3, "rate = 0.5\n", 1, 0, 0, 0, 0},
    {"dropout", "0.25-batch1", DEF, 1, 13, 11, 17, "rate = 0.25\n", 1, 0, 0, 0, 0},
    {"dropout", "0.5-wg+1", DEF, 1, 1, WG, 1, "rate = 0.5\n", 1, 0, 0, 0, 0},
    {"dropout", "inference", DEF, 3, 7, 5, 3, "rate = 0.5\n", 0, 0, 0, 0, 0},
    /* batchnorm: inputs with mean 2 (the variance is not E[x^2]), batch 1, a dense-like
     * 1x1 input, more rows than a work-group, inference. */
    {"batchnorm", "7x5x3", BOTH, 3, 7, 5, 3, "momentum = 0.9\n", 1, -1, 5, 0, 0},
    {"batchnorm", "batch1", DEF, 1, 5, 3, 4, "epsilon = 0.01\n", 1, -1, 5, 0, 0},
    {"batchnorm", "1x1x13-batch37", DEF, 37, 1, 1, 13, "", 1, -1, 5, 0, 0},
    {"batchnorm", "rows-past-group", DEF, 5, 17, 13, 3, "momentum = 0.5\n", 1, -1, 5, 0, 0},
    /* the two-stage sums: chunks of 63 rows with a short last one; 256 chunks of 68 */
    {"batchnorm", "chunks-uneven", DEF, 41, 9, 7, 5, "", 1, -1, 5, 0, 0},
    {"batchnorm", "chunks-capped", DEF, 64, 16, 17, 3, "momentum = 0.9\n", 1, -1, 5, 0, 0},
    {"batchnorm", "inference", DEF, 3, 7, 5, 3, "", 0, -1, 5, 0, 0},
    /* softmax: the fused softmax + cross-entropy head; K = the input's channels. */
    {"softmax", "k10-batch37", BOTH, 37, 1, 1, 10, "", 1, -3, 3, 0, 0},
    {"softmax", "k2-batch1", DEF, 1, 1, 1, 2, "", 1, -3, 3, 0, 0},
    {"softmax", "k13-large-logits", DEF, 37, 1, 1, 13, "", 1, -80, 80, 0, 0},
    {"softmax", "k10-batch600", DEF, 600, 1, 1, 10, "", 1, -3, 3, 0, 0},
    {"softmax", "inference", DEF, 5, 1, 1, 4, "", 0, -3, 3, 0, 0},
    /* mse: the regression head. The harness's labels are 0, so the targets are 0.0f (their
     * bits); integer inputs make the absolute-error sum (the "correct" slot) exact. */
    {"mse", "batch37", BOTH, 37, 1, 1, 1, "", 1, -3, 3, 1.0, 0},
    {"mse", "inference", DEF, 5, 1, 1, 1, "", 0, -3, 3, 1.0, 0},
};

#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

/* ---- the harness ---- */

typedef struct bufs {
  cl_mem x, y, dy, dx, state, saved, workspace, labels, metrics;
  cl_mem params[CLT_MAX_PARAMS], grads[CLT_MAX_PARAMS];
} bufs;

static void bufs_release(bufs *b) {
  cl_mem *all[] = {&b->x,     &b->y,         &b->dy,     &b->dx,     &b->state,
                   &b->saved, &b->workspace, &b->labels, &b->metrics};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clt_buffer_release(all[i]);
  for (int p = 0; p < CLT_MAX_PARAMS; p++) {
    clt_buffer_release(&b->params[p]);
    clt_buffer_release(&b->grads[p]);
  }
}

typedef struct host {
  double *x, *dy, *y_ref, *dx_ref, *got, *state0, *state_ref;
  double *params[CLT_MAX_PARAMS], *grads0[CLT_MAX_PARAMS], *grads_ref[CLT_MAX_PARAMS];
  int32_t *labels;
} host;

static void host_free(host *h) {
  double *all[] = {h->x, h->dy, h->y_ref, h->dx_ref, h->got, h->state0, h->state_ref};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
  for (int p = 0; p < CLT_MAX_PARAMS; p++) {
    free(h->params[p]);
    free(h->grads0[p]);
    free(h->grads_ref[p]);
  }
  free(h->labels);
}

static size_t most(size_t a, size_t b) {
  return a > b ? a : b;
}

/* Random host data for the case; returns 0 when out of memory. */
static int make_host(const layer_case *lc, const clt_layer_sizes *sz, size_t nx, size_t ny,
                     int classes, uint32_t seed, host *h) {
  size_t largest = most(nx, ny);
  h->x = clt_check_alloc(nx);
  h->dy = clt_check_alloc(ny);
  h->y_ref = clt_check_alloc(ny);
  h->dx_ref = clt_check_alloc(nx);
  h->state0 = clt_check_alloc(sz->state_floats);
  h->state_ref = clt_check_alloc(sz->state_floats);
  h->labels = calloc((size_t)lc->n, sizeof *h->labels);
  int ok = h->x && h->dy && h->y_ref && h->dx_ref && h->state0 && h->state_ref && h->labels;
  for (int p = 0; ok && p < sz->param_count; p++) {
    size_t n = sz->params[p].count;
    largest = most(largest, n);
    h->params[p] = clt_check_alloc(n);
    h->grads0[p] = clt_check_alloc(n);
    h->grads_ref[p] = clt_check_alloc(n);
    ok = h->params[p] && h->grads0[p] && h->grads_ref[p];
    if (!ok) break;
    int ones = sz->params[p].init == CLT_INIT_ONES; /* gamma: around 1 */
    clt_check_fill(h->params[p], n, ones ? 0.5 : -0.5, ones ? 1.5 : 0.5, seed, 10u + (uint32_t)p);
    clt_check_fill(h->grads0[p], n, -0.25, 0.25, seed, 20u + (uint32_t)p);
    memcpy(h->grads_ref[p], h->grads0[p], n * sizeof(double));
  }
  h->got = ok ? clt_check_alloc(most(largest, sz->state_floats)) : NULL;
  if (!ok || !h->got) return 0;
  double lo = lc->x_lo, hi = lc->x_hi;
  if (lo == 0.0 && hi == 0.0) lo = -1.0, hi = 1.0;
  clt_check_fill(h->x, nx, lo, hi, seed, 1u);
  if (lc->quantum > 0.0)
    for (size_t i = 0; i < nx; i++) h->x[i] = floor(h->x[i] / lc->quantum) * lc->quantum;
  clt_check_fill(h->dy, ny, -1.0, 1.0, seed, 2u);
  /* State: the part that starts at 0 around 0, the part that starts at 1 around 1. */
  size_t ones_from = (size_t)sz->state_init_ones_from;
  for (size_t i = 0; i < sz->state_floats; i++) {
    double u = clt_uniform(seed, 3u, (uint32_t)i);
    h->state0[i] = (double)(float)(i >= ones_from ? 0.5 + 1.5 * u : u - 0.5);
  }
  memcpy(h->state_ref, h->state0, sz->state_floats * sizeof(double));
  for (int s = 0; s < lc->n; s++)
    h->labels[s] = (int32_t)(clt_uniform(seed, 4u, (uint32_t)s) * (float)classes) % classes;
  return 1;
}

static clt_status upload_labels(clt_ctx *ctx, const int32_t *labels, int n, cl_mem *out) {
  CLT_TRY(clt_buffer_create(ctx, (size_t)n * sizeof(int32_t), out));
  return clt_buffer_write(ctx, *out, 0, (size_t)n * sizeof(int32_t), labels);
}

/* Device side of one case: buffers, forward, backward. */
static clt_status run_device(const clt_check_env *env, const clt_layer_ops *ops, void *self,
                             const layer_case *lc, const clt_layer_sizes *sz, size_t nx, size_t ny,
                             const host *h, bufs *b, clt_pass *pass) {
  clt_ctx *ctx = env->ctx;
  int head = sz->needs_labels;
  CLT_TRY(clt_check_upload(ctx, h->x, nx, 0, &b->x));
  CLT_TRY(clt_check_upload(ctx, NULL, ny, CHECK_PAD, &b->y));
  CLT_TRY(clt_check_upload(ctx, NULL, nx, CHECK_PAD, &b->dx)); /* junk: dx is written, not added */
  for (int p = 0; p < sz->param_count; p++) {
    CLT_TRY(clt_check_upload(ctx, h->params[p], sz->params[p].count, 0, &b->params[p]));
    CLT_TRY(clt_check_upload(ctx, h->grads0[p], sz->params[p].count, CHECK_PAD, &b->grads[p]));
  }
  if (sz->state_floats)
    CLT_TRY(clt_check_upload(ctx, h->state0, sz->state_floats, CHECK_PAD, &b->state));
  /* Saved and workspace hold junk (the sentinel) on entry: layers must not rely on zeros. */
  if (sz->saved_floats) CLT_TRY(clt_check_upload(ctx, NULL, 0, sz->saved_floats, &b->saved));
  if (sz->workspace_floats)
    CLT_TRY(clt_check_upload(ctx, NULL, 0, sz->workspace_floats, &b->workspace));
  if (head) {
    CLT_TRY(upload_labels(ctx, h->labels, lc->n, &b->labels));
    double zeros[CLT_METRIC_FLOATS] = {0};
    CLT_TRY(clt_check_upload(ctx, zeros, CLT_METRIC_FLOATS, 0, &b->metrics));
  }

  memset(pass, 0, sizeof *pass);
  pass->ctx = ctx;
  pass->batch = lc->n;
  pass->training = lc->training;
  pass->seed = 1234u;
  pass->step = 17u;
  pass->layer_index = 3;
  pass->x = b->x;
  pass->y = b->y;
  for (int p = 0; p < sz->param_count; p++) {
    pass->params[p] = b->params[p];
    pass->grads[p] = b->grads[p];
  }
  pass->state = b->state;
  pass->saved = b->saved; /* as nn/network.c: in inference too */
  pass->workspace = b->workspace;
  if (head) {
    pass->labels = b->labels;
    pass->metrics = b->metrics;
    if (lc->training) pass->dx = b->dx; /* the head writes the loss gradient in forward */
  }
  CLT_TRY(ops->forward(self, pass));
  if (lc->training && !head) {
    /* Spoil the workspace between the passes: it does not survive (nn/layer.h). */
    if (b->workspace) CLT_TRY(clt_check_spoil(ctx, b->workspace, sz->workspace_floats));
    CLT_TRY(clt_check_upload(ctx, h->dy, ny, 0, &b->dy)); /* conv consumes dy in place */
    pass->dy = b->dy;
    pass->dx = lc->first ? NULL : b->dx;
    CLT_TRY(ops->backward(self, pass));
  }
  return clt_ctx_finish(ctx);
}

static clt_status compare_all(const clt_check_env *env, const layer_case *lc,
                              const clt_layer_sizes *sz, size_t nx, size_t ny, host *h,
                              const bufs *b, clt_check_layer_io *io, clt_check_result *r) {
  clt_ctx *ctx = env->ctx;
  int head = sz->needs_labels;
  CLT_TRY(clt_check_download(ctx, b->y, ny, h->got));
  clt_check_compare(r, "y", h->got, h->y_ref, ny, 1e-30, io->tol_y);
  CLT_TRY(clt_check_tail(ctx, b->y, ny, CHECK_PAD, "y", r));
  if (lc->training && !lc->first) {
    CLT_TRY(clt_check_download(ctx, b->dx, nx, h->got));
    clt_check_compare(r, "dx", h->got, h->dx_ref, nx, io->floor_dx, io->tol_dx);
    CLT_TRY(clt_check_tail(ctx, b->dx, nx, CHECK_PAD, "dx", r));
  }
  for (int p = 0; p < sz->param_count; p++) {
    char what[64];
    snprintf(what, sizeof what, "d%s", sz->params[p].name);
    size_t n = sz->params[p].count;
    CLT_TRY(clt_check_download(ctx, b->grads[p], n, h->got));
    clt_check_compare(r, what, h->got, lc->training ? h->grads_ref[p] : h->grads0[p], n, 1e-30,
                      lc->training ? io->tol_params : 0.0);
    CLT_TRY(clt_check_tail(ctx, b->grads[p], n, CHECK_PAD, what, r));
  }
  if (sz->state_floats) {
    CLT_TRY(clt_check_download(ctx, b->state, sz->state_floats, h->got));
    /* Inference leaves the state alone, bit for bit. */
    clt_check_compare(r, "state", h->got, h->state_ref, sz->state_floats, 1e-30,
                      lc->training ? io->tol_state : 0.0);
    CLT_TRY(clt_check_tail(ctx, b->state, sz->state_floats, CHECK_PAD, "state", r));
  }
  if (head) {
    double m[CLT_METRIC_FLOATS];
    CLT_TRY(clt_check_download(ctx, b->metrics, CLT_METRIC_FLOATS, m));
    double mean = m[CLT_METRIC_COUNT] > 0 ? m[CLT_METRIC_LOSS_SUM] / m[CLT_METRIC_COUNT] : NAN;
    clt_check_compare(r, "loss", &mean, &io->loss, 1, 1.0, io->tol_loss);
    if (m[CLT_METRIC_COUNT] != (double)lc->n)
      clt_check_failf(r, "metrics: sample count %g, want %d", m[CLT_METRIC_COUNT], lc->n);
    if (m[CLT_METRIC_CORRECT] != (double)io->correct)
      clt_check_failf(r, "metrics: correct count %g, want %d", m[CLT_METRIC_CORRECT], io->correct);
    if (m[CLT_METRIC_NONFINITE] != 0.0)
      clt_check_failf(r, "metrics: the non-finite flag is set for a finite batch");
  }
  return CLT_OK;
}

static clt_status run_layer(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const layer_case *lc = check->arg;
  const clt_layer_ops *ops = clt_layer_find(lc->layer);
  const clt_check_layer_ref *ref = clt_check_layer_ref_find(lc->layer);
  if (!ops || !ref) return clt_fail(CLT_ERR_INTERNAL, "no layer type or reference %s", lc->layer);
  clt_shape in = {lc->h, lc->w, lc->c}, out = {0, 0, 0}; /* out is read on failure too */
  if (lc->w == WG) in.w = (int)(2 * env->group + 1);

  char text[512];
  snprintf(text, sizeof text, "[%s]\n%s", lc->layer, lc->keys);
  clt_ini *ini = NULL;
  void *self = NULL;
  host h;
  bufs b;
  memset(&h, 0, sizeof h);
  memset(&b, 0, sizeof b);
  clt_status st = clt_ini_parse_string(text, check->name, &ini);
  if (st == CLT_OK) st = ops->parse(&ini->sections[0], &self);
  if (st == CLT_OK) st = clt_ini_check_unused(&ini->sections[0]);
  if (st == CLT_OK) st = ops->infer(self, &ini->sections[0], in, &out);
  clt_layer_sizes sz;
  memset(&sz, 0, sizeof sz);
  if (st == CLT_OK) ops->sizes(self, lc->n, &sz);
  if (st == CLT_OK) st = ops->prepare(self, env->ctx);
  size_t nx = (size_t)lc->n * clt_shape_size(in), ny = (size_t)lc->n * clt_shape_size(out);
  if (st == CLT_OK &&
      !make_host(lc, &sz, nx, ny, (int)out.c, 1000u + 97u * (uint32_t)check->index, &h))
    st = clt_check_oom();

  clt_pass pass;
  memset(&pass, 0, sizeof pass);
  if (st == CLT_OK) st = run_device(env, ops, self, lc, &sz, nx, ny, &h, &b, &pass);

  clt_check_layer_io io;
  memset(&io, 0, sizeof io);
  if (st == CLT_OK) {
    io.sec = &ini->sections[0];
    io.n = lc->n;
    io.in = in;
    io.out = out;
    io.training = lc->training;
    io.seed = pass.seed;
    io.step = pass.step;
    io.layer_index = pass.layer_index;
    io.x = h.x;
    io.dy = h.dy;
    io.param_count = sz.param_count;
    for (int p = 0; p < sz.param_count; p++) {
      io.param_floats[p] = sz.params[p].count;
      io.params[p] = h.params[p];
      io.grads[p] = h.grads_ref[p];
    }
    io.state = sz.state_floats ? h.state_ref : NULL;
    io.state_floats = sz.state_floats;
    io.labels = sz.needs_labels ? h.labels : NULL;
    io.y = h.y_ref;
    io.dx = h.dx_ref;
    const char *why = ref->run(&io);
    if (why)
      clt_check_failf(r, "%s", why);
    else
      st = compare_all(env, lc, &sz, nx, ny, &h, &b, &io, r);
  }
  clt_ctx_finish(env->ctx);
  bufs_release(&b);
  host_free(&h);
  if (self) ops->destroy(self);
  clt_ini_free(ini);
  return st;
}

static clt_status run_missing(const clt_check_env *env, const clt_check *check,
                              clt_check_result *r) {
  (void)env;
  clt_check_failf(r,
                  "layer type [%s] has no %s: add one to src/check/check_layers.c (the check "
                  "covers every layer type of nn/registry.c)",
                  (const char *)check->arg,
                  clt_check_layer_ref_find(check->arg) ? "check case" : "reference");
  return CLT_OK;
}

clt_status clt_check_add_layers(clt_check_list *list, int quick) {
  int mode = quick ? QUICK : DEF;
  const clt_layer_ops *const *all = clt_layer_all();
  for (int t = 0; all[t]; t++) {
    const char *layer = all[t]->name;
    if (clt_check_residual_covers(layer)) continue; /* check_residual.c */
    const clt_check_layer_ref *ref = clt_check_layer_ref_find(layer);
    int added = 0;
    for (int i = 0; ref && i < CASE_COUNT; i++) {
      if (strcmp(cases[i].layer, layer) != 0 || !(cases[i].modes & mode)) continue;
      char name[80];
      snprintf(name, sizeof name, "%s/%s", layer, cases[i].name);
      CLT_TRY(clt_check_add(list, name, ref->tolerance, run_layer, &cases[i], i));
      added++;
    }
    if (!added) {
      char name[80];
      snprintf(name, sizeof name, "%s/missing", layer);
      CLT_TRY(clt_check_add(list, name, "-", run_missing, layer, t));
    }
  }
  return CLT_OK;
}
