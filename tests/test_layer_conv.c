/* The conv layer on the device against the float64 reference (src/ref/ref_conv.c):
 * forward y, backward dx, dW, db (accumulated over calls), the 1x1 fast path,
 * padding valid / same (symmetric and asymmetric) / a number, strides, every
 * activation, and the model-file errors.
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

typedef struct conv_case {
  int n, h, w, c;            /* input */
  int filters, size, stride; /* stride 0: key omitted (default 1) */
  const char *padding;       /* NULL: key omitted (valid) */
  int bias;                  /* -1: key omitted (default 1) */
  const char *act;           /* NULL: key omitted (linear) */
  double alpha;              /* 0: key omitted */
  const char *describe;      /* expected describe() text, or NULL */
} conv_case;

static const clt_layer_ops *ops = &clt_layer_conv;

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

static void run_case(const conv_case *tc, uint32_t seed) {
  clt_ctx *ctx = clt_test_ctx();
  char text[512];
  int len = snprintf(text, sizeof text, "[conv]\nfilters = %d\nsize = %d\n", tc->filters, tc->size);
  if (tc->stride) len += snprintf(text + len, sizeof text - len, "stride = %d\n", tc->stride);
  if (tc->padding) len += snprintf(text + len, sizeof text - len, "padding = %s\n", tc->padding);
  if (tc->bias >= 0) len += snprintf(text + len, sizeof text - len, "bias = %d\n", tc->bias);
  if (tc->act) len += snprintf(text + len, sizeof text - len, "activation = %s\n", tc->act);
  if (tc->alpha > 0) snprintf(text + len, sizeof text - len, "alpha = %g\n", tc->alpha);

  /* The reference's view of the same layer. */
  clt_ref_conv p = {0};
  p.filters = tc->filters;
  p.size = tc->size;
  p.stride = tc->stride ? tc->stride : 1;
  p.bias = tc->bias != 0;
  p.act = CLT_ACT_LINEAR;
  if (tc->act) assert_int_equal(clt_activation_from_name(tc->act, &p.act), 0);
  p.alpha = tc->alpha > 0 ? tc->alpha : 0.01;
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

  clt_ini *ini = NULL;
  clt_shape in = {tc->h, tc->w, tc->c}, out;
  void *self = build(text, &ini, in, &out);
  assert_int_equal(out.h, rout.h);
  assert_int_equal(out.w, rout.w);
  assert_int_equal(out.c, tc->filters);
  if (tc->describe) {
    char buf[128];
    ops->describe(self, buf, sizeof buf);
    assert_string_equal(buf, tc->describe);
  }

  int N = tc->n, K = tc->size, C = tc->c, F = tc->filters;
  size_t kkc = (size_t)K * K * C;
  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  assert_int_equal(sz.param_count, p.bias ? 2 : 1);
  assert_string_equal(sz.params[0].name, "weights");
  assert_int_equal(sz.params[0].count, (size_t)F * kkc);
  assert_int_equal(sz.params[0].fan_in, (int)kkc);
  assert_int_equal(sz.params[0].fan_out, K * K * F);
  assert_int_equal(sz.params[0].init, p.act == CLT_ACT_RELU || p.act == CLT_ACT_LEAKY_RELU
                                          ? CLT_INIT_HE_NORMAL
                                          : CLT_INIT_GLOROT_UNIFORM);
  if (p.bias) {
    assert_string_equal(sz.params[1].name, "bias");
    assert_int_equal(sz.params[1].count, (size_t)F);
    assert_int_equal(sz.params[1].init, CLT_INIT_ZEROS);
  }
  assert_int_equal(sz.saved_floats, 0);
  int pointwise =
      K == 1 && p.stride == 1 && p.pad_top + p.pad_bottom + p.pad_left + p.pad_right == 0;
  size_t rows = (size_t)N * out.h * out.w;
  assert_int_equal(sz.workspace_floats, pointwise ? 0 : rows * kkc);
  OK(ops->prepare(self, ctx));

  size_t nx = (size_t)N * clt_shape_size(in), ny = rows * F, nw = (size_t)F * kkc;
  double *x = random_d(nx, -1.0, 1.0, seed);
  double *W = random_d(nw, -0.5, 0.5, seed + 1);
  double *b = random_d((size_t)F, -0.5, 0.5, seed + 2);
  double *dy = random_d(ny, -1.0, 1.0, seed + 3);
  double *y_ref = alloc_d(ny), *dx_ref = alloc_d(nx), *dW_ref = alloc_d(nw),
         *db_ref = alloc_d((size_t)F);
  clt_ref_conv_forward(&p, rin, x, W, b, y_ref);
  clt_ref_conv_backward(&p, rin, x, W, y_ref, dy, dx_ref, dW_ref, db_ref);

  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = N;
  pass.training = 1;
  pass.x = clt_test_upload(ctx, x, nx);
  pass.y = clt_test_zeros(ctx, ny);
  pass.params[0] = clt_test_upload(ctx, W, nw);
  pass.grads[0] = clt_test_zeros(ctx, nw);
  if (p.bias) {
    pass.params[1] = clt_test_upload(ctx, b, (size_t)F);
    pass.grads[1] = clt_test_zeros(ctx, (size_t)F);
  }
  double *junk = alloc_d(sz.workspace_floats > nx ? sz.workspace_floats : nx);
  for (size_t i = 0; i < sz.workspace_floats || i < nx; i++) junk[i] = 1e6;
  if (sz.workspace_floats) pass.workspace = clt_test_upload(ctx, junk, sz.workspace_floats);

  double *got = alloc_d(ny > nx ? (ny > nw ? ny : nw) : (nx > nw ? nx : nw));
  OK(ops->forward(self, &pass));
  clt_test_download(ctx, pass.y, got, ny);
  expect_close("y", got, y_ref, ny, 1.0);

  /* The workspace does not survive between passes: spoil it. */
  if (sz.workspace_floats) OK(clt_buffer_write(ctx, pass.workspace, 0, 4, &(float){-3e7f}));

  /* Backward twice (dy is consumed in place: a fresh copy each time), then once
   * without dx: dW and db accumulate, dx is written (it starts as junk). */
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
        clt_test_download(ctx, pass.grads[1], got, (size_t)F);
        expect_close("db", got, db_ref, (size_t)F, call);
      }
    }
  }

  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dx);
  clt_buffer_release(&pass.workspace);
  for (int i = 0; i < 2; i++) {
    clt_buffer_release(&pass.params[i]);
    clt_buffer_release(&pass.grads[i]);
  }
  free(x), free(W), free(b), free(dy), free(y_ref), free(dx_ref), free(dW_ref), free(db_ref);
  free(junk), free(got);
  ops->destroy(self);
  clt_ini_free(ini);
}

