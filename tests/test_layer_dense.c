/* The dense layer on the device against the float64 reference (src/ref/ref_dense.c):
 * forward y, backward dx, dW, db (accumulated over calls), implicit flatten of an
 * H x W x C input, every activation, and the model-file errors.
 *
 * Tolerance: 1e-4 of the largest magnitude of the reference tensor, for y, dx, dW
 * and db. Each value is a float32 sum of at most I = 105 (y), U = 17 (dx) or
 * N = 3 (dW, db) products of O(1) numbers: worst-case rounding is about
 * terms * 2^-24 ~ 6e-6 relative to the magnitude; the device may sum in any order
 * (CLBlast tiles, FMA) and computes exp/tanh to a few ulp. 1e-4 leaves room for
 * that while catching any indexing error (O(1) differences). Measured on PoCL:
 * below 3e-7. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/test_util.h"

#define TOL   1e-4
#define FLOOR 1e-3 /* scale floor when a reference tensor is all zeros */
#define NAME  "model.ini"

#define OK(expr)                                                                                   \
  do {                                                                                             \
    clt_status st_ = (expr);                                                                       \
    if (st_ != CLT_OK) fail_msg("%s: %s", #expr, clt_last_error());                                \
  } while (0)

typedef struct dense_case {
  int n, h, w, c;       /* input, flattened to I = h*w*c */
  int units;            /* U */
  int bias;             /* -1: key omitted (default 1) */
  const char *act;      /* NULL: key omitted (linear) */
  double alpha;         /* 0: key omitted */
  const char *describe; /* expected describe() text, or NULL */
} dense_case;

static const clt_layer_ops *ops = &clt_layer_dense;

static void *build(const char *text, clt_ini **ini, clt_shape in, clt_shape *out) {
  OK(clt_ini_parse_string(text, NAME, ini));
  const clt_ini_section *sec = &(*ini)->sections[0];
  void *self = NULL;
  OK(ops->parse(sec, &self));
  OK(clt_ini_check_unused(sec));
  OK(ops->infer(self, sec, in, out));
  return self;
}

static double *alloc_d(size_t n) {
  double *a = calloc(n ? n : 1, sizeof *a);
  assert_non_null(a);
  return a;
}

static double *random_d(size_t n, double lo, double hi, uint32_t seed) {
  double *a = alloc_d(n);
  clt_test_fill_uniform(a, n, lo, hi, seed);
  clt_test_round_to_float(a, n);
  return a;
}

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         double times) {
  double *scaled = alloc_d(n);
  for (size_t i = 0; i < n; i++) scaled[i] = want[i] * times;
  double rel = clt_test_rel_error(what, got, scaled, n, FLOOR, TOL);
  free(scaled);
  if (!(rel <= TOL)) fail_msg("%s: relative error %g above %g", what, rel, TOL);
}

