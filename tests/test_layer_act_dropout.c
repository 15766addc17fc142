/* [activation] and [dropout] on the device against the float64 reference
 * (src/ref/ref_act.c, src/ref/ref_dropout.c).
 *
 * Tolerances (relative to the largest magnitude of the reference tensor):
 *   activation linear, relu, leaky_relu: 1e-6 (one float rounding of alpha * x or dy * alpha).
 *   activation sigmoid, tanh: 1e-5 forward and backward: OpenCL C allows exp and tanh
 *     several ulp of error (4 and 5 in full profile) and backward takes the derivative
 *     from the device's y, which carries that error.
 *   dropout: the mask exactly (bit for bit against clt_ref_dropout_keep); values 1e-6
 *     (x * (1 / (1 - rate)) in float against x / (1 - rate) in double); inference exact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/activation.h"
#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/rng.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL_ACT_EXACTISH 1e-6
#define TOL_ACT_TRANSC   1e-5
#define TOL_DROPOUT      1e-6

static clt_ctx *ctx;

/* A layer built from model text for input shape in, prepared on ctx; it keeps the shape. */
static void *build(const clt_layer_ops *ops, const char *text, clt_shape in) {
  clt_shape out;
  void *self = clt_test_layer_build(ops, text, in, &out, ctx);
  clt_test_expect_shape(out, in.h, in.w, in.c);
  return self;
}

/* A model text that must fail in parse or the unused-key check, with "model.ini:LINE" and
 * needle in the message. */
static void expect_error(const clt_layer_ops *ops, const char *text, int line, const char *needle) {
  clt_test_layer_expect_bad(ops, text, CLT_TEST_STEP_UNUSED, NULL, line, needle);
}

/* ---- activation ---- */

static void check_activation(clt_activation act, double alpha, const char *text, int N,
                             clt_shape in) {
  void *self = build(&clt_layer_activation, text, in);
  clt_layer_sizes sz;
  clt_layer_activation.sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.saved_floats == 0 && sz.state_floats == 0 && sz.workspace_floats == 0);
  size_t n = (size_t)N * clt_shape_size(in);
  double *x = clt_test_alloc(n), *y = clt_test_alloc(n), *dx = clt_test_alloc(n);
  double *ry = clt_test_alloc(n), *rdx = clt_test_alloc(n);
  clt_test_fill_uniform(x, n, -3.0, 3.0, 5u + (uint32_t)act);
  for (size_t i = 0; i < n; i += 7) x[i] = 0.0; /* the kink of relu and leaky_relu */
  clt_test_round_to_float(x, n);
  double *dy = clt_test_random(n, -1.0, 1.0, 6u);

  clt_pass pass = {.ctx = ctx, .batch = N, .training = 1};
  pass.x = clt_test_upload(ctx, x, n);
  pass.y = clt_test_zeros(ctx, n);
  pass.dy = clt_test_upload(ctx, dy, n);
  pass.dx = clt_test_filled(ctx, n, 7.0); /* written, not added */
  OK(clt_layer_activation.forward(self, &pass));
  OK(clt_layer_activation.backward(self, &pass));
  clt_test_download(ctx, pass.y, y, n);
  clt_test_download(ctx, pass.dx, dx, n);
  clt_ref_act_forward(act, alpha, (long)n, x, ry);
  clt_ref_act_backward(act, alpha, (long)n, ry, dy, rdx);
  double tol = (act == CLT_ACT_SIGMOID || act == CLT_ACT_TANH) ? TOL_ACT_TRANSC : TOL_ACT_EXACTISH;
  EXPECT_CLOSE(text, y, ry, n, 1e-30, tol);
  EXPECT_CLOSE(text, dx, rdx, n, 1e-30, tol);

  clt_test_pass_release(&pass);
  free(x), free(dy), free(y), free(dx), free(ry), free(rdx);
  clt_layer_activation.destroy(self);
}