static void test_same_relu(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 5, 3, 1, "same", -1, "relu", 0, "5 3x3 /1 same, relu"};
  run_case(&tc, 11);
}

static void test_stride2_valid_linear(void **state) {
  (void)state;
  conv_case tc = {1, 7, 5, 3, 13, 3, 2, NULL, -1, NULL, 0, "13 3x3 /2 valid, linear"};
  run_case(&tc, 21);
}

static void test_k5_pad2_tanh_no_bias(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 1, 5, 2, "2", 0, "tanh", 0, "1 5x5 /2 pad 2, tanh, no bias"};
  run_case(&tc, 31);
}

static void test_pointwise_sigmoid(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 13, 1, 0, "valid", 1, "sigmoid", 0, "13 1x1 /1 valid, sigmoid"};
  run_case(&tc, 41);
}

static void test_k1_stride2_leaky(void **state) {
  (void)state;
  conv_case tc = {
      2, 7, 5, 3, 5, 1, 2, "same", 1, "leaky_relu", 0.1, "5 1x1 /2 same, leaky_relu 0.1"};
  run_case(&tc, 51);
}

/* Even kernel with same padding: pad 1 before, 2 after. */
static void test_k4_same_asymmetric(void **state) {
  (void)state;
  conv_case tc = {1, 6, 8, 2, 4, 4, 0, "same", 1, NULL, 0, NULL};
  run_case(&tc, 61);
}

