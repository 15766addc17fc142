/* [batchnorm] on the device against the float64 reference (src/ref/ref_batchnorm.c):
 * training forward (y, running statistics), backward (dx, dgamma, dbeta, accumulated over
 * two calls), inference, sizes and parse errors.
 *
 * Tolerances (relative to the largest magnitude of the reference tensor):
 *   y, running_mean, running_var, dgamma, dbeta: 1e-5: the device reduces M = N*H*W (up
 *     to a few hundred) float values per channel in a tree with strided partial sums;
 *     inputs have a non-zero mean (|mean| ~ 2, std ~ 1.7) so the statistics carry a few
 *     ulp of the mean into y.
 *   dx: 1e-5 relative to max(max |dx_ref|, 1): as above, plus the cancellation in
 *     dy - (sum dy + xhat * sum(dy xhat)) / M. The floor 1 is the natural scale of
 *     gamma * inv_std * dy here (|dy| < 1, gamma < 2, std ~ 1.7): dx can be near zero
 *     everywhere (M = 2 gives dx = 0 exactly, up to epsilon) and is then all rounding noise.
 *   inference y: 1e-5 (a float sqrt, a division and three roundings per element).
 *   Measured on PoCL: at most 2e-7 for all of them; the margin covers other reduction
 *   orders and the few-ulp sqrt that OpenCL C allows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL_BN_Y     1e-5
#define TOL_BN_STATS 1e-5
#define TOL_BN_DX    1e-5
#define TOL_BN_INFER 1e-5

static clt_ctx *ctx;

/* A layer built from model text for input shape in, prepared on ctx; it keeps the shape. */
static void *build(const char *text, clt_shape in) {
  clt_shape out;
  void *self = clt_test_layer_build(&clt_layer_batchnorm, text, in, &out, ctx);
  clt_test_expect_shape(out, in.h, in.w, in.c);
  return self;
}

static void check_batchnorm(double momentum, double epsilon, int N, clt_shape in) {
  char text[128];
  snprintf(text, sizeof text, "[batchnorm]\nmomentum = %g\nepsilon = %g\n", momentum, epsilon);
  void *self = build(text, in);
  const int C = in.c;
  clt_layer_sizes sz;
  clt_layer_batchnorm.sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 2);
  assert_string_equal(sz.params[0].name, "gamma");
  assert_true(sz.params[0].count == (size_t)C && sz.params[0].init == CLT_INIT_ONES);
  assert_string_equal(sz.params[1].name, "beta");
  assert_true(sz.params[1].count == (size_t)C && sz.params[1].init == CLT_INIT_ZEROS);
  assert_true(sz.state_floats == 2 * (size_t)C);
  assert_int_equal(sz.state_init_ones_from, C);

  size_t n = (size_t)N * clt_shape_size(in);
  double *x = clt_test_random(n, -1.0, 5.0, 31u); /* mean 2: the variance is not E[x^2] */
  double *dy = clt_test_random(n, -1.0, 1.0, 32u);
  double *gamma = clt_test_random(C, 0.5, 2.0, 33u), *beta = clt_test_random(C, -1.0, 1.0, 34u);
  double *rm = clt_test_random(C, -0.5, 0.5, 35u), *rv = clt_test_random(C, 0.5, 2.0, 36u);
  double *state = clt_test_alloc(2 * (size_t)C);
  double *y = clt_test_alloc(n), *dx = clt_test_alloc(n), *ry = clt_test_alloc(n),
         *rdx = clt_test_alloc(n);
  double *dg = clt_test_alloc(C), *db = clt_test_alloc(C), *rdg = clt_test_alloc(C),
         *rdb = clt_test_alloc(C);
  for (int c = 0; c < C; c++) state[c] = rm[c], state[C + c] = rv[c];

  clt_pass pass = {.ctx = ctx, .batch = N, .training = 1};
  pass.x = clt_test_upload(ctx, x, n);
  pass.y = clt_test_zeros(ctx, n);
  pass.dy = clt_test_upload(ctx, dy, n);
  pass.dx = clt_test_filled(ctx, n, 7.0); /* written, not added */
  pass.params[0] = clt_test_upload(ctx, gamma, C);
  pass.params[1] = clt_test_upload(ctx, beta, C);
  pass.grads[0] = clt_test_zeros(ctx, C);
  pass.grads[1] = clt_test_zeros(ctx, C);
  pass.state = clt_test_upload(ctx, state, 2 * (size_t)C);
  pass.saved = clt_test_zeros(ctx, sz.saved_floats);
  assert_true(sz.workspace_floats >= 2 * (size_t)C); /* the two-stage sums' partials */
  pass.workspace = clt_test_filled(ctx, sz.workspace_floats, 3.0); /* garbage: overwritten */

  /* Training forward, then backward twice: dgamma and dbeta accumulate, dx is written. */
  OK(clt_layer_batchnorm.forward(self, &pass));
  OK(clt_layer_batchnorm.backward(self, &pass));
  OK(clt_layer_batchnorm.backward(self, &pass));
  clt_test_download(ctx, pass.y, y, n);
  clt_test_download(ctx, pass.dx, dx, n);
  clt_test_download(ctx, pass.grads[0], dg, C);
  clt_test_download(ctx, pass.grads[1], db, C);
  clt_test_download(ctx, pass.state, state, 2 * (size_t)C);

  clt_ref_batchnorm p = {momentum, epsilon};
  clt_ref_shape rin = {N, in.h, in.w, in.c};
  clt_ref_batchnorm_forward(&p, rin, 1, x, gamma, beta, rm, rv, ry, NULL, NULL);
  clt_ref_batchnorm_backward(&p, rin, x, gamma, dy, rdx, rdg, rdb);
  clt_ref_batchnorm_backward(&p, rin, x, gamma, dy, rdx, rdg, rdb);
  char name[160];
  snprintf(name, sizeof name, "batchnorm N%d %dx%dx%d momentum %g", N, in.h, in.w, in.c, momentum);
  EXPECT_CLOSE(name, y, ry, n, 1e-30, TOL_BN_Y);
  EXPECT_CLOSE(name, state, rm, C, 1e-30, TOL_BN_STATS);
  EXPECT_CLOSE(name, state + C, rv, C, 1e-30, TOL_BN_STATS);
  EXPECT_CLOSE(name, dx, rdx, n, 1.0, TOL_BN_DX);
  EXPECT_CLOSE(name, dg, rdg, C, 1e-30, TOL_BN_STATS);
  EXPECT_CLOSE(name, db, rdb, C, 1e-30, TOL_BN_STATS);

  /* Inference: the running statistics (as floats), left unchanged. */
  clt_test_round_to_float(rm, C);
  clt_test_round_to_float(rv, C);
  for (int c = 0; c < C; c++) state[c] = rm[c], state[C + c] = rv[c];
  clt_buffer_release(&pass.state);
  pass.state = clt_test_upload(ctx, state, 2 * (size_t)C);
  clt_pass inf = pass;
  inf.training = 0;
  inf.saved = NULL;
  OK(clt_layer_batchnorm.forward(self, &inf));
  clt_test_download(ctx, inf.y, y, n);
  double *state2 = clt_test_alloc(2 * (size_t)C);
  clt_test_download(ctx, inf.state, state2, 2 * (size_t)C);
  for (int c = 0; c < 2 * C; c++) assert_true(state2[c] == state[c]);
  clt_ref_batchnorm_forward(&p, rin, 0, x, gamma, beta, rm, rv, ry, NULL, NULL);
  EXPECT_CLOSE(name, y, ry, n, 1e-30, TOL_BN_INFER);

  clt_test_pass_release(&pass);
  free(x), free(dy), free(gamma), free(beta), free(rm), free(rv), free(state), free(state2);
  free(y), free(dx), free(ry), free(rdx), free(dg), free(db), free(rdg), free(rdb);
  clt_layer_batchnorm.destroy(self);
}

