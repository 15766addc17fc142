/* The float64 reference (src/ref/) checked two ways:
 * - backward against central finite differences of a scalar loss L = sum(y * r) with a
 *   fixed random r (the softmax head uses its own mean cross-entropy), for dx and every
 *   parameter gradient;
 * - forward against tiny hand-computed cases, so that a mistake that is wrong but
 *   self-consistent between forward and backward (a flipped kernel, a wrong layout,
 *   padding on the wrong side) is caught too.
 * Plus: parameter gradients accumulate (+=) while dx is overwritten (=).
 *
 * Finite differences: h = 1e-6, error = |numeric - analytic| / max(1, |analytic|).
 * The truncation error is about h^2 * |L'''| (~1e-12) and the rounding error about
 * 1e-16 * |L| / h (~1e-9 for |L| ~ 10), so the tolerance TOL_FD = 1e-6 has a wide margin
 * while any real mistake gives errors of order 1e-2 or more. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "runtime/rng.h"
#include "util/expect.h"
#include "util/test_util.h"

#define FD_H   1e-6
#define TOL_FD 1e-6
/* Hand-computed forward values are exact or from closed forms in double. */
#define TOL_HAND 1e-12

/* ---- helpers ---- */

/* Test-local random numbers from the project's generator (any fixed source would do). */
typedef struct rnd {
  uint32_t seed, i;
} rnd;

static double uniform(rnd *r, double lo, double hi) {
  uint32_t h = clt_hash(r->seed, 0x7E57u, r->i++);
  return lo + (hi - lo) * ((double)h / 4294967296.0);
}

static void fill(rnd *r, double *a, long n, double lo, double hi) {
  for (long i = 0; i < n; i++) a[i] = uniform(r, lo, hi);
}

static double *alloc(long n) {
  return clt_test_alloc((size_t)(n > 0 ? n : 0));
}