static void test_activation_each(void **state) {
  (void)state;
  clt_shape odd = {7, 5, 3};
  for (int N = 1; N <= 3; N += 2) {
    check_activation(CLT_ACT_LINEAR, 0.0, "[activation]\nactivation = linear\n", N, odd);
    check_activation(CLT_ACT_RELU, 0.0, "[activation]\nactivation = relu\n", N, odd);
    check_activation(CLT_ACT_LEAKY_RELU, 0.01, "[activation]\nactivation = leaky_relu\n", N, odd);
    check_activation(CLT_ACT_LEAKY_RELU, 0.2,
                     "[activation]\nactivation = leaky_relu\nalpha = 0.2\n", N, odd);
    check_activation(CLT_ACT_SIGMOID, 0.0, "[activation]\nactivation = sigmoid\n", N, odd);
    check_activation(CLT_ACT_TANH, 0.0, "[activation]\nactivation = tanh\n", N, odd);
  }
  check_activation(CLT_ACT_TANH, 0.0, "[activation]\nactivation = tanh\n", 2,
                   (clt_shape){13, 11, 17});
}

static void test_activation_parse(void **state) {
  (void)state;
  const clt_layer_ops *ops = &clt_layer_activation;
  expect_error(ops, "\n[activation]\n", 2, "activation");
  expect_error(ops, "[activation]\nactivation = relux\n", 2, "leaky_relu");
  expect_error(ops, "[activation]\nactivation = relu\nalpha = 0.1\n", 3, "alpha");
  expect_error(ops, "[activation]\nactivation = leaky_relu\nalpha = 0\n", 3, "alpha");
  expect_error(ops, "[activation]\nactivation = leaky_relu\nalpha = -1\n", 3, "alpha");
  expect_error(ops, "[activation]\nactivation = leaky_relu\nalpha = x\n", 3, "alpha");
  expect_error(ops, "[activation]\nactivation = tanh\nrate = 1\n", 3, "rate");

  void *self =
      build(ops, "[activation]\nactivation = leaky_relu\nalpha = 0.2\n", (clt_shape){2, 2, 2});
  clt_test_layer_expect_describe(ops, self, "leaky_relu, alpha 0.2");
  ops->destroy(self);
  self = build(ops, "[activation]\nactivation = sigmoid\n", (clt_shape){2, 2, 2});
  clt_test_layer_expect_describe(ops, self, "sigmoid");
  ops->destroy(self);
}

/* ---- dropout ---- */

typedef struct drop_run {
  double *y, *dx; /* device results of forward and backward */
} drop_run;

/* Device forward and backward of [dropout] rate for one (seed, step, layer). */
static void run_dropout(void *self, int N, size_t n, int training, uint32_t seed, uint32_t step,
                        int layer, const double *x, const double *dy, drop_run *r) {
  clt_pass pass = {.ctx = ctx,
                   .batch = N,
                   .training = training,
                   .seed = seed,
                   .step = step,
                   .layer_index = layer};
  pass.x = clt_test_upload(ctx, x, n);
  pass.y = clt_test_filled(ctx, n, 7.0);
  pass.dy = clt_test_upload(ctx, dy, n);
  pass.dx = clt_test_filled(ctx, n, 7.0);
  OK(clt_layer_dropout.forward(self, &pass));
  OK(clt_layer_dropout.backward(self, &pass));
  r->y = clt_test_alloc(n);
  r->dx = clt_test_alloc(n);
  clt_test_download(ctx, pass.y, r->y, n);
  clt_test_download(ctx, pass.dx, r->dx, n);
  clt_test_pass_release(&pass);
}

static void free_run(drop_run *r) {
  free(r->y);
  free(r->dx);
}

/* x and dy away from 0 (magnitudes in [0.5, 1.5), random sign) so that a dropped element
 * is recognisable as an exact 0. */
static void nonzero_values(double *a, size_t n, uint32_t seed) {
  clt_test_fill_uniform(a, n, 0.5, 1.5, seed);
  for (size_t i = 0; i < n; i++)
    if (clt_uniform(seed, 0x5197u, (uint32_t)i) < 0.5f) a[i] = -a[i];
  clt_test_round_to_float(a, n);
}

