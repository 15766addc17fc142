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
#include <string.h>

#include "nn/ini.h"
#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/test_util.h"

#define TOL_MAX_Y  0.0
#define TOL_MAX_DX 1e-6
#define TOL_AVG    2e-6

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
  assert_int_equal(ops->prepare(self, ctx), CLT_OK);
  clt_ini_free(ini);
  return self;
}

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
  void *self = build(ops, text, in, &out);
  clt_ref_pool rp = {K, S};
  clt_ref_shape rin = {N, in.h, in.w, in.c};
  clt_ref_shape rout = clt_ref_pool_out_shape(&rp, rin);
  assert_int_equal(out.h, rout.h);
  assert_int_equal(out.w, rout.w);
  assert_int_equal(out.c, in.c);

  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  assert_int_equal(sz.param_count, 0);
  assert_true(sz.state_floats == 0);
  size_t nin = (size_t)N * clt_shape_size(in), nout = (size_t)N * clt_shape_size(out);
  assert_true(sz.saved_floats == (is_max ? nout : 0));

  double *x = alloc(nin), *dy = alloc(nout), *y = alloc(nout), *dx = alloc(nin);
  double *ry = alloc(nout), *rdx = alloc(nin), *junk = alloc(nin);
  make_input(x, nin, kind, 11u + (uint32_t)K * 7u + (uint32_t)S);
  clt_test_fill_uniform(dy, nout, -1.0, 1.0, 99u);
  clt_test_round_to_float(dy, nout);
  for (size_t i = 0; i < nin; i++) junk[i] = 7.0;

  clt_pass pass = {.ctx = ctx, .batch = N, .training = 1};
  pass.x = clt_test_upload(ctx, x, nin);
  pass.y = clt_test_zeros(ctx, nout);
  pass.dy = clt_test_upload(ctx, dy, nout);
  pass.dx = clt_test_upload(ctx, junk, nin); /* backward must write, not add */
  pass.saved = sz.saved_floats ? clt_test_zeros(ctx, sz.saved_floats) : NULL;

  char what[160];
  snprintf(what, sizeof what, "%s K%d S%d N%d %dx%dx%d kind %d", ops->name, K, S, N, in.h, in.w,
           in.c, kind);
  assert_int_equal(ops->forward(self, &pass), CLT_OK);
  assert_int_equal(ops->backward(self, &pass), CLT_OK);
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
  assert_true(clt_test_rel_error(what, y, ry, nout, 1e-30, tol_y) <= tol_y);
  assert_true(clt_test_rel_error(what, dx, rdx, nin, 1e-30, tol_dx) <= tol_dx);
  if (is_max) {
    /* Routing: every element that received a gradient is the reference's, and vice versa. */
    for (size_t i = 0; i < nin; i++) assert_int_equal(dx[i] != 0.0, rdx[i] != 0.0);
  }

  /* Inference: same y, nothing saved needed. */
  clt_pass inf = pass;
  inf.training = 0;
  inf.saved = NULL;
  assert_int_equal(clt_buffer_zero(ctx, inf.y, 0, nout * sizeof(float)), CLT_OK);
  assert_int_equal(ops->forward(self, &inf), CLT_OK);
  clt_test_download(ctx, inf.y, y, nout);
  assert_true(clt_test_rel_error(what, y, ry, nout, 1e-30, tol_y) <= tol_y);

  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dy);
  clt_buffer_release(&pass.dx);
  clt_buffer_release(&pass.saved);
  free(x), free(dy), free(y), free(dx), free(ry), free(rdx), free(junk);
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

/* All-zero input: every window ties everywhere; the first element takes the gradient. */
static void test_maxpool_all_ties(void **state) {
  (void)state;
  clt_shape in = {4, 4, 2}, out;
  void *self = build(&clt_layer_maxpool, "[maxpool]\nsize = 2\n", in, &out);
  size_t nin = clt_shape_size(in), nout = clt_shape_size(out);
  double *zeros = alloc(nin), *dy = alloc(nout), *dx = alloc(nin);
  for (size_t i = 0; i < nout; i++) dy[i] = (double)(i + 1);
  clt_pass pass = {.ctx = ctx, .batch = 1, .training = 1};
  pass.x = clt_test_upload(ctx, zeros, nin);
  pass.y = clt_test_zeros(ctx, nout);
  pass.dy = clt_test_upload(ctx, dy, nout);
  pass.dx = clt_test_zeros(ctx, nin);
  pass.saved = clt_test_zeros(ctx, nout);
  assert_int_equal(clt_layer_maxpool.forward(self, &pass), CLT_OK);
  assert_int_equal(clt_layer_maxpool.backward(self, &pass), CLT_OK);
  clt_test_download(ctx, pass.dx, dx, nin);
  for (int h = 0; h < in.h; h++)
    for (int w = 0; w < in.w; w++)
      for (int c = 0; c < in.c; c++) {
        double want = 0.0;
        if (h % 2 == 0 && w % 2 == 0) want = dy[((h / 2) * out.w + w / 2) * out.c + c];
        assert_true(dx[(h * in.w + w) * in.c + c] == want);
      }
  clt_buffer_release(&pass.x);
  clt_buffer_release(&pass.y);
  clt_buffer_release(&pass.dy);
  clt_buffer_release(&pass.dx);
  clt_buffer_release(&pass.saved);
  free(zeros), free(dy), free(dx);
  clt_layer_maxpool.destroy(self);
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

/* A model text that must fail in parse, the unused-key check or infer, with "test.ini:LINE"
 * and needle in the message. */
static void expect_error(const clt_layer_ops *ops, const char *text, int line, const char *needle) {
  clt_ini *ini = NULL;
  assert_int_equal(clt_ini_parse_string(text, "test.ini", &ini), CLT_OK);
  const clt_ini_section *sec = &ini->sections[0];
  void *self = NULL;
  clt_shape in = {6, 5, 2}, out;
  clt_status st = ops->parse(sec, &self);
  if (st == CLT_OK) st = clt_ini_check_unused(sec);
  if (st == CLT_OK) st = ops->infer(self, sec, in, &out);
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
  clt_shape out;
  char buf[64];
  void *self =
      build(&clt_layer_maxpool, "[maxpool]\nsize = 3\nstride = 2\n", (clt_shape){7, 5, 3}, &out);
  clt_layer_maxpool.describe(self, buf, sizeof buf);
  assert_string_equal(buf, "3x3 /2");
  clt_layer_maxpool.destroy(self);
  self = build(&clt_layer_avgpool, "[avgpool]\nsize = 2\n", (clt_shape){7, 5, 3}, &out);
  clt_layer_avgpool.describe(self, buf, sizeof buf);
  assert_string_equal(buf, "2x2 /2");
  assert_int_equal(out.h, 3);
  assert_int_equal(out.w, 2);
  clt_layer_avgpool.destroy(self);
}

int main(void) {
  ctx = clt_test_ctx_or_skip();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_maxpool_shapes),   cmocka_unit_test(test_maxpool_ties),
      cmocka_unit_test(test_maxpool_all_ties), cmocka_unit_test(test_avgpool),
      cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_describe),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