static double dot(const double *a, const double *b, long n) {
  double s = 0.0;
  for (long i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

typedef double (*loss_fn)(void *ctx);

/* Compares grad [n] with central differences of f over p [n] (perturbed in place). */
static void check_grad(const char *what, loss_fn f, void *ctx, double *p, long n,
                       const double *grad, double tol) {
  double worst = 0.0;
  long worst_i = -1;
  for (long i = 0; i < n; i++) {
    double old = p[i];
    p[i] = old + FD_H;
    double lp = f(ctx);
    p[i] = old - FD_H;
    double lm = f(ctx);
    p[i] = old;
    double num = (lp - lm) / (2.0 * FD_H);
    double err = fabs(num - grad[i]) / fmax(1.0, fabs(grad[i]));
    if (err > worst || worst_i < 0) {
      worst = err;
      worst_i = i;
    }
  }
  printf("  %-40s n=%-4ld max err %.2e\n", what, n, worst);
  if (!(worst <= tol)) {
    print_error("%s: element %ld differs by %.3e (tolerance %.1e)\n", what, worst_i, worst, tol);
    fail();
  }
}

/* ---- conv ---- */

typedef struct conv_case {
  const char *name;
  clt_ref_shape in;
  int filters, size, stride;
  clt_ref_padding mode;
  int number, bias;
  clt_activation act;
} conv_case;

typedef struct conv_ctx {
  clt_ref_conv p;
  clt_ref_shape in, out;
  double *x, *W, *b, *r, *y;
} conv_ctx;

static double conv_loss(void *v) {
  conv_ctx *c = v;
  clt_ref_conv_forward(&c->p, c->in, c->x, c->W, c->b, c->y);
  return dot(c->y, c->r, clt_ref_shape_count(c->out));
}

/* The smallest |pre-activation|, to keep relu / leaky_relu points away from the kink at 0
 * (there the function is not differentiable and a finite difference straddling it is
 * meaningless). A perturbation of h = 1e-6 moves z by far less than 1e-3. */
static double conv_min_abs_z(conv_ctx *c) {
  clt_ref_conv lin = c->p;
  lin.act = CLT_ACT_LINEAR;
  clt_ref_conv_forward(&lin, c->in, c->x, c->W, c->b, c->y);
  double m = INFINITY;
  for (long i = 0; i < clt_ref_shape_count(c->out); i++) m = fmin(m, fabs(c->y[i]));
  return m;
}

static void run_conv_case(const conv_case *k) {
  conv_ctx c;
  memset(&c, 0, sizeof c);
  c.p.filters = k->filters;
  c.p.size = k->size;
  c.p.stride = k->stride;
  c.p.bias = k->bias;
  c.p.act = k->act;
  c.p.alpha = 0.1;
  c.in = k->in;
  clt_ref_conv_set_padding(&c.p, k->mode, k->number, k->in);
  c.out = clt_ref_conv_out_shape(&c.p, k->in);
  assert_true(c.out.h > 0 && c.out.w > 0);
  long nx = clt_ref_shape_count(c.in), ny = clt_ref_shape_count(c.out);
  long nw = (long)k->filters * k->size * k->size * k->in.c;
  c.x = alloc(nx);
  c.W = alloc(nw);
  c.b = alloc(k->filters);
  c.r = alloc(ny);
  c.y = alloc(ny);
  rnd r = {1000, 0};
  for (int attempt = 0;; attempt++) {
    assert_true(attempt < 1000);
    fill(&r, c.x, nx, -1.0, 1.0);
    fill(&r, c.W, nw, -1.0, 1.0);
    fill(&r, c.b, k->filters, -0.5, 0.5);
    if (!(k->act == CLT_ACT_RELU || k->act == CLT_ACT_LEAKY_RELU) || conv_min_abs_z(&c) > 1e-3)
      break;
  }
  fill(&r, c.r, ny, -1.0, 1.0);

  double *dx = alloc(nx), *dW = alloc(nw), *db = alloc(k->filters);
  conv_loss(&c);
  clt_ref_conv_backward(&c.p, c.in, c.x, c.W, c.y, c.r, dx, dW, db); /* dL/dy = r */
  printf("conv %s: in [%d,%d,%d,%d] out [%d,%d,%d,%d] pads t%d b%d l%d r%d\n", k->name, c.in.n,
         c.in.h, c.in.w, c.in.c, c.out.n, c.out.h, c.out.w, c.out.c, c.p.pad_top, c.p.pad_bottom,
         c.p.pad_left, c.p.pad_right);
  check_grad("dx", conv_loss, &c, c.x, nx, dx, TOL_FD);
  check_grad("dW", conv_loss, &c, c.W, nw, dW, TOL_FD);
  if (k->bias) check_grad("db", conv_loss, &c, c.b, k->filters, db, TOL_FD);
  free(dx), free(dW), free(db);
  free(c.x), free(c.W), free(c.b), free(c.r), free(c.y);
}

static void test_conv_gradcheck(void **state) {
  (void)state;
  static const conv_case cases[] = {
      {"K3 S1 same linear", {1, 7, 5, 2}, 3, 3, 1, CLT_REF_PAD_SAME, 0, 1, CLT_ACT_LINEAR},
      {"K3 S2 same relu", {3, 7, 5, 2}, 2, 3, 2, CLT_REF_PAD_SAME, 0, 1, CLT_ACT_RELU},
      {"K3 S2 valid leaky", {3, 7, 5, 3}, 2, 3, 2, CLT_REF_PAD_VALID, 0, 1, CLT_ACT_LEAKY_RELU},
      {"K1 S1 valid sigmoid", {2, 7, 5, 2}, 3, 1, 1, CLT_REF_PAD_VALID, 0, 1, CLT_ACT_SIGMOID},
      {"K3 S2 pad1 tanh", {1, 6, 7, 2}, 2, 3, 2, CLT_REF_PAD_NUMBER, 1, 1, CLT_ACT_TANH},
      {"K1 S2 pad2 tanh nobias", {3, 5, 7, 1}, 2, 1, 2, CLT_REF_PAD_NUMBER, 2, 0, CLT_ACT_TANH},
      {"K2 S1 same sigmoid (asym pad)",
       {1, 5, 6, 2},
       2,
       2,
       1,
       CLT_REF_PAD_SAME,
       0,
       1,
       CLT_ACT_SIGMOID},
      {"K3 S3 same relu nobias", {3, 7, 5, 2}, 3, 3, 3, CLT_REF_PAD_SAME, 0, 0, CLT_ACT_RELU},
      {"K5 S3 valid leaky", {2, 7, 5, 1}, 2, 5, 3, CLT_REF_PAD_VALID, 0, 1, CLT_ACT_LEAKY_RELU},
      {"K3 S1 pad2 linear", {1, 3, 4, 3}, 2, 3, 1, CLT_REF_PAD_NUMBER, 2, 1, CLT_ACT_LINEAR},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_conv_case(&cases[i]);
}

/* 3x3 input 1..9, C = F = 1, K = 3, same padding (1 on every side). */
static void test_conv_forward_hand(void **state) {
  (void)state;
  clt_ref_shape in = {1, 3, 3, 1};
  double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  clt_ref_conv p = {.filters = 1, .size = 3, .stride = 1, .bias = 1, .act = CLT_ACT_LINEAR};
  clt_ref_conv_set_padding(&p, CLT_REF_PAD_SAME, 0, in);
  assert_int_equal(p.pad_top, 1);
  assert_int_equal(p.pad_bottom, 1);
  assert_int_equal(p.pad_left, 1);
  assert_int_equal(p.pad_right, 1);
  clt_ref_shape out = clt_ref_conv_out_shape(&p, in);
  assert_int_equal(out.h, 3);
  assert_int_equal(out.w, 3);
  assert_int_equal(out.c, 1);

  double ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, b = 0.0, y[9];
  clt_ref_conv_forward(&p, in, x, ones, &b, y);
  const double want_ones[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  clt_test_expect_near(y, want_ones, 9, TOL_HAND);

  /* Only W[kh=0, kw=0] = 1: y[oh, ow] = x[oh - 1, ow - 1] (cross-correlation, not a
   * flipped convolution), plus the bias. */
  double corner[9] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
  b = 0.5;
  clt_ref_conv_forward(&p, in, x, corner, &b, y);
  const double want_corner[9] = {0.5, 0.5, 0.5, 0.5, 1.5, 2.5, 0.5, 4.5, 5.5};
  clt_test_expect_near(y, want_corner, 9, TOL_HAND);

  /* relu fused, with a bias that makes some outputs negative. */
  p.act = CLT_ACT_RELU;
  b = -30.0;
  clt_ref_conv_forward(&p, in, x, ones, &b, y);
  const double want_relu[9] = {0, 0, 0, 0, 15, 3, 0, 9, 0};
  clt_test_expect_near(y, want_relu, 9, TOL_HAND);
}

/* 4x4 input x[h, w] = 4h + w + 1, K = 3, S = 2, same: OH = 2, pad total 1 -> top 0,
 * bottom 1 (TensorFlow puts the extra row at the bottom). */
static void test_conv_forward_hand_stride_same(void **state) {
  (void)state;
  clt_ref_shape in = {1, 4, 4, 1};
  double x[16];
  for (int i = 0; i < 16; i++) x[i] = i + 1;
  clt_ref_conv p = {.filters = 1, .size = 3, .stride = 2, .bias = 0, .act = CLT_ACT_LINEAR};
  clt_ref_conv_set_padding(&p, CLT_REF_PAD_SAME, 0, in);
  assert_int_equal(p.pad_top, 0);
  assert_int_equal(p.pad_bottom, 1);
  assert_int_equal(p.pad_left, 0);
  assert_int_equal(p.pad_right, 1);
  clt_ref_shape out = clt_ref_conv_out_shape(&p, in);
  assert_int_equal(out.h, 2);
  assert_int_equal(out.w, 2);
  double W[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, y[4];
  clt_ref_conv_forward(&p, in, x, W, NULL, y);
  /* y[0,0] = rows 0-2 x cols 0-2; y[0,1] = rows 0-2 x cols 2-3; y[1,0] = rows 2-3 x cols 0-2;
   * y[1,1] = rows 2-3 x cols 2-3. */
  const double want[4] = {1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, 3 + 4 + 7 + 8 + 11 + 12,
                          9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16};
  clt_test_expect_near(y, want, 4, TOL_HAND);

  /* Other padding rules: valid, a number, and same where K < S leaves no padding. */
  int a, b;
  clt_ref_pad_1d(CLT_REF_PAD_VALID, 0, 7, 3, 2, &a, &b);
  assert_true(a == 0 && b == 0);
  clt_ref_pad_1d(CLT_REF_PAD_NUMBER, 2, 7, 3, 2, &a, &b);
  assert_true(a == 2 && b == 2);
  clt_ref_pad_1d(CLT_REF_PAD_SAME, 0, 7, 3, 2, &a, &b); /* OH 4: total (3*2+3-7) = 2 */
  assert_true(a == 1 && b == 1);
  clt_ref_pad_1d(CLT_REF_PAD_SAME, 0, 7, 1, 3, &a, &b); /* OH 3: total max(6+1-7, 0) = 0 */
  assert_true(a == 0 && b == 0);
  clt_ref_pad_1d(CLT_REF_PAD_SAME, 0, 6, 4, 1, &a, &b); /* total 3: top 1, bottom 2 */
  assert_true(a == 1 && b == 2);
  clt_ref_conv q = {.filters = 5, .size = 3, .stride = 2};
  clt_ref_conv_set_padding(&q, CLT_REF_PAD_VALID, 0, (clt_ref_shape){2, 7, 5, 3});
  clt_ref_shape o = clt_ref_conv_out_shape(&q, (clt_ref_shape){2, 7, 5, 3});
  assert_true(o.n == 2 && o.h == 3 && o.w == 2 && o.c == 5);
  clt_ref_conv_set_padding(&q, CLT_REF_PAD_SAME, 0, (clt_ref_shape){2, 7, 5, 3});
  o = clt_ref_conv_out_shape(&q, (clt_ref_shape){2, 7, 5, 3});
  assert_true(o.h == 4 && o.w == 3); /* ceil(7/2), ceil(5/2) */
}

/* Layouts: W [F, K, K, C] in (kh, kw, c) order; x and y NHWC. */
static void test_conv_forward_hand_layout(void **state) {
  (void)state;
  /* C = 1, K = 2, valid on a 2x2 input: y = sum x[kh, kw] * W[kh, kw]. */
  clt_ref_conv p = {.filters = 1, .size = 2, .stride = 1, .bias = 0, .act = CLT_ACT_LINEAR};
  double x[4] = {1, 2, 3, 4}; /* x[0,0]=1, x[0,1]=2, x[1,0]=3, x[1,1]=4 */
  double W[4] = {1, 10, 100, 1000}, y[4];
  clt_ref_conv_forward(&p, (clt_ref_shape){1, 2, 2, 1}, x, W, NULL, y);
  assert_true(y[0] == 4321.0);

  /* 1x1 kernel, C = 2, F = 2 on a 1x2 image: y[0, w, f] = sum_c x[0, w, c] * W[f, c]. */
  clt_ref_conv q = {.filters = 2, .size = 1, .stride = 1, .bias = 1, .act = CLT_ACT_LINEAR};
  double x2[4] = {1, 2, 3, 4}; /* (w=0: c0=1, c1=2), (w=1: c0=3, c1=4) */
  double W2[4] = {1, 10, 100, 1000}, b2[2] = {0.25, 0.5}, y2[4];
  clt_ref_conv_forward(&q, (clt_ref_shape){1, 1, 2, 2}, x2, W2, b2, y2);
  const double want2[4] = {21.25, 2100.5, 43.25, 4300.5};
  clt_test_expect_near(y2, want2, 4, TOL_HAND);

  /* K = 2, C = 2: W[f=0, kh, kw, c] = 10^(2*(2*kh+kw)+c) picks x at (kh, kw, c). */
  double x3[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* x[h, w, c] = 1 + 4h + 2w + c */
  double W3[8] = {1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7}, y3;
  clt_ref_conv_forward(&p /* F=1, K=2 */, (clt_ref_shape){1, 2, 2, 1}, x3, W3, NULL, &y3);
  assert_true(y3 == 4321.0); /* C = 1 view: the first four values only */
  clt_ref_conv r = {.filters = 1, .size = 2, .stride = 1, .bias = 0, .act = CLT_ACT_LINEAR};
  clt_ref_conv_forward(&r, (clt_ref_shape){1, 2, 2, 2}, x3, W3, NULL, &y3);
  assert_true(y3 == 87654321.0);
}

/* Backward by hand on a 1-channel 2x2 input, K = 2 valid, one output. */
static void test_conv_backward_hand(void **state) {
  (void)state;
  clt_ref_conv p = {.filters = 1, .size = 2, .stride = 1, .bias = 1, .act = CLT_ACT_LINEAR};
  double x[4] = {1, 2, 3, 4}, W[4] = {1, 10, 100, 1000}, b = 0, y, dy = 2.0;
  double dx[4], dW[4] = {0}, db = 0;
  clt_ref_conv_forward(&p, (clt_ref_shape){1, 2, 2, 1}, x, W, &b, &y);
  clt_ref_conv_backward(&p, (clt_ref_shape){1, 2, 2, 1}, x, W, &y, &dy, dx, dW, &db);
  const double want_dx[4] = {2, 20, 200, 2000}, want_dW[4] = {2, 4, 6, 8};
  clt_test_expect_near(dx, want_dx, 4, TOL_HAND);
  clt_test_expect_near(dW, want_dW, 4, TOL_HAND);
  assert_true(db == 2.0);
}

static void test_conv_accumulates(void **state) {
  (void)state;
  clt_ref_conv p = {.filters = 2, .size = 3, .stride = 2, .bias = 1, .act = CLT_ACT_TANH};
  clt_ref_shape in = {2, 5, 4, 2};
  clt_ref_conv_set_padding(&p, CLT_REF_PAD_SAME, 0, in);
  clt_ref_shape out = clt_ref_conv_out_shape(&p, in);
  long nx = clt_ref_shape_count(in), ny = clt_ref_shape_count(out), nw = 2 * 3 * 3 * 2;
  double *x = alloc(nx), *W = alloc(nw), *b = alloc(2), *y = alloc(ny), *dy = alloc(ny);
  double *dx1 = alloc(nx), *dx2 = alloc(nx), *dW = alloc(nw), *db = alloc(2);
  rnd r = {7, 0};
  fill(&r, x, nx, -1, 1), fill(&r, W, nw, -1, 1), fill(&r, b, 2, -1, 1), fill(&r, dy, ny, -1, 1);
  clt_ref_conv_forward(&p, in, x, W, b, y);
  clt_ref_conv_backward(&p, in, x, W, y, dy, dx1, dW, db);
  double *dW1 = alloc(nw), db1[2] = {db[0], db[1]};
  memcpy(dW1, dW, (size_t)nw * sizeof *dW);
  for (long i = 0; i < nx; i++) dx2[i] = 123.0; /* must be overwritten */
  clt_ref_conv_backward(&p, in, x, W, y, dy, dx2, dW, db);
  for (long i = 0; i < nx; i++) assert_true(dx2[i] == dx1[i]);
  for (long i = 0; i < nw; i++) dW1[i] *= 2.0;
  clt_test_expect_near(dW, dW1, nw, 1e-14);
  db1[0] *= 2.0, db1[1] *= 2.0;
  clt_test_expect_near(db, db1, 2, 1e-14);
  free(x), free(W), free(b), free(y), free(dy), free(dx1), free(dx2), free(dW), free(db);
  free(dW1);
}

/* ---- dense ---- */

typedef struct dense_ctx {
  clt_ref_dense p;
  int n, inputs;
  double *x, *W, *b, *r, *y;
} dense_ctx;

static double dense_loss(void *v) {
  dense_ctx *c = v;
  clt_ref_dense_forward(&c->p, c->n, c->inputs, c->x, c->W, c->b, c->y);
  return dot(c->y, c->r, (long)c->n * c->p.units);
}

static void test_dense_gradcheck(void **state) {
  (void)state;
  for (int act = 0; act < CLT_ACT_COUNT; act++)
    for (int bias = 0; bias <= 1; bias++) {
      dense_ctx c = {.p = {.units = 4, .bias = bias, .act = (clt_activation)act, .alpha = 0.1},
                     .n = 3,
                     .inputs = 7};
      long nx = 3 * 7, nw = 4 * 7, ny = 3 * 4;
      c.x = alloc(nx), c.W = alloc(nw), c.b = alloc(4), c.r = alloc(ny), c.y = alloc(ny);
      rnd r = {2000u + (uint32_t)act, 0};
      for (int attempt = 0;; attempt++) {
        assert_true(attempt < 1000);
        fill(&r, c.x, nx, -1, 1), fill(&r, c.W, nw, -1, 1), fill(&r, c.b, 4, -0.5, 0.5);
        /* Keep relu / leaky_relu away from the kink (see conv_min_abs_z). */
        dense_ctx lin = c;
        lin.p.act = CLT_ACT_LINEAR;
        dense_loss(&lin);
        double m = INFINITY;
        for (long i = 0; i < ny; i++) m = fmin(m, fabs(c.y[i]));
        if (m > 1e-3) break;
      }
      fill(&r, c.r, ny, -1, 1);
      double *dx = alloc(nx), *dW = alloc(nw), *db = alloc(4);
      dense_loss(&c);
      clt_ref_dense_backward(&c.p, c.n, c.inputs, c.x, c.W, c.y, c.r, dx, dW, db);
      printf("dense %s bias %d\n", clt_activation_name((clt_activation)act), bias);
      check_grad("dx", dense_loss, &c, c.x, nx, dx, TOL_FD);
      check_grad("dW", dense_loss, &c, c.W, nw, dW, TOL_FD);
      if (bias) check_grad("db", dense_loss, &c, c.b, 4, db, TOL_FD);
      free(dx), free(dW), free(db), free(c.x), free(c.W), free(c.b), free(c.r), free(c.y);
    }
}

static void test_dense_hand(void **state) {
  (void)state;
  /* x [1,2], W [3,2] row u = weights of unit u, relu. */
  clt_ref_dense p = {.units = 3, .bias = 1, .act = CLT_ACT_RELU};
  double x[2] = {1, 2}, W[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0.5, -20, 0}, y[3];
  clt_ref_dense_forward(&p, 1, 2, x, W, b, y);
  const double want_y[3] = {5.5, 0, 17}; /* z = 5.5, -9, 17 */
  clt_test_expect_near(y, want_y, 3, TOL_HAND);
  double dy[3] = {1, 1, 1}, dx[2] = {99, 99}, dW[6] = {0}, db[3] = {0};
  clt_ref_dense_backward(&p, 1, 2, x, W, y, dy, dx, dW, db);
  const double want_dx[2] = {6, 8}, want_dW[6] = {1, 2, 0, 0, 1, 2}, want_db[3] = {1, 0, 1};
  clt_test_expect_near(dx, want_dx, 2, TOL_HAND);
  clt_test_expect_near(dW, want_dW, 6, TOL_HAND);
  clt_test_expect_near(db, want_db, 3, TOL_HAND);
  /* Twice: dW and db double, dx stays. */
  clt_ref_dense_backward(&p, 1, 2, x, W, y, dy, dx, dW, db);
  const double want_dW2[6] = {2, 4, 0, 0, 2, 4}, want_db2[3] = {2, 0, 2};
  clt_test_expect_near(dx, want_dx, 2, TOL_HAND);
  clt_test_expect_near(dW, want_dW2, 6, TOL_HAND);
  clt_test_expect_near(db, want_db2, 3, TOL_HAND);

  /* Two samples, sigmoid, no bias: y[n,u] = sigmoid(x[n,:] . W[u,:]). */
  clt_ref_dense q = {.units = 2, .bias = 0, .act = CLT_ACT_SIGMOID};
  double x2[4] = {1, 0, 0, -1}, W2[4] = {2, 3, -1, 0.5}, y2[4];
  clt_ref_dense_forward(&q, 2, 2, x2, W2, NULL, y2);
  const double want2[4] = {1 / (1 + exp(-2.0)), 1 / (1 + exp(1.0)), 1 / (1 + exp(3.0)),
                           1 / (1 + exp(0.5))};
  clt_test_expect_near(y2, want2, 4, TOL_HAND);
}

/* ---- pooling ---- */

typedef struct pool_ctx {
  clt_ref_pool p;
  int max;
  clt_ref_shape in, out;
  double *x, *r, *y;
} pool_ctx;

static double pool_loss(void *v) {
  pool_ctx *c = v;
  if (c->max)
    clt_ref_maxpool_forward(&c->p, c->in, c->x, c->y);
  else
    clt_ref_avgpool_forward(&c->p, c->in, c->x, c->y);
  return dot(c->y, c->r, clt_ref_shape_count(c->out));
}

static void test_pool_gradcheck(void **state) {
  (void)state;
  static const struct {
    clt_ref_shape in;
    int size, stride;
  } cases[] = {
      {{2, 5, 5, 2}, 3, 2}, /* overlapping */
      {{1, 4, 6, 3}, 2, 2},
      {{3, 7, 5, 1}, 3, 1}, /* heavily overlapping */
      {{1, 7, 5, 2}, 2, 3}, /* gaps: some inputs in no window */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (int max = 0; max <= 1; max++) {
      pool_ctx c = {.p = {cases[k].size, cases[k].stride}, .max = max, .in = cases[k].in};
      c.out = clt_ref_pool_out_shape(&c.p, c.in);
      long nx = clt_ref_shape_count(c.in), ny = clt_ref_shape_count(c.out);
      c.x = alloc(nx), c.r = alloc(ny), c.y = alloc(ny);
      /* Distinct values 0.01 apart in a random order: no two inputs of a window are within
       * 2h of each other, so no finite difference changes which element is the maximum. */
      rnd r = {3000u + (uint32_t)k, 0};
      for (long i = 0; i < nx; i++) c.x[i] = (double)i * 0.01 - 0.3;
      for (long i = nx - 1; i > 0; i--) {
        long j = (long)uniform(&r, 0, (double)(i + 1));
        double t = c.x[i];
        c.x[i] = c.x[j], c.x[j] = t;
      }
      fill(&r, c.r, ny, -1, 1);
      double *dx = alloc(nx);
      pool_loss(&c);
      for (long i = 0; i < nx; i++) dx[i] = 55.0; /* must be overwritten */
      if (max)
        clt_ref_maxpool_backward(&c.p, c.in, c.x, c.r, dx);
      else
        clt_ref_avgpool_backward(&c.p, c.in, c.r, dx);
      printf("%s K%d S%d in [%d,%d,%d,%d]\n", max ? "maxpool" : "avgpool", c.p.size, c.p.stride,
             c.in.n, c.in.h, c.in.w, c.in.c);
      check_grad("dx", pool_loss, &c, c.x, nx, dx, TOL_FD);
      free(dx), free(c.x), free(c.r), free(c.y);
    }
}

static void test_pool_hand(void **state) {
  (void)state;
  clt_ref_shape in = {1, 5, 5, 1};
  clt_ref_pool p = {3, 2};
  clt_ref_shape out = clt_ref_pool_out_shape(&p, in);
  assert_true(out.n == 1 && out.h == 2 && out.w == 2 && out.c == 1);
  double x[25], y[4], dx[25];
  for (int i = 0; i < 25; i++) x[i] = i;
  clt_ref_maxpool_forward(&p, in, x, y);
  const double want_max[4] = {12, 14, 22, 24}; /* bottom-right of each window */
  clt_test_expect_near(y, want_max, 4, TOL_HAND);
  clt_ref_avgpool_forward(&p, in, x, y);
  /* Window mean = the centre value for a linear ramp: centres (1,1),(1,3),(3,1),(3,3). */
  const double want_avg[4] = {6, 8, 16, 18};
  clt_test_expect_near(y, want_avg, 4, TOL_HAND);

  /* Overlapping maxpool: the centre (2,2) is in all four windows and the largest. */
  x[12] = 100;
  double dy[4] = {1, 2, 4, 8};
  clt_ref_maxpool_backward(&p, in, x, dy, dx);
  for (int i = 0; i < 25; i++) assert_true(dx[i] == (i == 12 ? 15.0 : 0.0));

  /* Overlapping avgpool: each input gets dy / 9 from every window that covers it. */
  clt_ref_avgpool_backward(&p, in, dy, dx);
  assert_true(fabs(dx[0] - 1.0 / 9) < TOL_HAND);          /* (0,0): window 0 only */
  assert_true(fabs(dx[2] - 3.0 / 9) < TOL_HAND);          /* (0,2): windows 0, 1 */
  assert_true(fabs(dx[12] - 15.0 / 9) < TOL_HAND);        /* (2,2): all four */
  assert_true(fabs(dx[24] - 8.0 / 9) < TOL_HAND);         /* (4,4): window 3 */
  assert_true(fabs(dx[14] - (2.0 + 8.0) / 9) < TOL_HAND); /* (2,4): windows 1, 3 */

  /* Ties (all zero, as after relu): the first maximum in (kh, kw) order takes dy. */
  clt_ref_shape in2 = {1, 4, 4, 2};
  clt_ref_pool q = {2, 2};
  double z[32] = {0}, dz[32], dy2[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y2[8];
  z[(1 * 4 + 1) * 2 + 1] = 0.5; /* channel 1 of window (0,0) has a unique max at (1,1) */
  clt_ref_maxpool_forward(&q, in2, z, y2);
  assert_true(y2[1] == 0.5 && y2[0] == 0.0);
  clt_ref_maxpool_backward(&q, in2, z, dy2, dz);
  double want_dz[32] = {0};
  for (int oh = 0; oh < 2; oh++)
    for (int ow = 0; ow < 2; ow++)
      for (int c = 0; c < 2; c++)
        want_dz[((2 * oh) * 4 + 2 * ow) * 2 + c] = dy2[(oh * 2 + ow) * 2 + c];
  want_dz[0 * 2 + 1] = 0.0;              /* channel 1 of window (0,0): not the first... */
  want_dz[(1 * 4 + 1) * 2 + 1] = dy2[1]; /* ...but the unique maximum */
  clt_test_expect_near(dz, want_dz, 32, TOL_HAND);
}

/* ---- standalone activations ---- */

typedef struct act_ctx {
  clt_activation act;
  long n;
  double *x, *r, *y;
} act_ctx;

static double act_loss(void *v) {
  act_ctx *c = v;
  clt_ref_act_forward(c->act, 0.1, c->n, c->x, c->y);
  return dot(c->y, c->r, c->n);
}

static void test_act_gradcheck(void **state) {
  (void)state;
  for (int a = 0; a < CLT_ACT_COUNT; a++) {
    act_ctx c = {.act = (clt_activation)a, .n = 40};
    c.x = alloc(c.n), c.r = alloc(c.n), c.y = alloc(c.n);
    rnd r = {4000u + (uint32_t)a, 0};
    /* Values in [-3, 3] but never within 1e-3 of relu's kink at 0. */
    for (long i = 0; i < c.n; i++) {
      double v;
      do v = uniform(&r, -3, 3);
      while (fabs(v) < 1e-3);
      c.x[i] = v;
    }
    fill(&r, c.r, c.n, -1, 1);
    double *dx = alloc(c.n);
    act_loss(&c);
    clt_ref_act_backward(c.act, 0.1, c.n, c.y, c.r, dx);
    printf("activation %s\n", clt_activation_name(c.act));
    check_grad("dx", act_loss, &c, c.x, c.n, dx, TOL_FD);
    free(dx), free(c.x), free(c.r), free(c.y);
  }
}

static void test_act_hand(void **state) {
  (void)state;
  assert_true(clt_ref_act(CLT_ACT_LINEAR, 0.1, -2.5) == -2.5);
  assert_true(clt_ref_act(CLT_ACT_RELU, 0.1, -1.0) == 0.0);
  assert_true(clt_ref_act(CLT_ACT_RELU, 0.1, 1.5) == 1.5);
  assert_true(fabs(clt_ref_act(CLT_ACT_LEAKY_RELU, 0.1, -2.0) - -0.2) < TOL_HAND);
  assert_true(clt_ref_act(CLT_ACT_LEAKY_RELU, 0.1, 2.0) == 2.0);
  assert_true(clt_ref_act(CLT_ACT_SIGMOID, 0.1, 0.0) == 0.5);
  assert_true(fabs(clt_ref_act(CLT_ACT_SIGMOID, 0.1, 2.0) - 0.8807970779778823) < TOL_HAND);
  assert_true(fabs(clt_ref_act(CLT_ACT_TANH, 0.1, 1.0) - 0.7615941559557649) < TOL_HAND);
  /* Derivatives from the output y. */
  assert_true(clt_ref_act_grad(CLT_ACT_LINEAR, 0.1, -3.0) == 1.0);
  assert_true(clt_ref_act_grad(CLT_ACT_RELU, 0.1, 0.0) == 0.0);
  assert_true(clt_ref_act_grad(CLT_ACT_RELU, 0.1, 0.3) == 1.0);
  assert_true(clt_ref_act_grad(CLT_ACT_LEAKY_RELU, 0.1, -0.2) == 0.1);
  assert_true(clt_ref_act_grad(CLT_ACT_LEAKY_RELU, 0.1, 0.2) == 1.0);
  assert_true(clt_ref_act_grad(CLT_ACT_SIGMOID, 0.1, 0.5) == 0.25);
  assert_true(fabs(clt_ref_act_grad(CLT_ACT_TANH, 0.1, 0.5) - 0.75) < TOL_HAND);
  double x[3] = {-1, 0, 2}, y[3], dy[3] = {1, 2, 3}, dx[3];
  clt_ref_act_forward(CLT_ACT_LEAKY_RELU, 0.25, 3, x, y);
  const double want_y[3] = {-0.25, 0, 2};
  clt_test_expect_near(y, want_y, 3, TOL_HAND);
  clt_ref_act_backward(CLT_ACT_LEAKY_RELU, 0.25, 3, y, dy, dx);
  const double want_dx[3] = {0.25, 0.5, 3}; /* y = 0 counts as "not > 0": slope alpha */
  clt_test_expect_near(dx, want_dx, 3, TOL_HAND);
}

/* ---- dropout ---- */

typedef struct drop_ctx {
  double rate;
  uint32_t seed, stream;
  long n;
  double *x, *r, *y;
} drop_ctx;

static double drop_loss(void *v) {
  drop_ctx *c = v;
  clt_ref_dropout_forward(c->rate, 1, c->seed, c->stream, c->n, c->x, c->y);
  return dot(c->y, c->r, c->n);
}

static void test_dropout(void **state) {
  (void)state;
  drop_ctx c = {.rate = 0.3, .seed = 42, .stream = clt_stream(5, 2), .n = 2000};
  c.x = alloc(c.n), c.r = alloc(c.n), c.y = alloc(c.n);
  rnd r = {5000, 0};
  fill(&r, c.x, c.n, -1, 1), fill(&r, c.r, c.n, -1, 1);
  drop_loss(&c);
  long kept = 0;
  for (long i = 0; i < c.n; i++) {
    /* The mask, recomputed here straight from the generator, compared in float. */
    int keep = clt_uniform(c.seed, c.stream, (uint32_t)i) >= 0.3f;
    assert_int_equal(keep, clt_ref_dropout_keep(c.seed, c.stream, (uint32_t)i, 0.3));
    kept += keep;
    assert_true(c.y[i] == (keep ? c.x[i] / 0.7 : 0.0));
  }
  /* Binomial(2000, 0.7): mean 1400, sd 20.5. */
  assert_true(kept > 1300 && kept < 1500);
  double *dx = alloc(c.n);
  clt_ref_dropout_backward(c.rate, 1, c.seed, c.stream, c.n, c.r, dx);
  printf("dropout rate 0.3 (fixed mask, %ld of %ld kept)\n", kept, c.n);
  check_grad("dx", drop_loss, &c, c.x, 200, dx, TOL_FD); /* the first 200 elements */

  /* The boundary: keep when u == rate exactly (>=, not >), and the comparison is in float:
   * a rate a hair above u (2^-40, below half a float ulp of u) rounds to u and keeps. */
  for (uint32_t i = 0; i < 64; i++) {
    float u = clt_uniform(c.seed, c.stream, i);
    if (u < 0x1p-10f) continue;
    assert_true(clt_ref_dropout_keep(c.seed, c.stream, i, (double)u));
    assert_true(clt_ref_dropout_keep(c.seed, c.stream, i, (double)u + 0x1p-40));
    assert_false(clt_ref_dropout_keep(c.seed, c.stream, i, (double)nextafterf(u, 1.0f)));
  }

  /* A different stream (another step or layer) gives a different mask. */
  long same = 0;
  uint32_t other = clt_stream(6, 2);
  for (long i = 0; i < c.n; i++)
    same += clt_ref_dropout_keep(c.seed, c.stream, (uint32_t)i, 0.3) ==
            clt_ref_dropout_keep(c.seed, other, (uint32_t)i, 0.3);
  assert_true(same < c.n - 100);

  /* Inference and rate 0 are the identity. */
  clt_ref_dropout_forward(0.3, 0, c.seed, c.stream, c.n, c.x, c.y);
  for (long i = 0; i < c.n; i++) assert_true(c.y[i] == c.x[i]);
  clt_ref_dropout_backward(0.3, 0, c.seed, c.stream, c.n, c.r, dx);
  for (long i = 0; i < c.n; i++) assert_true(dx[i] == c.r[i]);
  clt_ref_dropout_forward(0.0, 1, c.seed, c.stream, c.n, c.x, c.y);
  for (long i = 0; i < c.n; i++) assert_true(c.y[i] == c.x[i]);
  free(dx), free(c.x), free(c.r), free(c.y);
}

/* ---- batchnorm ---- */

typedef struct bn_ctx {
  clt_ref_batchnorm p;
  clt_ref_shape in;
  double *x, *gamma, *beta, *r, *y;
} bn_ctx;

static double bn_loss(void *v) {
  bn_ctx *c = v;
  double rm[8] = {0}, rv[8] = {1, 1, 1, 1, 1, 1, 1, 1}; /* scratch running stats */
  assert_true(c->in.c <= 8);
  clt_ref_batchnorm_forward(&c->p, c->in, 1, c->x, c->gamma, c->beta, rm, rv, c->y, NULL, NULL);
  return dot(c->y, c->r, clt_ref_shape_count(c->in));
}

static void test_batchnorm_gradcheck(void **state) {
  (void)state;
  static const clt_ref_shape shapes[] = {{3, 2, 3, 2}, {4, 1, 1, 5}, {1, 5, 3, 3}};
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    bn_ctx c = {.p = {0.99, 0.001}, .in = shapes[k]};
    long nx = clt_ref_shape_count(c.in);
    int C = c.in.c;
    c.x = alloc(nx), c.gamma = alloc(C), c.beta = alloc(C), c.r = alloc(nx), c.y = alloc(nx);
    rnd r = {6000u + (uint32_t)k, 0};
    fill(&r, c.x, nx, -2, 3), fill(&r, c.gamma, C, 0.5, 1.5), fill(&r, c.beta, C, -1, 1);
    fill(&r, c.r, nx, -1, 1);
    double *dx = alloc(nx), *dgamma = alloc(C), *dbeta = alloc(C);
    bn_loss(&c);
    clt_ref_batchnorm_backward(&c.p, c.in, c.x, c.gamma, c.r, dx, dgamma, dbeta);
    printf("batchnorm [%d,%d,%d,%d] training\n", c.in.n, c.in.h, c.in.w, c.in.c);
    check_grad("dx", bn_loss, &c, c.x, nx, dx, TOL_FD);
    check_grad("dgamma", bn_loss, &c, c.gamma, C, dgamma, TOL_FD);
    check_grad("dbeta", bn_loss, &c, c.beta, C, dbeta, TOL_FD);

    /* Accumulation: dgamma / dbeta double, dx overwritten with the same values. */
    double *dx2 = alloc(nx), *g1 = alloc(C), *b1 = alloc(C);
    for (int i = 0; i < C; i++) g1[i] = 2 * dgamma[i], b1[i] = 2 * dbeta[i];
    for (long i = 0; i < nx; i++) dx2[i] = -7.0;
    clt_ref_batchnorm_backward(&c.p, c.in, c.x, c.gamma, c.r, dx2, dgamma, dbeta);
    for (long i = 0; i < nx; i++) assert_true(dx2[i] == dx[i]);
    clt_test_expect_near(dgamma, g1, C, 1e-14);
    clt_test_expect_near(dbeta, b1, C, 1e-14);
    free(dx2), free(g1), free(b1);
    free(dx), free(dgamma), free(dbeta), free(c.x), free(c.gamma), free(c.beta), free(c.r);
    free(c.y);
  }
}

static void test_batchnorm_hand(void **state) {
  (void)state;
  /* Two channels interleaved (NHWC, C innermost): channel 0 = 1,2,3,4; channel 1 =
   * 10,20,30,40. mean 2.5 / 25, biased var 1.25 / 125. */
  clt_ref_batchnorm p = {0.99, 0.001};
  clt_ref_shape in = {2, 2, 1, 2};
  double x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
  double gamma[2] = {2, 0.5}, beta[2] = {0.5, -1}, rm[2] = {0, 0}, rv[2] = {1, 1};
  double y[8], bm[2], bv[2];
  clt_ref_batchnorm_forward(&p, in, 1, x, gamma, beta, rm, rv, y, bm, bv);
  assert_true(fabs(bm[0] - 2.5) < TOL_HAND && fabs(bm[1] - 25) < TOL_HAND);
  assert_true(fabs(bv[0] - 1.25) < TOL_HAND && fabs(bv[1] - 125) < TOL_HAND);
  double s0 = sqrt(1.25 + 0.001), s1 = sqrt(125 + 0.001);
  const double want_y[8] = {2 * (1 - 2.5) / s0 + 0.5, 0.5 * (10 - 25) / s1 - 1,
                            2 * (2 - 2.5) / s0 + 0.5, 0.5 * (20 - 25) / s1 - 1,
                            2 * (3 - 2.5) / s0 + 0.5, 0.5 * (30 - 25) / s1 - 1,
                            2 * (4 - 2.5) / s0 + 0.5, 0.5 * (40 - 25) / s1 - 1};
  clt_test_expect_near(y, want_y, 8, TOL_HAND);
  /* running = 0.99 * running + 0.01 * batch. */
  assert_true(fabs(rm[0] - 0.025) < TOL_HAND && fabs(rm[1] - 0.25) < TOL_HAND);
  assert_true(fabs(rv[0] - (0.99 + 0.0125)) < TOL_HAND);
  assert_true(fabs(rv[1] - (0.99 + 1.25)) < TOL_HAND);

  /* Inference: uses (and keeps) the running statistics. */
  double rm0 = rm[0], rv1 = rv[1];
  clt_ref_batchnorm_forward(&p, in, 0, x, gamma, beta, rm, rv, y, NULL, NULL);
  assert_true(rm[0] == rm0 && rv[1] == rv1);
  assert_true(fabs(y[0] - (2 * (1 - 0.025) / sqrt(1.0025 + 0.001) + 0.5)) < TOL_HAND);
  assert_true(fabs(y[7] - (0.5 * (40 - 0.25) / sqrt(2.24 + 0.001) - 1)) < TOL_HAND);

  /* Backward with dy = 1 everywhere: sum dy = M, sum dy * xhat = 0, so dx = 0,
   * dbeta = M = 4 and dgamma = 0. */
  double dy[8] = {1, 1, 1, 1, 1, 1, 1, 1}, dx[8], dg[2] = {0}, dbt[2] = {0};
  clt_ref_batchnorm_backward(&p, in, x, gamma, dy, dx, dg, dbt);
  for (int i = 0; i < 8; i++) assert_true(fabs(dx[i]) < 1e-12);
  assert_true(fabs(dbt[0] - 4) < TOL_HAND && fabs(dbt[1] - 4) < TOL_HAND);
  assert_true(fabs(dg[0]) < 1e-12 && fabs(dg[1]) < 1e-12);
}

/* ---- softmax cross-entropy ---- */

typedef struct sm_ctx {
  int n, k;
  double *z;
  const int32_t *t;
} sm_ctx;

static double sm_loss(void *v) {
  sm_ctx *c = v;
  return clt_ref_softmax_xent(c->n, c->k, c->z, c->t, NULL, NULL);
}

static void test_softmax_gradcheck(void **state) {
  (void)state;
  int32_t t[4] = {0, 4, 2, 2};
  sm_ctx c = {.n = 4, .k = 5, .t = t};
  c.z = alloc(20);
  rnd r = {7000, 0};
  fill(&r, c.z, 20, -3, 3);
  c.z[5] = 40; /* large logits stay finite (the max is subtracted) */
  double dz[20];
  sm_loss(&c);
  clt_ref_softmax_xent(c.n, c.k, c.z, c.t, dz, NULL);
  printf("softmax cross-entropy [4,5]\n");
  check_grad("dz", sm_loss, &c, c.z, 20, dz, TOL_FD);
  /* Each row of dz sums to 0. */
  for (int s = 0; s < 4; s++) {
    double sum = 0;
    for (int j = 0; j < 5; j++) sum += dz[s * 5 + j];
    assert_true(fabs(sum) < 1e-15);
  }
  free(c.z);
}

static void test_softmax_hand(void **state) {
  (void)state;
  /* The first maximum decides "correct": a last-maximum rule would give 1, not 3. */
  double z[12] = {1, 2, 3, /* t 2: correct */
                  0, 0, 0, /* t 0: three-way tie, first max 0: correct */
                  5, 1, 5, /* t 0: tie, first max 0: correct */
                  0, 1, 0 /* t 0: wrong */};
  int32_t t[4] = {2, 0, 0, 0};
  double dz[12];
  int correct = -1;
  double loss = clt_ref_softmax_xent(4, 3, z, t, dz, &correct);
  double e = exp(1.0), e5 = exp(5.0);
  double s0 = e + e * e + e * e * e, s2 = 2 * e5 + e, s3 = 2 + e;
  double l0 = log(s0) - 3, l1 = log(3.0), l2 = log(s2) - 5, l3 = log(s3);
  assert_true(fabs(loss - (l0 + l1 + l2 + l3) / 4) < TOL_HAND);
  assert_int_equal(correct, 3);
  const double want[12] = {e / s0 / 4,        e * e / s0 / 4, (e * e * e / s0 - 1) / 4,
                           (1.0 / 3 - 1) / 4, 1.0 / 12,       1.0 / 12,
                           (e5 / s2 - 1) / 4, e / s2 / 4,     e5 / s2 / 4,
                           (1 / s3 - 1) / 4,  e / s3 / 4,     1 / s3 / 4};
  clt_test_expect_near(dz, want, 12, TOL_HAND);
  /* Huge logits: no overflow. */
  double big[2] = {1000, 0};
  int32_t t0 = 1;
  loss = clt_ref_softmax_xent(1, 2, big, &t0, NULL, &correct);
  assert_true(fabs(loss - 1000) < TOL_HAND);
  assert_int_equal(correct, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_gradcheck),
      cmocka_unit_test(test_conv_forward_hand),
      cmocka_unit_test(test_conv_forward_hand_stride_same),
      cmocka_unit_test(test_conv_forward_hand_layout),
      cmocka_unit_test(test_conv_backward_hand),
      cmocka_unit_test(test_conv_accumulates),
      cmocka_unit_test(test_dense_gradcheck),
      cmocka_unit_test(test_dense_hand),
      cmocka_unit_test(test_pool_gradcheck),
      cmocka_unit_test(test_pool_hand),
      cmocka_unit_test(test_act_gradcheck),
      cmocka_unit_test(test_act_hand),
      cmocka_unit_test(test_dropout),
      cmocka_unit_test(test_batchnorm_gradcheck),
      cmocka_unit_test(test_batchnorm_hand),
      cmocka_unit_test(test_softmax_gradcheck),
      cmocka_unit_test(test_softmax_hand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
