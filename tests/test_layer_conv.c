/* The conv layer on the device against the float64 reference (src/ref/ref_conv.c):
 * forward y, backward dx, dW, db (accumulated over calls; the last call without dx,
 * as for a first layer), the 1x1 fast path, padding valid / same (symmetric and
 * asymmetric) / a number, strides, every activation, every algorithm (im2col + GEMM with
 * scalar and vector im2col, the direct kernels for few channels, implicit GEMM), and the
 * model-file errors.
 *
 * Tolerance: 1e-4 of the largest magnitude of the reference tensor, for y, dx, dW
 * and db. Each value is a float32 sum of at most K*K*C = 75 products (y, dx) or
 * N*OH*OW <= 105 products (dW, db) of O(1) numbers: worst-case rounding is about
 * terms * 2^-24 ~ 6e-6 relative to the magnitude, and the device may sum in any
 * order (CLBlast tiles, FMA) and computes exp/tanh to a few ulp; 1e-4 leaves room
 * for that while catching any indexing error (which gives O(1) differences). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/conv_direct.h"
#include "nn/layers/conv_implicit.h"
#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL   1e-4
#define FLOOR 1e-3 /* scale floor when a reference tensor is all zeros */

typedef struct conv_case {
  int n, h, w, c;            /* input */
  int filters, size, stride; /* stride 0: key omitted (default 1) */
  const char *padding;       /* NULL: key omitted (valid) */
  int bias;                  /* -1: key omitted (default 1) */
  const char *act;           /* NULL: key omitted (linear) */
  double alpha;              /* 0: key omitted */
  const char *describe;      /* expected describe() text, or NULL */
  const char *algorithm;     /* NULL: key omitted (auto) */
} conv_case;

static const clt_layer_ops *ops = &clt_layer_conv;

static void run_case(const conv_case *tc, uint32_t seed) {
  clt_ctx *ctx = clt_test_ctx();
  char text[512];
  int len = snprintf(text, sizeof text, "[conv]\nfilters = %d\nsize = %d\n", tc->filters, tc->size);
  if (tc->stride) len += snprintf(text + len, sizeof text - len, "stride = %d\n", tc->stride);
  if (tc->padding) len += snprintf(text + len, sizeof text - len, "padding = %s\n", tc->padding);
  if (tc->algorithm) snprintf(text + len, sizeof text - len, "algorithm = %s\n", tc->algorithm);

  /* The reference's view of the same layer. */
  clt_ref_conv p = {0};
  p.filters = tc->filters;
  p.size = tc->size;
  p.stride = tc->stride ? tc->stride : 1;
  p.bias = tc->bias != 0;
  clt_test_bias_act_keys(text, sizeof text, tc->bias, tc->act, tc->alpha, &p.act, &p.alpha);
  clt_ref_padding mode = CLT_REF_PAD_VALID;
  int number = 0;
  if (tc->padding && strcmp(tc->padding, "same") == 0)
    mode = CLT_REF_PAD_SAME;
  else if (tc->padding && strcmp(tc->padding, "valid") != 0) {
    mode = CLT_REF_PAD_NUMBER;
    number = atoi(tc->padding);
  }
  clt_ref_shape rin = {tc->n, tc->h, tc->w, tc->c};
  clt_ref_conv_set_padding(&p, mode, number, rin);
  clt_ref_shape rout = clt_ref_conv_out_shape(&p, rin);

  clt_shape in = {tc->h, tc->w, tc->c}, out;
  void *self = clt_test_layer_build(ops, text, in, &out, NULL);
  clt_test_expect_shape(out, rout.h, rout.w, tc->filters);
  if (tc->describe) clt_test_layer_expect_describe(ops, self, tc->describe);

  int N = tc->n, K = tc->size, C = tc->c, F = tc->filters;
  size_t kkc = (size_t)K * K * C;
  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  clt_test_expect_weights_bias(&sz, p.bias, (size_t)F * kkc, (int)kkc, K * K * F, (size_t)F, p.act);
  int pointwise =
      K == 1 && p.stride == 1 && p.pad_top + p.pad_bottom + p.pad_left + p.pad_right == 0;
  size_t rows = (size_t)N * out.h * out.w;
  /* col, or the direct path's chunk sums where it may be chosen (conv_direct.h). */
  size_t want = pointwise ? 0 : rows * kkc;
  const char *algo = tc->algorithm ? tc->algorithm : "auto";
  int may_direct = strcmp(algo, "direct") == 0 ||
                   (strcmp(algo, "auto") == 0 && !pointwise && C <= 4 && kkc <= 32);
  size_t direct = (size_t)CLT_CONV_DIRECT_MAX_CHUNKS * (kkc + 1) * F;
  if (may_direct && direct > want) want = direct;
  /* The implicit path's transposed weights and chunk sums, where it may be chosen. */
  if (strcmp(algo, "auto") == 0 || strcmp(algo, "implicit") == 0) {
    size_t implicit = clt_conv_implicit_workspace(K, C, F, rows);
    if (implicit > want) want = implicit;
  }
  assert_int_equal(sz.workspace_floats, want);
  OK(ops->prepare(self, ctx));

  size_t nx = (size_t)N * clt_shape_size(in), ny = rows * F, nw = (size_t)F * kkc;
  clt_test_weighted c;
  clt_test_weighted_alloc(&c, N, p.bias, nx, ny, nw, (size_t)F, 0.5, seed);
  clt_ref_conv_forward(&p, rin, c.x, c.w, c.b, c.y);
  clt_ref_conv_backward(&p, rin, c.x, c.w, c.y, c.dy, c.dx, c.dw, c.db);
  clt_test_weighted_check(ops, self, ctx, &sz, &c, FLOOR, TOL);
  clt_test_weighted_free(&c);
  ops->destroy(self);
}

