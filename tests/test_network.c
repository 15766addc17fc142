/* The network on a device (nn/network.c): a whole-network gradient check against
 * finite differences of the device's own loss and against the float64 reference
 * chain (src/ref), parameter initialisation from the seed, and the memory plan
 * (the plan equals the allocated arenas; a batch that cannot fit fails before any
 * allocation and names the largest batch that fits), and the after_backward hook (called
 * for the head, then after each layer, last first; each layer's gradients are final when its
 * call comes; a failing hook stops the pass).
 *
 * The tiny model: input 6x6x2, conv 3 filters 3x3 same tanh, avgpool 2, dense 5 sigmoid,
 * dense 3, softmax; batch 4. Only smooth functions (no relu, no maxpool), so central
 * differences converge to the gradient.
 *
 * Tolerances:
 * - Device gradient against the float64 reference chain run on the same (float-rounded)
 *   parameters, inputs and labels: 1e-4 of the largest magnitude of each gradient tensor.
 *   Each value is a float32 sum of at most a few hundred O(1) products through four layers,
 *   with exp/tanh to a few ulp: rounding is about 1e-6 relative; 1e-4 catches any indexing
 *   or scaling error (those are O(1) relative).
 * - Central differences of the device's float32 mean loss with step h = 1e-2 (the actual
 *   step is the difference of the float-rounded perturbed weights): the loss (about 1.1) is
 *   known to a few float ulp, ~3e-7, so the difference quotient carries ~3e-7 / 2e-2 =
 *   1.5e-5 of rounding noise; the truncation error of the central difference is
 *   h^2 / 6 * |L'''|, about 2e-5 relative for O(1) third derivatives. Accepted:
 *   |fd - g| <= 2e-2 * |g| + 2e-4. The absolute term is ten times the rounding noise; a
 *   wrong sign, a missing 1/N or a transposed weight is off by O(|g|), and the gradients
 *   checked reach 0.2. Measured on PoCL: 35 parameters, |g| from 1.5e-4 to 0.22, largest
 *   |fd - g| 8e-6 (3% of the allowed); against the reference, 3e-7 at most. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/metrics.h"
#include "nn/network.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/test_util.h"

#define REF_TOL    1e-4
#define FD_STEP    1e-2
#define FD_REL_TOL 2e-2
#define FD_ABS_TOL 2e-4

static const char tiny_text[] = "[net]\n"
                                "input = 6x6x2\n"
                                "batch = 4\n"
                                "[conv]\n"
                                "filters = 3\n"
                                "size = 3\n"
                                "padding = same\n"
                                "activation = tanh\n"
                                "[avgpool]\n"
                                "size = 2\n"
                                "[dense]\n"
                                "units = 5\n"
                                "activation = sigmoid\n"
                                "[dense]\n"
                                "units = 3\n"
                                "[softmax]\n";

enum { N = 4, H = 6, W = 6, C = 2, F = 3, K = 3, PH = 3, U1 = 5, U2 = 3 };

static clt_model *parse(const char *text) {
  clt_model *m = NULL;
  OK(clt_model_parse(text, strlen(text), "tiny.cfg", &m));
  return m;
}

static clt_model *load(const char *path) {
  clt_model *m = NULL;
  OK(clt_model_load(path, &m));
  return m;
}

/* Reads an arena (or any buffer) of bytes into floats. */
static float *read_floats(clt_ctx *ctx, cl_mem mem, size_t bytes) {
  float *f = malloc(bytes ? bytes : 1);
  assert_non_null(f);
  OK(clt_buffer_read(ctx, mem, 0, bytes, f));
  return f;
}

/* One parameter tensor of one layer as doubles (the float values, widened). */
static double *param_tensor(const clt_network *net, const float *arena, int layer, int p) {
  const clt_net_layer *nl = &net->layers[layer];
  size_t n = nl->sizes.params[p].count;
  double *d = clt_test_alloc(n);
  const float *src = arena + nl->param_offset[p] / sizeof(float);
  for (size_t i = 0; i < n; i++) d[i] = src[i];
  return d;
}

