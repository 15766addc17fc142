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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL   1e-4
#define FLOOR 1e-3 /* scale floor when a reference tensor is all zeros */

typedef struct dense_case {
  int n, h, w, c;       /* input, flattened to I = h*w*c */
  int units;            /* U */
  int bias;             /* -1: key omitted (default 1) */
  const char *act;      /* NULL: key omitted (linear) */
  double alpha;         /* 0: key omitted */
  const char *describe; /* expected describe() text, or NULL */
} dense_case;

static const clt_layer_ops *ops = &clt_layer_dense;

static void run_case(const dense_case *tc, uint32_t seed) {
  clt_ctx *ctx = clt_test_ctx();
  char text[256];
  snprintf(text, sizeof text, "[dense]\nunits = %d\n", tc->units);

  clt_ref_dense p = {0};
  p.units = tc->units;
  p.bias = tc->bias != 0;
  clt_test_bias_act_keys(text, sizeof text, tc->bias, tc->act, tc->alpha, &p.act, &p.alpha);

  clt_shape in = {tc->h, tc->w, tc->c}, out;
  void *self = clt_test_layer_build(ops, text, in, &out, NULL);
  clt_test_expect_shape(out, 1, 1, tc->units);
  if (tc->describe) clt_test_layer_expect_describe(ops, self, tc->describe);

  int N = tc->n, U = tc->units, I = (int)clt_shape_size(in);
  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  clt_test_expect_weights_bias(&sz, p.bias, (size_t)U * I, I, U, (size_t)U, p.act);
  assert_int_equal(sz.workspace_floats, 0);
  OK(ops->prepare(self, ctx));

  size_t nx = (size_t)N * I, ny = (size_t)N * U, nw = (size_t)U * I;
  clt_test_weighted c;
  clt_test_weighted_alloc(&c, N, p.bias, nx, ny, nw, (size_t)U, 0.3, seed);
  clt_ref_dense_forward(&p, N, I, c.x, c.w, c.b, c.y);
  clt_ref_dense_backward(&p, N, I, c.x, c.w, c.y, c.dy, c.dx, c.dw, c.db);
  clt_test_weighted_check(ops, self, ctx, &sz, &c, FLOOR, TOL);
  clt_test_weighted_free(&c);
  ops->destroy(self);
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

/* Expects parse (alone) to refuse text (one [dense] section) at line. */
static void parse_bad(const char *text, int line, const char *fragment) {
  clt_test_layer_expect_bad(ops, text, CLT_TEST_STEP_PARSE, NULL, line, fragment);
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
  assert_int_equal(clt_test_layer_expect_bad(ops, "[dense]\nunits = 10\nunit = 3\n",
                                             CLT_TEST_STEP_UNUSED, NULL, 3, "unit"),
                   CLT_TEST_STEP_UNUSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_flatten_relu), cmocka_unit_test(test_one_unit_sigmoid_no_bias),
      cmocka_unit_test(test_tanh),         cmocka_unit_test(test_leaky_relu),
      cmocka_unit_test(test_linear),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