static void test_same_relu(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 5, 3, 1, "same", -1, "relu", 0, "5 3x3 /1 same, relu", NULL};
  run_case(&tc, 11);
}

static void test_stride2_valid_linear(void **state) {
  (void)state;
  conv_case tc = {1, 7, 5, 3, 13, 3, 2, NULL, -1, NULL, 0, "13 3x3 /2 valid, linear", NULL};
  run_case(&tc, 21);
}

static void test_k5_pad2_tanh_no_bias(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 1, 5, 2, "2", 0, "tanh", 0, "1 5x5 /2 pad 2, tanh, no bias", NULL};
  run_case(&tc, 31);
}

static void test_pointwise_sigmoid(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 13, 1, 0, "valid", 1, "sigmoid", 0, "13 1x1 /1 valid, sigmoid", NULL};
  run_case(&tc, 41);
}

static void test_k1_stride2_leaky(void **state) {
  (void)state;
  conv_case tc = {
      2, 7, 5, 3, 5, 1, 2, "same", 1, "leaky_relu", 0.1, "5 1x1 /2 same, leaky_relu 0.1", NULL};
  run_case(&tc, 51);
}

/* Even kernel with same padding: pad 1 before, 2 after. */
static void test_k4_same_asymmetric(void **state) {
  (void)state;
  conv_case tc = {1, 6, 8, 2, 4, 4, 0, "same", 1, NULL, 0, NULL, NULL};
  run_case(&tc, 61);
}

/* Stride 3 same: 7 -> 3 (pads 1, 1), 5 -> 2 (pads 0, 1). */
static void test_stride3_same(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 5, 3, 3, "same", 1, "relu", 0, NULL, NULL};
  run_case(&tc, 71);
}

/* Kernel as large as the input: a 1x1 output. */
static void test_kernel_equals_input(void **state) {
  (void)state;
  conv_case tc = {2, 5, 5, 1, 3, 5, 1, NULL, 1, "tanh", 0, NULL, NULL};
  run_case(&tc, 81);
}