/* The mean loss of the device's forward over the batch. */
static double device_loss(clt_network *net, int n) {
  float m[CLT_METRIC_FLOATS];
  OK(clt_network_zero_metrics(net));
  OK(clt_network_forward(net, n, 0, 0));
  OK(clt_network_read_metrics(net, m));
  assert_true(m[CLT_METRIC_COUNT] == (float)n);
  return (double)m[CLT_METRIC_LOSS_SUM] / m[CLT_METRIC_COUNT];
}

static void write_param(clt_network *net, int layer, int p, size_t i, float v) {
  size_t off = net->layers[layer].param_offset[p] + i * sizeof(float);
  OK(clt_buffer_write(net->ctx, net->params.mem, off, sizeof v, &v));
}

/* The float64 reference of the tiny model: loss, and every parameter gradient (added
 * into g[layer][p], zeroed by the caller). */
static double reference_chain(const double *x, const int32_t *labels, double *const w[4][2],
                              double *const g[4][2]) {
  clt_ref_conv cv = {0};
  cv.filters = F;
  cv.size = K;
  cv.stride = 1;
  cv.bias = 1;
  cv.act = CLT_ACT_TANH;
  clt_ref_shape in = {N, H, W, C};
  clt_ref_conv_set_padding(&cv, CLT_REF_PAD_SAME, 0, in);
  clt_ref_shape cout = clt_ref_conv_out_shape(&cv, in);
  assert_int_equal(cout.h, H);
  assert_int_equal(cout.w, W);
  clt_ref_pool pool = {2, 2};
  clt_ref_shape pout = clt_ref_pool_out_shape(&pool, cout);
  assert_int_equal(pout.h, PH);
  clt_ref_dense d1 = {U1, 1, CLT_ACT_SIGMOID, 0.01}, d2 = {U2, 1, CLT_ACT_LINEAR, 0.01};
  const int I1 = PH * PH * F;

  double *y0 = clt_test_alloc(N * H * W * F), *y1 = clt_test_alloc(N * I1),
         *y2 = clt_test_alloc(N * U1), *y3 = clt_test_alloc(N * U2);
  clt_ref_conv_forward(&cv, in, x, w[0][0], w[0][1], y0);
  clt_ref_avgpool_forward(&pool, cout, y0, y1);
  clt_ref_dense_forward(&d1, N, I1, y1, w[2][0], w[2][1], y2);
  clt_ref_dense_forward(&d2, N, U1, y2, w[3][0], w[3][1], y3);
  double *dz = clt_test_alloc(N * U2), *dx2 = clt_test_alloc(N * U1), *dx1 = clt_test_alloc(N * I1),
         *dx0 = clt_test_alloc(N * H * W * F), *dxin = clt_test_alloc(N * H * W * C);
  double loss = clt_ref_softmax_xent(N, U2, y3, labels, dz, NULL);
  clt_ref_dense_backward(&d2, N, U1, y2, w[3][0], y3, dz, dx2, g[3][0], g[3][1]);
  clt_ref_dense_backward(&d1, N, I1, y1, w[2][0], y2, dx2, dx1, g[2][0], g[2][1]);
  clt_ref_avgpool_backward(&pool, cout, dx1, dx0);
  clt_ref_conv_backward(&cv, in, x, w[0][0], y0, dx0, dxin, g[0][0], g[0][1]);
  free(y0), free(y1), free(y2), free(y3), free(dz), free(dx2), free(dx1), free(dx0), free(dxin);
  return loss;
}