/* Stride 3 same: 7 -> 3 (pads 1, 1), 5 -> 2 (pads 0, 1). */
static void test_stride3_same(void **state) {
  (void)state;
  conv_case tc = {3, 7, 5, 3, 5, 3, 3, "same", 1, "relu", 0, NULL};
  run_case(&tc, 71);
}

/* Kernel as large as the input: a 1x1 output. */
static void test_kernel_equals_input(void **state) {
  (void)state;
  conv_case tc = {2, 5, 5, 1, 3, 5, 1, NULL, 1, "tanh", 0, NULL};
  run_case(&tc, 81);
}

/* Padding 1 with stride 2, and an explicit padding 0 (the 1x1 fast path from a number). */
static void test_number_padding(void **state) {
  (void)state;
  conv_case a = {2, 7, 5, 3, 5, 3, 2, "1", 1, "leaky_relu", 0, "5 3x3 /2 pad 1, leaky_relu 0.01"};
  run_case(&a, 91);
  conv_case b = {1, 4, 3, 5, 2, 1, 1, "0", 0, NULL, 0, NULL};
  run_case(&b, 92);
}

/* ---- model-file errors: each names the file and line ---- */

static void expect_error_has(const char *needle) {
  const char *msg = clt_last_error();
  if (!strstr(msg, needle)) fail_msg("expected '%s' in the message: %s", needle, msg);
}

/* Parses text (one [conv] section) and expects parse to fail at line. */
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

static void test_unknown_key(void **state) {
  (void)state;
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string("[conv]\nfilters = 4\nsize = 3\nstrides = 2\n", NAME, &ini));
  void *self = NULL;
  OK(ops->parse(&ini->sections[0], &self));
  assert_int_equal(clt_ini_check_unused(&ini->sections[0]), CLT_ERR_BAD_DATA);
  expect_error_has(NAME ":4:");
  expect_error_has("strides");
  expect_error_has("stride");
  ops->destroy(self);
  clt_ini_free(ini);
}

static void test_kernel_larger_than_input(void **state) {
  (void)state;
  clt_shape in = {3, 4, 2}, out;
  const char *bad[] = {"[conv]\nfilters = 4\nsize = 5\n",
                       "[conv]\nfilters = 4\nsize = 5\npadding = 0\n"};
  for (int i = 0; i < 2; i++) {
    clt_ini *ini = NULL;
    OK(clt_ini_parse_string(bad[i], NAME, &ini));
    void *self = NULL;
    OK(ops->parse(&ini->sections[0], &self));
    assert_int_equal(ops->infer(self, &ini->sections[0], in, &out), CLT_ERR_BAD_DATA);
    expect_error_has(NAME ":1:");
    expect_error_has("larger than the padded input");
    expect_error_has("padding = same");
    ops->destroy(self);
    clt_ini_free(ini);
  }
  /* The same kernel fits once padded: 3x4 + 2*1 = 5x6, and same padding always fits. */
  const char *good[] = {"[conv]\nfilters = 4\nsize = 5\npadding = 1\n",
                        "[conv]\nfilters = 4\nsize = 5\npadding = same\n"};
  int want_h[] = {1, 3}, want_w[] = {2, 4};
  for (int i = 0; i < 2; i++) {
    clt_ini *ini = NULL;
    void *self = build(good[i], &ini, in, &out);
    assert_int_equal(out.h, want_h[i]);
    assert_int_equal(out.w, want_w[i]);
    assert_int_equal(out.c, 4);
    ops->destroy(self);
    clt_ini_free(ini);
  }
}

int main(void) {
  clt_test_ctx_or_skip();
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
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