/* Padding 1 with stride 2, and an explicit padding 0 (the 1x1 fast path from a number). */
static void test_number_padding(void **state) {
  (void)state;
  conv_case a = {2,   7, 5, 3, 5, 3, 2, "1", 1, "leaky_relu", 0, "5 3x3 /2 pad 1, leaky_relu 0.01",
                 NULL};
  run_case(&a, 91);
  conv_case b = {1, 4, 3, 5, 2, 1, 1, "0", 0, NULL, 0, NULL, NULL};
  run_case(&b, 92);
}

/* ---- model-file errors: each names the file and line ---- */

/* Expects parse (alone) to refuse text (one [conv] section) at line. */
static void parse_bad(const char *text, int line, const char *fragment) {
  clt_test_layer_expect_bad(ops, text, CLT_TEST_STEP_PARSE, NULL, line, fragment);
}

static void test_parse_errors(void **state) {
  (void)state;
  parse_bad("[conv]\nsize = 3\n", 1, "filters");
  parse_bad("[conv]\nfilters = 4\nsize = 0\n", 3, "size");
  parse_bad("[conv]\nfilters = 4\nsize = 3\npadding = foo\n", 4, "same");
  parse_bad("[conv]\nfilters = 4\nsize = 3\npadding = 65\n", 4, "valid");
  parse_bad("[conv]\nfilters = 0\nsize = 3\n", 2, "filters");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nstride = 0\n", 4, "stride");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nactivation = softplus\n", 4, "leaky_relu");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nactivation = relu\nalpha = 0.1\n", 5, "leaky_relu");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nalpha = 0.1\n", 4, "leaky_relu");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nactivation = leaky_relu\nalpha = 0\n", 5, "alpha");
  parse_bad("[conv]\nfilters = 4\nsize = 3\nbias = maybe\n", 4, "bias");
}

static void parse_bad_algorithm(void) {
  parse_bad("[conv]\nfilters = 4\nsize = 3\nalgorithm = fft\n", 4, "direct");
}

static void test_unknown_key(void **state) {
  (void)state;
  assert_int_equal(clt_test_layer_expect_bad(ops, "[conv]\nfilters = 4\nsize = 3\nstrides = 2\n",
                                             CLT_TEST_STEP_UNUSED, NULL, 4, "strides"),
                   CLT_TEST_STEP_UNUSED);
  EXPECT_MESSAGE_HAS("stride");
}

static void test_kernel_larger_than_input(void **state) {
  (void)state;
  clt_shape in = {3, 4, 2}, out;
  const char *bad[] = {"[conv]\nfilters = 4\nsize = 5\n",
                       "[conv]\nfilters = 4\nsize = 5\npadding = 0\n"};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(clt_test_layer_expect_bad(ops, bad[i], CLT_TEST_STEP_INFER, &in, 1,
                                               "larger than the padded input"),
                     CLT_TEST_STEP_INFER);
    EXPECT_MESSAGE_HAS("padding = same");
  }
  /* The same kernel fits once padded: 3x4 + 2*1 = 5x6, and same padding always fits. */
  const char *good[] = {"[conv]\nfilters = 4\nsize = 5\npadding = 1\n",
                        "[conv]\nfilters = 4\nsize = 5\npadding = same\n"};
  int want_h[] = {1, 3}, want_w[] = {2, 4};
  for (int i = 0; i < 2; i++) {
    void *self = clt_test_layer_build(ops, good[i], in, &out, NULL);
    clt_test_expect_shape(out, want_h[i], want_w[i], 4);
    ops->destroy(self);
  }
}

/* The direct kernels, forced (auto takes them on CPU devices only): C = 1 with 32
 * filters (16-wide vectors, two per weight-gradient work-item, more rows than one chunk
 * of 128), C = 3 with stride 2 and same padding (4-wide), C = 2 with a 5x5 window and
 * an odd filter count (scalar), C = 1 with stride 3 and no bias. */