static void test_batchnorm_training(void **state) {
  (void)state;
  check_batchnorm(0.99, 0.001, 1, (clt_shape){7, 5, 3}); /* M = 35 */
  check_batchnorm(0.9, 0.001, 3, (clt_shape){7, 5, 3});  /* M = 105 */
  check_batchnorm(0.5, 0.01, 3, (clt_shape){13, 9, 2});  /* M = 351: over one work-group */
  check_batchnorm(0.99, 0.001, 2, (clt_shape){1, 1, 5}); /* M = 2 (dense input) */
  check_batchnorm(0.99, 1e-5, 1, (clt_shape){3, 1, 7});  /* M = 3 */
}

/* A model text that must fail in parse or the unused-key check, with "model.ini:LINE" and
 * needle in the message. */
static void expect_error(const char *text, int line, const char *needle) {
  clt_test_layer_expect_bad(&clt_layer_batchnorm, text, CLT_TEST_STEP_UNUSED, NULL, line, needle);
}

static void test_batchnorm_parse(void **state) {
  (void)state;
  expect_error("[batchnorm]\nmomentum = 1\n", 2, "momentum");
  expect_error("[batchnorm]\nmomentum = 0\n", 2, "momentum");
  expect_error("[batchnorm]\nmomentum = fast\n", 2, "momentum");
  expect_error("[batchnorm]\n\nepsilon = 0\n", 3, "epsilon");
  expect_error("[batchnorm]\nepsilon = 1.5\n", 2, "epsilon");
  expect_error("[batchnorm]\nmomentum = 0.9\neps = 0.1\n", 3, "eps");

  void *self = build("[batchnorm]\n", (clt_shape){2, 2, 4});
  clt_test_layer_expect_describe(&clt_layer_batchnorm, self, "momentum 0.99, epsilon 0.001");
  clt_layer_batchnorm.destroy(self);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batchnorm_training),
      cmocka_unit_test(test_batchnorm_parse),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