static void run_case(const dense_case *tc, uint32_t seed) {
  clt_ctx *ctx = clt_test_ctx();
  char text[256];
  int len = snprintf(text, sizeof text, "[dense]\nunits = %d\n", tc->units);
  if (tc->bias >= 0) len += snprintf(text + len, sizeof text - len, "bias = %d\n", tc->bias);
  if (tc->act) len += snprintf(text + len, sizeof text - len, "activation = %s\n", tc->act);
  if (tc->alpha > 0) snprintf(text + len, sizeof text - len, "alpha = %g\n", tc->alpha);

  clt_ref_dense p = {0};
  p.units = tc->units;
  p.bias = tc->bias != 0;
  p.act = CLT_ACT_LINEAR;
  if (tc->act) assert_int_equal(clt_activation_from_name(tc->act, &p.act), 0);
  p.alpha = tc->alpha > 0 ? tc->alpha : 0.01;

  clt_ini *ini = NULL;
  clt_shape in = {tc->h, tc->w, tc->c}, out;
  void *self = build(text, &ini, in, &out);
  assert_int_equal(out.h, 1);
  assert_int_equal(out.w, 1);
  assert_int_equal(out.c, tc->units);
  if (tc->describe) {
    char buf[128];
    ops->describe(self, buf, sizeof buf);
    assert_string_equal(buf, tc->describe);
  }

  int N = tc->n, U = tc->units, I = (int)clt_shape_size(in);
  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  assert_int_equal(sz.param_count, p.bias ? 2 : 1);
  assert_string_equal(sz.params[0].name, "weights");
  assert_int_equal(sz.params[0].count, (size_t)U * I);
  assert_int_equal(sz.params[0].fan_in, I);
  assert_int_equal(sz.params[0].fan_out, U);
  assert_int_equal(sz.params[0].init, p.act == CLT_ACT_RELU || p.act == CLT_ACT_LEAKY_RELU
                                          ? CLT_INIT_HE_NORMAL
                                          : CLT_INIT_GLOROT_UNIFORM);
  if (p.bias) {
    assert_string_equal(sz.params[1].name, "bias");
    assert_int_equal(sz.params[1].count, (size_t)U);
    assert_int_equal(sz.params[1].init, CLT_INIT_ZEROS);
  }
  assert_int_equal(sz.saved_floats, 0);
  assert_int_equal(sz.workspace_floats, 0);
  OK(ops->prepare(self, ctx));

  size_t nx = (size_t)N * I, ny = (size_t)N * U, nw = (size_t)U * I;
  double *x = random_d(nx, -1.0, 1.0, seed);
  double *W = random_d(nw, -0.3, 0.3, seed + 1);
  double *b = random_d((size_t)U, -0.5, 0.5, seed + 2);
  double *dy = random_d(ny, -1.0, 1.0, seed + 3);
  double *y_ref = alloc_d(ny), *dx_ref = alloc_d(nx), *dW_ref = alloc_d(nw),
         *db_ref = alloc_d((size_t)U);
  clt_ref_dense_forward(&p, N, I, x, W, b, y_ref);
  clt_ref_dense_backward(&p, N, I, x, W, y_ref, dy, dx_ref, dW_ref, db_ref);

  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = N;
  pass.training = 1;
  pass.x = clt_test_upload(ctx, x, nx);
  pass.y = clt_test_zeros(ctx, ny);
  pass.params[0] = clt_test_upload(ctx, W, nw);
  pass.grads[0] = clt_test_zeros(ctx, nw);
  if (p.bias) {
    pass.params[1] = clt_test_upload(ctx, b, (size_t)U);
    pass.grads[1] = clt_test_zeros(ctx, (size_t)U);
  }
  size_t most = nx > ny ? nx : ny;
  most = most > nw ? most : nw;
  double *got = alloc_d(most);
  OK(ops->forward(self, &pass));
  clt_test_download(ctx, pass.y, got, ny);
  expect_close("y", got, y_ref, ny, 1.0);

  /* Backward twice (dy is consumed in place: a fresh copy each time), then once
   * without dx: dW and db accumulate, dx is written (it starts as junk). */
  double *junk = alloc_d(nx);
  for (size_t i = 0; i < nx; i++) junk[i] = 1e6;
  pass.dx = clt_test_upload(ctx, junk, nx);
  for (int call = 1; call <= 3; call++) {
    pass.dy = clt_test_upload(ctx, dy, ny);
    cl_mem dx = pass.dx;
    if (call == 3) pass.dx = NULL;
    OK(ops->backward(self, &pass));
    pass.dx = dx;
    clt_buffer_release(&pass.dy);
    if (call <= 2) {
      clt_test_download(ctx, pass.dx, got, nx);
      expect_close("dx", got, dx_ref, nx, 1.0);
    }
    if (call >= 2) {
      clt_test_download(ctx, pass.grads[0], got, nw);
      expect_close("dW", got, dW_ref, nw, call);
      if (p.bias) {
        clt_test_download(ctx, pass.grads[1], got, (size_t)U);
        expect_close("db", got, db_ref, (size_t)U, call);
      }
    }
  }

  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dx);
  for (int i = 0; i < 2; i++) {
    clt_buffer_release(&pass.params[i]);
    clt_buffer_release(&pass.grads[i]);
  }
  free(x), free(W), free(b), free(dy), free(y_ref), free(dx_ref), free(dW_ref), free(db_ref);
  free(junk), free(got);
  ops->destroy(self);
  clt_ini_free(ini);
}