static void test_direct(void **state) {
  (void)state;
  conv_case a = {3, 12, 11, 1, 32, 3, 0, NULL, -1, "relu", 0, "32 3x3 /1 valid, relu", "direct"};
  run_case(&a, 101);
  conv_case b = {2, 9, 11, 3, 12, 3, 2, "same", 1, "leaky_relu", 0.1, NULL, "direct"};
  run_case(&b, 102);
  conv_case c = {3, 7, 6, 2, 5, 5, 0, "2", 1, "tanh", 0, NULL, "direct"};
  run_case(&c, 103);
  conv_case d = {1, 13, 10, 1, 6, 4, 3, NULL, 0, "sigmoid", 0, NULL, "direct"};
  run_case(&d, 104);
}

/* Implicit GEMM forced: C = 1 (a first layer's shape, scalar channels), C = 3 with stride 2
 * and same padding, C = 16 with 32 filters (two float16 per tile), a 5x5 window with
 * padding 2 and no bias, a 1x1 window, odd filter counts. */
static void test_implicit(void **state) {
  (void)state;
  conv_case a = {3, 12, 11, 1, 32, 3, 0, NULL, -1, "relu", 0, NULL, "implicit"};
  run_case(&a, 121);
  conv_case b = {2, 9, 11, 3, 12, 3, 2, "same", 1, "leaky_relu", 0.1, NULL, "implicit"};
  run_case(&b, 122);
  conv_case c = {2, 7, 6, 16, 32, 3, 1, "same", 1, "relu", 0, NULL, "implicit"};
  run_case(&c, 123);
  conv_case d = {3, 7, 6, 2, 5, 5, 0, "2", 0, "tanh", 0, NULL, "implicit"};
  run_case(&d, 124);
  conv_case e = {2, 5, 4, 6, 7, 1, 0, NULL, 1, "sigmoid", 0, NULL, "implicit"};
  run_case(&e, 125);
}

/* im2col forced for few channels, and the vector im2col / col2im (C = 16, 8, 12). */
static void test_im2col_paths(void **state) {
  (void)state;
  conv_case a = {2, 7, 5, 3, 5, 3, 1, "same", 1, "relu", 0, NULL, "im2col"};
  run_case(&a, 111);
  conv_case b = {2, 6, 5, 16, 7, 3, 1, "same", 1, "relu", 0, NULL, NULL};
  run_case(&b, 112);
  conv_case c = {3, 9, 7, 8, 5, 3, 2, NULL, 1, NULL, 0, NULL, NULL};
  run_case(&c, 113);
  conv_case d = {2, 9, 8, 12, 6, 5, 2, "1", 1, "tanh", 0, NULL, NULL};
  run_case(&d, 114);
}

static void test_algorithm_errors(void **state) {
  (void)state;
  parse_bad_algorithm();
  clt_shape in = {7, 7, 3}, out;
  assert_int_equal(clt_test_layer_expect_bad(ops,
                                             "[conv]\nfilters = 4\nsize = 5\nalgorithm = direct\n",
                                             CLT_TEST_STEP_INFER, &in, 4, "at most 64 taps"),
                   CLT_TEST_STEP_INFER);
  EXPECT_MESSAGE_HAS("im2col");
  void *self = clt_test_layer_build(ops, "[conv]\nfilters = 4\nsize = 5\nalgorithm = im2col\n", in,
                                    &out, NULL);
  ops->destroy(self);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_kernel_larger_than_input),
      cmocka_unit_test(test_same_relu),
      cmocka_unit_test(test_stride2_valid_linear),
      cmocka_unit_test(test_k5_pad2_tanh_no_bias),
      cmocka_unit_test(test_pointwise_sigmoid),
      cmocka_unit_test(test_k1_stride2_leaky),
      cmocka_unit_test(test_k4_same_asymmetric),
      cmocka_unit_test(test_stride3_same),
      cmocka_unit_test(test_kernel_equals_input),
      cmocka_unit_test(test_number_padding),
      cmocka_unit_test(test_direct),
      cmocka_unit_test(test_im2col_paths),
      cmocka_unit_test(test_implicit),
      cmocka_unit_test(test_algorithm_errors),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