static void test_gradient_check(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = parse(tiny_text);
  assert_int_equal(model->layer_count, 5);
  assert_int_equal(model->param_floats,
                   (K * K * C * F + F) + (PH * PH * F * U1 + U1) + (U1 * U2 + U2));
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, N, 0, 7, &net));

  /* Inputs in [-1, 1) (float values) and labels covering every class. */
  const size_t nx = (size_t)N * H * W * C;
  double *x = clt_test_random(nx, -1.0, 1.0, 1234);
  float *xf = malloc(nx * sizeof *xf);
  assert_non_null(xf);
  for (size_t i = 0; i < nx; i++) xf[i] = (float)x[i];
  const int32_t labels[N] = {0, 2, 1, 2};
  OK(clt_buffer_write(ctx, net->input, 0, nx * sizeof *xf, xf));
  OK(clt_buffer_write(ctx, net->labels, 0, sizeof labels, labels));

  /* The device gradient of the mean loss. */
  OK(clt_network_zero_grads(net));
  OK(clt_network_zero_metrics(net));
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float train_m[CLT_METRIC_FLOATS];
  OK(clt_network_read_metrics(net, train_m));
  float *params = read_floats(ctx, net->params.mem, net->params.size);
  float *grads = read_floats(ctx, net->grads.mem, net->grads.size);

  /* The float64 reference on the same parameters. */
  static const int layers[3] = {0, 2, 3};
  double *w[4][2] = {{0}}, *g[4][2] = {{0}};
  for (int k = 0; k < 3; k++) {
    int l = layers[k];
    assert_int_equal(net->layers[l].sizes.param_count, 2);
    for (int p = 0; p < 2; p++) {
      w[l][p] = param_tensor(net, params, l, p);
      g[l][p] = clt_test_alloc(net->layers[l].sizes.params[p].count);
    }
  }
  assert_int_equal(net->layers[1].sizes.param_count, 0);
  assert_int_equal(net->layers[4].sizes.param_count, 0);
  double ref_loss = reference_chain(x, labels, w, g);
  double dev_loss = (double)train_m[CLT_METRIC_LOSS_SUM] / train_m[CLT_METRIC_COUNT];
  fprintf(stderr, "loss: device %.7f, reference %.7f\n", dev_loss, ref_loss);
  assert_true(fabs(dev_loss - ref_loss) <= 1e-5 * fabs(ref_loss));
  assert_true(fabs(device_loss(net, N) - dev_loss) <= 1e-6 * fabs(ref_loss)); /* inference */

  for (int k = 0; k < 3; k++) {
    int l = layers[k];
    for (int p = 0; p < 2; p++) {
      char what[64];
      snprintf(what, sizeof what, "layer %d %s gradient", l, net->layers[l].sizes.params[p].name);
      double *got = param_tensor(net, grads, l, p);
      size_t n = net->layers[l].sizes.params[p].count;
      double rel = clt_test_rel_error(what, got, g[l][p], n, 1e-6, REF_TOL);
      fprintf(stderr, "%s: %zu values, relative error %.2e against the reference\n", what, n, rel);
      if (!(rel <= REF_TOL)) fail_msg("%s: relative error %g above %g", what, rel, REF_TOL);
      free(got);
    }
  }

  /* Central differences on a few parameters of every tensor, chosen deterministically. */
  int checked = 0;
  double worst = 0.0, worst_abs = 0.0, smallest = INFINITY, largest = 0.0;
  for (int k = 0; k < 3; k++) {
    int l = layers[k];
    for (int p = 0; p < 2; p++) {
      size_t count = net->layers[l].sizes.params[p].count;
      size_t picks = count < 8 ? count : 8;
      for (size_t j = 0; j < picks; j++) {
        size_t i = (j * 37 + 5) % count; /* 37 is prime to every count here: distinct */
        float w0 = (float)w[l][p][i];
        float wp = (float)(w0 + FD_STEP), wm = (float)(w0 - FD_STEP);
        write_param(net, l, p, i, wp);
        double lp = device_loss(net, N);
        write_param(net, l, p, i, wm);
        double lm = device_loss(net, N);
        write_param(net, l, p, i, w0);
        double fd = (lp - lm) / ((double)wp - (double)wm);
        double got = grads[net->layers[l].param_offset[p] / sizeof(float) + i];
        double err = fabs(fd - got);
        double allowed = FD_REL_TOL * fabs(got) + FD_ABS_TOL;
        if (err / allowed > worst) worst = err / allowed;
        if (err > worst_abs) worst_abs = err;
        if (fabs(got) < smallest) smallest = fabs(got);
        if (fabs(got) > largest) largest = fabs(got);
        if (err > allowed)
          fail_msg("layer %d %s[%zu]: backward %.6g, finite difference %.6g, reference %.6g", l,
                   net->layers[l].sizes.params[p].name, i, got, fd, g[l][p][i]);
        checked++;
      }
    }
  }
  fprintf(stderr,
          "finite differences: %d parameters, |gradient| from %.1e to %.1e, largest |fd - g| "
          "%.1e, worst error %.3f of the allowed\n",
          checked, smallest, largest, worst_abs, worst);
  assert_true(checked >= 30);
  /* The parameters are as they were (every perturbation restored). */
  float *after = read_floats(ctx, net->params.mem, net->params.size);
  assert_memory_equal(after, params, net->params.size);
  free(after);

  for (int l = 0; l < 4; l++)
    for (int p = 0; p < 2; p++) {
      free(w[l][p]);
      free(g[l][p]);
    }
  free(params);
  free(grads);
  free(x);
  free(xf);
  clt_network_destroy(net);
  clt_model_free(model);
}

