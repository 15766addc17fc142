/* [maxpool] and [avgpool] on the device against the float64 reference (src/ref/ref_pool.c).
 *
 * Tolerances (relative to the largest magnitude of the reference tensor):
 *   maxpool forward: exact (0): y is a copy of one input value.
 *   maxpool backward: 1e-6: dx sums at most ceil(K/S)^2 float dy values (float sum against
 *     a double sum); a gradient routed to a different element of a tie gives an error of
 *     order 1, so ties are checked too.
 *   avgpool forward and backward: 2e-6: a float sum of up to K*K = 9 values times
 *     1 / (K*K) rounded to float (about 10 roundings of 2^-24 each). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL_MAX_Y  0.0
#define TOL_MAX_DX 1e-6
#define TOL_AVG    2e-6

static clt_ctx *ctx;

/* Input values: 0 = uniform in [-1, 1); 1 = relu(x - 0.4) of that (70% exact zeros, so
 * many windows are all zero); 2 = levels {0, 0.5, 1} after relu (ties between non-zero
 * values too). */
static void make_input(double *x, size_t n, int kind, uint32_t seed) {
  clt_test_fill_uniform(x, n, -1.0, 1.0, seed);
  for (size_t i = 0; i < n; i++) {
    if (kind == 1) x[i] = fmax(x[i] - 0.4, 0.0);
    if (kind == 2) x[i] = fmax(x[i], 0.0);
    if (kind == 2) x[i] = round(x[i] * 2.0) / 2.0;
  }
  clt_test_round_to_float(x, n);
}

/* One forward (training, then inference) and backward on the device against the
 * reference, for [maxpool] (is_max) or [avgpool] with window K, stride S. */
static void check_pool(int is_max, int K, int S, int N, clt_shape in, int kind) {
  char text[128];
  snprintf(text, sizeof text, "[%s]\nsize = %d\nstride = %d\n", is_max ? "maxpool" : "avgpool", K,
           S);
  const clt_layer_ops *ops = is_max ? &clt_layer_maxpool : &clt_layer_avgpool;
  clt_shape out;
  void *self = clt_test_layer_build(ops, text, in, &out, ctx);
  clt_ref_pool rp = {K, S};
  clt_ref_shape rin = {N, in.h, in.w, in.c};
  clt_ref_shape rout = clt_ref_pool_out_shape(&rp, rin);
  clt_test_expect_shape(out, rout.h, rout.w, in.c);

  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.state_floats == 0);
  size_t nin = (size_t)N * clt_shape_size(in), nout = (size_t)N * clt_shape_size(out);
  assert_true(sz.saved_floats == (is_max ? nout : 0));

  double *x = clt_test_alloc(nin), *y = clt_test_alloc(nout), *dx = clt_test_alloc(nin);
  double *ry = clt_test_alloc(nout), *rdx = clt_test_alloc(nin);
  make_input(x, nin, kind, 11u + (uint32_t)K * 7u + (uint32_t)S);
  double *dy = clt_test_random(nout, -1.0, 1.0, 99u);

  clt_pass pass = {.ctx = ctx, .batch = N, .training = 1};
  pass.x = clt_test_upload(ctx, x, nin);
  pass.y = clt_test_zeros(ctx, nout);
  pass.dy = clt_test_upload(ctx, dy, nout);
  pass.dx = clt_test_filled(ctx, nin, 7.0); /* backward must write, not add */
  pass.saved = sz.saved_floats ? clt_test_zeros(ctx, sz.saved_floats) : NULL;

  char what[160];
  snprintf(what, sizeof what, "%s K%d S%d N%d %dx%dx%d kind %d", ops->name, K, S, N, in.h, in.w,
           in.c, kind);
  OK(ops->forward(self, &pass));
  OK(ops->backward(self, &pass));
  clt_test_download(ctx, pass.y, y, nout);
  clt_test_download(ctx, pass.dx, dx, nin);
  if (is_max) {
    clt_ref_maxpool_forward(&rp, rin, x, ry);
    clt_ref_maxpool_backward(&rp, rin, x, dy, rdx);
  } else {
    clt_ref_avgpool_forward(&rp, rin, x, ry);
    clt_ref_avgpool_backward(&rp, rin, dy, rdx);
  }
  double tol_y = is_max ? TOL_MAX_Y : TOL_AVG, tol_dx = is_max ? TOL_MAX_DX : TOL_AVG;
  EXPECT_CLOSE(what, y, ry, nout, 1e-30, tol_y);
  EXPECT_CLOSE(what, dx, rdx, nin, 1e-30, tol_dx);
  if (is_max) {
    /* Routing: every element that received a gradient is the reference's, and vice versa. */
    for (size_t i = 0; i < nin; i++) assert_int_equal(dx[i] != 0.0, rdx[i] != 0.0);
  }

  /* Inference: same y, nothing saved needed. */
  clt_pass inf = pass;
  inf.training = 0;
  inf.saved = NULL;
  OK(clt_buffer_zero(ctx, inf.y, 0, nout * sizeof(float)));
  OK(ops->forward(self, &inf));
  clt_test_download(ctx, inf.y, y, nout);
  EXPECT_CLOSE(what, y, ry, nout, 1e-30, tol_y);

  clt_test_pass_release(&pass);
  free(x), free(dy), free(y), free(dx), free(ry), free(rdx);
  ops->destroy(self);
}