/* 7x5x3 flattened to 105 inputs, 13 units. */
static void test_flatten_relu(void **state) {
  (void)state;
  dense_case tc = {3, 7, 5, 3, 13, -1, "relu", 0, "13, relu"};
  run_case(&tc, 101);
}

static void test_one_unit_sigmoid_no_bias(void **state) {
  (void)state;
  dense_case tc = {1, 1, 1, 10, 1, 0, "sigmoid", 0, "1, sigmoid, no bias"};
  run_case(&tc, 111);
}

static void test_tanh(void **state) {
  (void)state;
  dense_case tc = {3, 4, 4, 2, 5, 1, "tanh", 0, NULL};
  run_case(&tc, 121);
}

static void test_leaky_relu(void **state) {
  (void)state;
  dense_case tc = {2, 1, 1, 33, 17, 1, "leaky_relu", 0.2, "17, leaky_relu 0.2"};
  run_case(&tc, 131);
}

static void test_linear(void **state) {
  (void)state;
  dense_case tc = {3, 1, 3, 11, 17, -1, NULL, 0, "17, linear"};
  run_case(&tc, 141);
}

/* ---- model-file errors: each names the file and line ---- */

static void expect_error_has(const char *needle) {
  const char *msg = clt_last_error();
  if (!strstr(msg, needle)) fail_msg("expected '%s' in the message: %s", needle, msg);
}

static void parse_bad(const char *text, int line, const char *fragment) {
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string(text, NAME, &ini));
  void *self = (void *)1;
  clt_clear_error();
  clt_status st = ops->parse(&ini->sections[0], &self);
  if (st != CLT_ERR_BAD_DATA)
    fail_msg("'%s': expected bad data, got %s (%s)", text, clt_status_string(st), clt_last_error());
  assert_null(self);
  char where[64];
  snprintf(where, sizeof where, NAME ":%d:", line);
  expect_error_has(where);
  expect_error_has(fragment);
  clt_ini_free(ini);
}

static void test_parse_errors(void **state) {
  (void)state;
  parse_bad("[dense]\nactivation = relu\n", 1, "units");
  parse_bad("[dense]\nunits = 0\n", 2, "units");
  parse_bad("[dense]\nunits = 1048577\n", 2, "units");
  parse_bad("[dense]\nunits = 10\nactivation = softmax\n", 3, "sigmoid");
  parse_bad("[dense]\nunits = 10\nactivation = tanh\nalpha = 0.1\n", 4, "leaky_relu");
  parse_bad("[dense]\nunits = 10\nactivation = leaky_relu\nalpha = -1\n", 4, "alpha");
  parse_bad("[dense]\nunits = 10\nbias = 2\n", 3, "bias");
}

static void test_unknown_key(void **state) {
  (void)state;
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string("[dense]\nunits = 10\nunit = 3\n", NAME, &ini));
  void *self = NULL;
  OK(ops->parse(&ini->sections[0], &self));
  assert_int_equal(clt_ini_check_unused(&ini->sections[0]), CLT_ERR_BAD_DATA);
  expect_error_has(NAME ":3:");
  expect_error_has("unit");
  ops->destroy(self);
  clt_ini_free(ini);
}

int main(void) {
  clt_test_ctx_or_skip();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_flatten_relu), cmocka_unit_test(test_one_unit_sigmoid_no_bias),
      cmocka_unit_test(test_tanh),         cmocka_unit_test(test_leaky_relu),
      cmocka_unit_test(test_linear),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