/* Gradients accumulate: two backward passes without zeroing give twice the gradient. */
static void test_gradient_accumulates(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = parse(tiny_text);
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, N, 0, 11, &net));
  const size_t nx = (size_t)N * H * W * C;
  float *xf = malloc(nx * sizeof *xf);
  assert_non_null(xf);
  for (size_t i = 0; i < nx; i++) xf[i] = (float)((int)(i * 7 % 13) - 6) / 6.0f;
  const int32_t labels[N] = {1, 0, 2, 0};
  OK(clt_buffer_write(ctx, net->input, 0, nx * sizeof *xf, xf));
  OK(clt_buffer_write(ctx, net->labels, 0, sizeof labels, labels));
  OK(clt_network_zero_grads(net));
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float *once = read_floats(ctx, net->grads.mem, net->grads.size);
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float *twice = read_floats(ctx, net->grads.mem, net->grads.size);
  size_t n = net->grads.size / sizeof(float);
  int nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    if (once[i] != 0.0f) nonzero++;
    /* x + x is exact in float: bit-identical. */
    if (twice[i] != 2.0f * once[i]) fail_msg("gradient %zu: %g then %g", i, once[i], twice[i]);
  }
  assert_true(nonzero > (int)(model->param_floats / 2));
  OK(clt_network_zero_grads(net));
  float *zero = read_floats(ctx, net->grads.mem, net->grads.size);
  for (size_t i = 0; i < n; i++) assert_true(zero[i] == 0.0f);
  free(once);
  free(twice);
  free(zero);
  free(xf);
  clt_network_destroy(net);
  clt_model_free(model);
}

typedef struct hook_log {
  clt_network *net;
  int layers[16], calls, fail_at;
  float *dense_grads; /* layer 2's weight gradients when its call came */
} hook_log;

static clt_status note_layer(void *user, int layer) {
  hook_log *h = user;
  if (h->calls < 16) h->layers[h->calls] = layer;
  h->calls++;
  if (layer == h->fail_at) return CLT_ERR_DEVICE;
  if (layer == 2) {
    const clt_net_layer *nl = &h->net->layers[2];
    h->dense_grads = read_floats(h->net->ctx, nl->grads[0], nl->sizes.params[0].count * 4);
  }
  return CLT_OK;
}

/* The hook: the head first, then every layer from the last down; layer 2's gradients read in
 * its call are those at the end of the pass; a status from the hook stops the pass. */