static void test_maxpool_shapes(void **state) {
  (void)state;
  clt_shape odd = {7, 5, 3};
  for (int N = 1; N <= 3; N += 2) {
    check_pool(1, 2, 2, N, odd, 0); /* odd sizes: the last row / column is dropped */
    check_pool(1, 3, 2, N, odd, 0); /* overlapping windows */
    check_pool(1, 2, 3, N, (clt_shape){8, 7, 3}, 0); /* stride > size: gaps */
    check_pool(1, 3, 1, N, odd, 0);                  /* heavy overlap */
    check_pool(1, 1, 1, N, odd, 0);                  /* identity */
    check_pool(1, 5, 5, N, odd, 0);                  /* one window column */
  }
  check_pool(1, 2, 2, 2, (clt_shape){13, 11, 17}, 0); /* 4862 inputs: several groups */
}

static void test_maxpool_ties(void **state) {
  (void)state;
  clt_shape odd = {7, 5, 3};
  for (int kind = 1; kind <= 2; kind++)
    for (int N = 1; N <= 3; N += 2) {
      check_pool(1, 2, 2, N, odd, kind);
      check_pool(1, 3, 2, N, odd, kind);
      check_pool(1, 2, 3, N, (clt_shape){8, 7, 3}, kind);
      check_pool(1, 3, 1, N, odd, kind);
    }
}

/* The vector kernels (channels a multiple of 4: vectors of 16, 8 and 4), with ties and
 * with an overlapping window (vector forward, scalar backward). */
static void test_maxpool_vectors(void **state) {
  (void)state;
  for (int kind = 0; kind <= 2; kind++) {
    check_pool(1, 2, 2, 3, (clt_shape){7, 5, 16}, kind);
    check_pool(1, 2, 3, 2, (clt_shape){8, 7, 8}, kind);
    check_pool(1, 3, 2, 1, (clt_shape){9, 6, 12}, kind);
  }
}