static void check_dropout(double rate, int N, clt_shape in) {
  char text[64];
  snprintf(text, sizeof text, "[dropout]\nrate = %g\n", rate);
  void *self = build(&clt_layer_dropout, text, in);
  clt_layer_sizes sz;
  clt_layer_dropout.sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.saved_floats == 0 && sz.state_floats == 0);
  size_t n = (size_t)N * clt_shape_size(in);
  double *x = clt_test_alloc(n), *dy = clt_test_alloc(n), *ry = clt_test_alloc(n),
         *rdx = clt_test_alloc(n);
  nonzero_values(x, n, 21u);
  nonzero_values(dy, n, 22u);
  const uint32_t seed = 1234u, step = 17u;
  const int layer = 4;
  uint32_t stream = clt_stream(step, (uint32_t)layer);

  drop_run a;
  run_dropout(self, N, n, 1, seed, step, layer, x, dy, &a);
  clt_ref_dropout_forward(rate, 1, seed, stream, (long)n, x, ry);
  clt_ref_dropout_backward(rate, 1, seed, stream, (long)n, dy, rdx);
  size_t dropped = 0;
  for (size_t i = 0; i < n; i++) {
    int keep = clt_ref_dropout_keep(seed, stream, (uint32_t)i, rate);
    assert_int_equal(a.y[i] != 0.0, keep);  /* the mask, bit for bit */
    assert_int_equal(a.dx[i] != 0.0, keep); /* the same mask recomputed in backward */
    dropped += !keep;
  }
  EXPECT_CLOSE(text, a.y, ry, n, 1e-30, TOL_DROPOUT);
  EXPECT_CLOSE(text, a.dx, rdx, n, 1e-30, TOL_DROPOUT);
  if (rate == 0.0) assert_true(dropped == 0);
  if (rate > 0.0) assert_true(fabs((double)dropped / (double)n - rate) < 0.15);

  if (rate > 0.0) {
    /* Another step, another layer: other masks; the same step again: the same mask. */
    drop_run b, c, d;
    run_dropout(self, N, n, 1, seed, step + 1, layer, x, dy, &b);
    run_dropout(self, N, n, 1, seed, step, layer + 1, x, dy, &c);
    run_dropout(self, N, n, 1, seed, step, layer, x, dy, &d);
    size_t diff_step = 0, diff_layer = 0;
    for (size_t i = 0; i < n; i++) {
      diff_step += (a.y[i] != 0.0) != (b.y[i] != 0.0);
      diff_layer += (a.y[i] != 0.0) != (c.y[i] != 0.0);
      assert_true(a.y[i] == d.y[i] && a.dx[i] == d.dx[i]);
    }
    assert_true(diff_step > 0);
    assert_true(diff_layer > 0);
    free_run(&b), free_run(&c), free_run(&d);
  }

  /* Inference: identity, forward and backward, bit for bit. */
  drop_run e;
  run_dropout(self, N, n, 0, seed, step, layer, x, dy, &e);
  for (size_t i = 0; i < n; i++) {
    assert_true(e.y[i] == x[i]);
    assert_true(e.dx[i] == dy[i]);
  }
  free_run(&a), free_run(&e);
  free(x), free(dy), free(ry), free(rdx);
  clt_layer_dropout.destroy(self);
}

static void test_dropout(void **state) {
  (void)state;
  clt_shape odd = {7, 5, 3};
  for (int N = 1; N <= 3; N += 2) {
    check_dropout(0.25, N, odd);
    check_dropout(0.5, N, odd);
    check_dropout(0.0, N, odd);
  }
  check_dropout(0.9, 2, (clt_shape){13, 11, 17});
}

static void test_dropout_parse(void **state) {
  (void)state;
  const clt_layer_ops *ops = &clt_layer_dropout;
  expect_error(ops, "\n\n[dropout]\n", 3, "rate");
  expect_error(ops, "[dropout]\nrate = 1\n", 2, "rate");
  expect_error(ops, "[dropout]\nrate = -0.1\n", 2, "rate");
  expect_error(ops, "[dropout]\nrate = half\n", 2, "rate");
  expect_error(ops, "[dropout]\nrate = 0.5\nratio = 0.5\n", 3, "ratio");

  void *self = build(ops, "[dropout]\nrate = 0.25\n", (clt_shape){2, 2, 2});
  clt_test_layer_expect_describe(ops, self, "rate 0.25");
  ops->destroy(self);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_activation_each),
      cmocka_unit_test(test_activation_parse),
      cmocka_unit_test(test_dropout),
      cmocka_unit_test(test_dropout_parse),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