static void test_backward_hook(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = parse(tiny_text);
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, N, 0, 11, &net));
  const size_t nx = (size_t)N * H * W * C;
  float *xf = malloc(nx * sizeof *xf);
  assert_non_null(xf);
  for (size_t i = 0; i < nx; i++) xf[i] = (float)((int)(i * 5 % 11) - 5) / 5.0f;
  const int32_t labels[N] = {2, 1, 0, 1};
  OK(clt_buffer_write(ctx, net->input, 0, nx * sizeof *xf, xf));
  OK(clt_buffer_write(ctx, net->labels, 0, sizeof labels, labels));
  hook_log h = {.net = net, .fail_at = -1};
  net->after_backward = note_layer;
  net->after_backward_user = &h;
  OK(clt_network_zero_grads(net));
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  assert_int_equal(h.calls, model->layer_count);
  for (int i = 0; i < model->layer_count; i++)
    assert_int_equal(h.layers[i], model->layer_count - 1 - i);
  assert_non_null(h.dense_grads);
  const clt_net_layer *nl = &net->layers[2];
  float *end = read_floats(ctx, nl->grads[0], nl->sizes.params[0].count * 4);
  assert_memory_equal(h.dense_grads, end, nl->sizes.params[0].count * 4);
  free(end);
  free(h.dense_grads);
  /* A failing hook: the pass stops there with its status. */
  hook_log f = {.net = net, .fail_at = 3};
  net->after_backward_user = &f;
  OK(clt_network_forward(net, N, 1, 0));
  assert_int_equal(clt_network_backward(net, N, 0), CLT_ERR_DEVICE);
  assert_int_equal(f.calls, 2);
  free(f.dense_grads);
  net->after_backward = NULL;
  OK(clt_ctx_finish(ctx));
  free(xf);
  clt_network_destroy(net);
  clt_model_free(model);
}

static float *init_params(clt_ctx *ctx, const char *path, uint32_t seed, size_t *bytes) {
  clt_model *model = load(path);
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, 2, 0, seed, &net));
  *bytes = net->params.size;
  float *p = read_floats(ctx, net->params.mem, net->params.size);
  clt_network_destroy(net);
  clt_model_free(model);
  return p;
}

static void test_seed(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  const char *path = CLT_SOURCE_DIR "/models/lenet5.cfg"; /* Glorot (tanh) and zero biases */
  size_t b1 = 0, b2 = 0, b3 = 0;
  float *a = init_params(ctx, path, 42, &b1);
  float *b = init_params(ctx, path, 42, &b2);
  float *c = init_params(ctx, path, 43, &b3);
  assert_int_equal(b1, b2);
  assert_int_equal(b1, b3);
  assert_memory_equal(a, b, b1); /* same seed: bit-identical, padding included */
  size_t n = b1 / sizeof(float), differ = 0, nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    if (a[i] != 0.0f) nonzero++;
    if (a[i] != c[i]) differ++;
  }
  fprintf(stderr, "seed 42 vs 43: %zu of %zu non-zero parameters differ\n", differ, nonzero);
  assert_true(nonzero > 61000); /* the 61,470 weights (biases start at 0) */
  assert_true(differ * 100 >= nonzero * 99);
  free(a);
  free(b);
  free(c);

  /* Re-initialising a network gives the parameters of a fresh one, optimizer state zeroed. */
  clt_model *model = load(path);
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, 2, 2, 43, &net));
  OK(clt_network_init_params(net, 42));
  float *re = read_floats(ctx, net->params.mem, net->params.size);
  float *fresh = init_params(ctx, path, 42, &b1);
  assert_memory_equal(re, fresh, b1);
  float *opt = read_floats(ctx, net->optimizer.mem, net->optimizer.size);
  for (size_t i = 0; i < net->optimizer.size / sizeof(float); i++) assert_true(opt[i] == 0.0f);
  free(re);
  free(fresh);
  free(opt);
  clt_network_destroy(net);
  clt_model_free(model);
}

