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
#include <string.h>

#include "nn/activation.h"
#include "nn/ini.h"
#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "util/test_util.h"

#define TOL_ACT_EXACTISH 1e-6
#define TOL_ACT_TRANSC   1e-5
#define TOL_DROPOUT      1e-6

static clt_ctx *ctx;

static double *alloc(size_t n) {
  double *a = calloc(n ? n : 1, sizeof *a);
  assert_non_null(a);
  return a;
}

/* A layer built from model text (its only section) for input shape in, prepared on ctx. */
static void *build(const clt_layer_ops *ops, const char *text, clt_shape in, clt_shape *out) {
  clt_ini *ini = NULL;
  assert_int_equal(clt_ini_parse_string(text, "test.ini", &ini), CLT_OK);
  const clt_ini_section *sec = &ini->sections[0];
  void *self = NULL;
  assert_int_equal(ops->parse(sec, &self), CLT_OK);
  assert_int_equal(clt_ini_check_unused(sec), CLT_OK);
  assert_int_equal(ops->infer(self, sec, in, out), CLT_OK);
  assert_int_equal(out->h, in.h);
  assert_int_equal(out->w, in.w);
  assert_int_equal(out->c, in.c);
  assert_int_equal(ops->prepare(self, ctx), CLT_OK);
  clt_ini_free(ini);
  return self;
}

/* A model text that must fail in parse or the unused-key check, with "test.ini:LINE" and
 * needle in the message. */
static void expect_error(const clt_layer_ops *ops, const char *text, int line, const char *needle) {
  clt_ini *ini = NULL;
  assert_int_equal(clt_ini_parse_string(text, "test.ini", &ini), CLT_OK);
  const clt_ini_section *sec = &ini->sections[0];
  void *self = NULL;
  clt_status st = ops->parse(sec, &self);
  if (st == CLT_OK) st = clt_ini_check_unused(sec);
  if (self) ops->destroy(self);
  clt_ini_free(ini);
  char where[32];
  snprintf(where, sizeof where, "test.ini:%d:", line);
  const char *msg = clt_last_error();
  if (st != CLT_ERR_BAD_DATA || !strstr(msg, where) || !strstr(msg, needle))
    fprintf(stderr, "for %s: status %d, message '%s'; wanted %s ... %s\n", text, st, msg, where,
            needle);
  assert_int_equal(st, CLT_ERR_BAD_DATA);
  assert_non_null(strstr(msg, where));
  assert_non_null(strstr(msg, needle));
}

/* ---- activation ---- */

static void check_activation(clt_activation act, double alpha, const char *text, int N,
                             clt_shape in) {
  clt_shape out;
  void *self = build(&clt_layer_activation, text, in, &out);
  clt_layer_sizes sz;
  clt_layer_activation.sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.saved_floats == 0 && sz.state_floats == 0 && sz.workspace_floats == 0);
  size_t n = (size_t)N * clt_shape_size(in);
  double *x = alloc(n), *dy = alloc(n), *y = alloc(n), *dx = alloc(n), *junk = alloc(n);
  double *ry = alloc(n), *rdx = alloc(n);
  clt_test_fill_uniform(x, n, -3.0, 3.0, 5u + (uint32_t)act);
  for (size_t i = 0; i < n; i += 7) x[i] = 0.0; /* the kink of relu and leaky_relu */
  clt_test_round_to_float(x, n);
  clt_test_fill_uniform(dy, n, -1.0, 1.0, 6u);
  clt_test_round_to_float(dy, n);
  for (size_t i = 0; i < n; i++) junk[i] = 7.0;

  clt_pass pass = {.ctx = ctx, .batch = N, .training = 1};
  pass.x = clt_test_upload(ctx, x, n);
  pass.y = clt_test_zeros(ctx, n);
  pass.dy = clt_test_upload(ctx, dy, n);
  pass.dx = clt_test_upload(ctx, junk, n); /* written, not added */
  assert_int_equal(clt_layer_activation.forward(self, &pass), CLT_OK);
  assert_int_equal(clt_layer_activation.backward(self, &pass), CLT_OK);
  clt_test_download(ctx, pass.y, y, n);
  clt_test_download(ctx, pass.dx, dx, n);
  clt_ref_act_forward(act, alpha, (long)n, x, ry);
  clt_ref_act_backward(act, alpha, (long)n, ry, dy, rdx);
  double tol = (act == CLT_ACT_SIGMOID || act == CLT_ACT_TANH) ? TOL_ACT_TRANSC : TOL_ACT_EXACTISH;
  assert_true(clt_test_rel_error(text, y, ry, n, 1e-30, tol) <= tol);
  assert_true(clt_test_rel_error(text, dx, rdx, n, 1e-30, tol) <= tol);

  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dy);
  clt_buffer_release(&pass.dx);
  free(x), free(dy), free(y), free(dx), free(junk), free(ry), free(rdx);
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

  clt_shape out;
  char buf[64];
  void *self = build(ops, "[activation]\nactivation = leaky_relu\nalpha = 0.2\n",
                     (clt_shape){2, 2, 2}, &out);
  ops->describe(self, buf, sizeof buf);
  assert_string_equal(buf, "leaky_relu, alpha 0.2");
  ops->destroy(self);
  self = build(ops, "[activation]\nactivation = sigmoid\n", (clt_shape){2, 2, 2}, &out);
  ops->describe(self, buf, sizeof buf);
  assert_string_equal(buf, "sigmoid");
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
  double *junk = alloc(n);
  for (size_t i = 0; i < n; i++) junk[i] = 7.0;
  pass.x = clt_test_upload(ctx, x, n);
  pass.y = clt_test_upload(ctx, junk, n);
  pass.dy = clt_test_upload(ctx, dy, n);
  pass.dx = clt_test_upload(ctx, junk, n);
  assert_int_equal(clt_layer_dropout.forward(self, &pass), CLT_OK);
  assert_int_equal(clt_layer_dropout.backward(self, &pass), CLT_OK);
  r->y = alloc(n);
  r->dx = alloc(n);
  clt_test_download(ctx, pass.y, r->y, n);
  clt_test_download(ctx, pass.dx, r->dx, n);
  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dy);
  clt_buffer_release(&pass.dx);
  free(junk);
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
  clt_shape out;
  void *self = build(&clt_layer_dropout, text, in, &out);
  clt_layer_sizes sz;
  clt_layer_dropout.sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.saved_floats == 0 && sz.state_floats == 0);
  size_t n = (size_t)N * clt_shape_size(in);
  double *x = alloc(n), *dy = alloc(n), *ry = alloc(n), *rdx = alloc(n);
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
  assert_true(clt_test_rel_error(text, a.y, ry, n, 1e-30, TOL_DROPOUT) <= TOL_DROPOUT);
  assert_true(clt_test_rel_error(text, a.dx, rdx, n, 1e-30, TOL_DROPOUT) <= TOL_DROPOUT);
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

  clt_shape out;
  char buf[64];
  void *self = build(ops, "[dropout]\nrate = 0.25\n", (clt_shape){2, 2, 2}, &out);
  ops->describe(self, buf, sizeof buf);
  assert_string_equal(buf, "rate 0.25");
  ops->destroy(self);
}

int main(void) {
  ctx = clt_test_ctx_or_skip();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_activation_each),
      cmocka_unit_test(test_activation_parse),
      cmocka_unit_test(test_dropout),
      cmocka_unit_test(test_dropout_parse),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