/* All-zero input: every window ties everywhere; the first element takes the gradient. */
static void test_maxpool_all_ties(void **state) {
  (void)state;
  for (int c = 2; c <= 8; c += 6) { /* scalar and vector kernels */
    clt_shape in = {4, 4, c}, out;
    void *self = clt_test_layer_build(&clt_layer_maxpool, "[maxpool]\nsize = 2\n", in, &out, ctx);
    size_t nin = clt_shape_size(in), nout = clt_shape_size(out);
    double *dy = clt_test_alloc(nout), *dx = clt_test_alloc(nin);
    for (size_t i = 0; i < nout; i++) dy[i] = (double)(i + 1);
    clt_pass pass = {.ctx = ctx, .batch = 1, .training = 1};
    pass.x = clt_test_filled(ctx, nin, 0.0);
    pass.y = clt_test_zeros(ctx, nout);
    pass.dy = clt_test_upload(ctx, dy, nout);
    pass.dx = clt_test_zeros(ctx, nin);
    pass.saved = clt_test_zeros(ctx, nout);
    OK(clt_layer_maxpool.forward(self, &pass));
    OK(clt_layer_maxpool.backward(self, &pass));
    clt_test_download(ctx, pass.dx, dx, nin);
    for (int h = 0; h < in.h; h++)
      for (int w = 0; w < in.w; w++)
        for (int c = 0; c < in.c; c++) {
          double want = 0.0;
          if (h % 2 == 0 && w % 2 == 0) want = dy[((h / 2) * out.w + w / 2) * out.c + c];
          assert_true(dx[(h * in.w + w) * in.c + c] == want);
        }
    clt_test_pass_release(&pass);
    free(dy), free(dx);
    clt_layer_maxpool.destroy(self);
  }
}

static void test_avgpool(void **state) {
  (void)state;
  clt_shape odd = {7, 5, 3};
  for (int N = 1; N <= 3; N += 2) {
    check_pool(0, 2, 2, N, odd, 0);
    check_pool(0, 3, 2, N, odd, 0);
    check_pool(0, 2, 3, N, (clt_shape){8, 7, 3}, 0);
    check_pool(0, 3, 1, N, odd, 0);
    check_pool(0, 1, 1, N, odd, 0);
  }
  check_pool(0, 2, 2, 2, (clt_shape){13, 11, 17}, 0);
}

/* A model text that must fail in parse, the unused-key check or infer (input 6x5x2), with
 * "model.ini:LINE" and needle in the message. */
static void expect_error(const clt_layer_ops *ops, const char *text, int line, const char *needle) {
  clt_shape in = {6, 5, 2};
  clt_test_layer_expect_bad(ops, text, CLT_TEST_STEP_INFER, &in, line, needle);
}

static void test_parse_errors(void **state) {
  (void)state;
  const clt_layer_ops *both[2] = {&clt_layer_maxpool, &clt_layer_avgpool};
  for (int i = 0; i < 2; i++) {
    const clt_layer_ops *ops = both[i];
    expect_error(ops, "# pooling\n[p]\nstride = 2\n", 2, "size");
    expect_error(ops, "[p]\nsize = 0\n", 2, "size");
    expect_error(ops, "[p]\nsize = 65\n", 2, "size");
    expect_error(ops, "[p]\nsize = two\n", 2, "size");
    expect_error(ops, "[p]\nsize = 2\n\nstride = 0\n", 4, "stride");
    expect_error(ops, "[p]\nsize = 2\nstrides = 1\n", 3, "strides");
    expect_error(ops, "\n[p]\nsize = 6\n", 2, "larger than"); /* input 6x5x2 */
  }
}

static void test_describe(void **state) {
  (void)state;
  clt_shape in = {7, 5, 3}, out;
  void *self =
      clt_test_layer_build(&clt_layer_maxpool, "[maxpool]\nsize = 3\nstride = 2\n", in, &out, ctx);
  clt_test_layer_expect_describe(&clt_layer_maxpool, self, "3x3 /2");
  clt_layer_maxpool.destroy(self);
  self = clt_test_layer_build(&clt_layer_avgpool, "[avgpool]\nsize = 2\n", in, &out, ctx);
  clt_test_layer_expect_describe(&clt_layer_avgpool, self, "2x2 /2");
  assert_int_equal(out.h, 3);
  assert_int_equal(out.w, 2);
  clt_layer_avgpool.destroy(self);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_maxpool_shapes),  cmocka_unit_test(test_maxpool_ties),
      cmocka_unit_test(test_maxpool_vectors), cmocka_unit_test(test_maxpool_all_ties),
      cmocka_unit_test(test_avgpool),         cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_describe),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