static void expect_plan_matches(clt_ctx *ctx, const char *path, int batch, int blocks) {
  clt_model *model = load(path);
  clt_memory_plan plan;
  clt_network_plan(model, ctx, batch, blocks, &plan);
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, batch, blocks, 1, &net));
  assert_int_equal(plan.params, net->params.size);
  assert_int_equal(plan.grads, net->grads.size);
  assert_int_equal(plan.optimizer, net->optimizer.size);
  assert_int_equal(plan.state, net->state.size);
  assert_int_equal(plan.activations, net->activations.size);
  size_t sizes[] = {plan.params, plan.grads, plan.optimizer, plan.state, plan.activations};
  size_t total = 0, largest = 0;
  for (int i = 0; i < 5; i++) {
    total += sizes[i];
    if (sizes[i] > largest) largest = sizes[i];
  }
  assert_int_equal(plan.total, total);
  assert_int_equal(plan.largest, largest);
  /* Every parameter float has a place, and the gradient arena mirrors it. */
  assert_true(plan.params >= model->param_floats * sizeof(float));
  assert_int_equal(plan.grads, plan.params);
  assert_int_equal(plan.optimizer, (size_t)blocks * plan.params);
  assert_int_equal(clt_network_param_arena_floats(net), plan.params / sizeof(float));
  fprintf(stderr, "%s batch %d: %.2f MiB planned and allocated\n", path, batch, total / 1048576.0);
  clt_network_destroy(net);
  clt_model_free(model);
}

static void test_plan_equals_arenas(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  expect_plan_matches(ctx, CLT_SOURCE_DIR "/models/fashion_cnn.cfg", 64, 2);
  expect_plan_matches(ctx, CLT_SOURCE_DIR "/models/fashion_cnn_bn.cfg", 16, 1); /* with state */
  expect_plan_matches(ctx, CLT_SOURCE_DIR "/models/mlp.cfg", 3, 0);
}

static int fits(clt_ctx *ctx, const clt_model *m, int batch) {
  clt_memory_plan p;
  clt_network_plan(m, ctx, batch, 2, &p);
  return p.total <= ctx->dev.global_mem && p.largest <= ctx->dev.max_alloc;
}

static void test_too_large(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = load(CLT_SOURCE_DIR "/models/fashion_cnn.cfg");
  const int huge = 100000000;
  assert_false(fits(ctx, model, huge));
  clt_network *net = (clt_network *)&net;
  clt_clear_error();
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clt_status st = clt_network_create(model, ctx, huge, 2, 1, &net);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const char *msg = clt_last_error();
  fprintf(stderr, "%s\n", msg);
  assert_int_equal(st, CLT_ERR_OUT_OF_MEMORY);
  assert_null(net);
  /* It failed on the plan, before allocating or touching anything (which would take long or
   * fail with an OpenCL error instead). */
  double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  assert_true(seconds < 2.0);
  assert_non_null(strstr(msg, "batch 100000000 needs"));
  assert_non_null(strstr(msg, ctx->dev.name));
  const char *hint = strstr(msg, "a batch of ");
  if (!hint) fail_msg("no batch hint in '%s'", msg);
  int best = atoi(hint + strlen("a batch of "));
  /* The batch named fits and twice it (the next candidate) does not. */
  assert_true(best >= 1);
  assert_true(fits(ctx, model, best));
  assert_false(fits(ctx, model, 2 * best));
  /* And it really can be created. */
  OK(clt_network_create(model, ctx, best < 256 ? best : 256, 2, 1, &net));
  clt_network_destroy(net);
  clt_model_free(model);

  /* A model whose parameters overflow one buffer says so (the parameter arenas are not
   * split: nn/network.h). */
  static const char giant[] = "[net]\ninput = 40000x40000x1\n[dense]\nunits = 10\n[softmax]\n";
  model = parse(giant);
  net = (clt_network *)&net;
  assert_int_equal(clt_network_create(model, ctx, 1, 0, 1, &net), CLT_ERR_OUT_OF_MEMORY);
  assert_null(net);
  fprintf(stderr, "%s\n", clt_last_error());
  assert_non_null(strstr(clt_last_error(), "the parameters need"));
  clt_model_free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradient_check), cmocka_unit_test(test_gradient_accumulates),
      cmocka_unit_test(test_seed),           cmocka_unit_test(test_plan_equals_arenas),
      cmocka_unit_test(test_too_large),      cmocka_unit_test(test_backward_hook),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
