/* [add] and [global_avgpool]: the float64 reference (src/ref/ref_residual.c) against
 * central finite differences, and the device layers against the reference.
 *
 * Tolerances:
 * - Reference vs finite differences (float64, L = sum(y * r), step 1e-6): truncation
 *   h^2 |L'''| / 6 ~ 1e-12 and rounding ~ 1e-16 / 1e-6 = 1e-10 per O(1) term; accepted
 *   1e-6 of the largest gradient (a wrong index or a missing term is O(1) off).
 * - Device vs reference (inputs rounded to float): each output is a float sum of at most
 *   C + 1 terms of O(1) (C <= 5 here), one GEMM, a tanh to a few ulp: about 1e-6
 *   relative; accepted 1e-5 of the largest magnitude (floor 1e-3). */
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
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define FD_H       1e-6
#define FD_TOL     1e-6
#define DEVICE_TOL 1e-5

typedef struct add_case {
  const char *keys; /* the [add] section's keys after from */
  clt_ref_shape in, skip;
  clt_ref_add ref;
} add_case;

static const add_case add_cases[] = {
    {"activation = relu\n", {2, 3, 4, 5}, {2, 3, 4, 5}, {0, 1, CLT_ACT_RELU, 0.01}},
    {"", {3, 3, 3, 4}, {3, 5, 6, 3}, {1, 2, CLT_ACT_LINEAR, 0.01}},
    {"activation = tanh\n", {2, 4, 4, 4}, {2, 4, 4, 2}, {1, 1, CLT_ACT_TANH, 0.01}},
    {"projection = always\nactivation = leaky_relu\nalpha = 0.2\n",
     {2, 2, 2, 3},
     {2, 3, 3, 3},
     {1, 2, CLT_ACT_LEAKY_RELU, 0.2}},
};

/* ---- reference against finite differences ---- */

typedef struct fd_add {
  const add_case *k;
  double *x, *s, *W, *r, *y;
} fd_add;

static double add_loss(fd_add *c) {
  clt_ref_add_forward(&c->k->ref, c->k->in, c->k->skip, c->x, c->s, c->W, c->y);
  double L = 0.0;
  for (long i = 0; i < clt_ref_shape_count(c->k->in); i++) L += c->y[i] * c->r[i];
  return L;
}

static void fd_check(const char *what, fd_add *c, double *p, long n, const double *g) {
  double largest = 1e-3, worst = 0.0;
  for (long i = 0; i < n; i++)
    if (fabs(g[i]) > largest) largest = fabs(g[i]);
  for (long i = 0; i < n; i++) {
    double v = p[i];
    p[i] = v + FD_H;
    double lp = add_loss(c);
    p[i] = v - FD_H;
    double lm = add_loss(c);
    p[i] = v;
    double err = fabs((lp - lm) / (2 * FD_H) - g[i]);
    if (err > worst) worst = err;
  }
  if (worst > FD_TOL * largest) fail_msg("%s: finite differences off by %g", what, worst);
}

static void test_ref_add_gradcheck(void **state) {
  (void)state;
  for (size_t k = 0; k < sizeof add_cases / sizeof *add_cases; k++) {
    const add_case *a = &add_cases[k];
    if (a->ref.act == CLT_ACT_RELU || a->ref.act == CLT_ACT_LEAKY_RELU) continue; /* kinks */
    long nx = clt_ref_shape_count(a->in), ns = clt_ref_shape_count(a->skip);
    long nw = (long)a->in.c * a->skip.c;
    fd_add c = {a,
                clt_test_random(nx, -1, 1, 1),
                clt_test_random(ns, -1, 1, 2),
                clt_test_random(nw, -1, 1, 3),
                clt_test_random(nx, -1, 1, 4),
                clt_test_alloc(nx)};
    double *dx = clt_test_alloc(nx), *ds = clt_test_alloc(ns), *dW = clt_test_alloc(nw);
    add_loss(&c);
    clt_ref_add_backward(&a->ref, a->in, a->skip, c.s, c.W, c.y, c.r, dx, ds, dW);
    fd_check("add dx", &c, c.x, nx, dx);
    fd_check("add ds", &c, c.s, ns, ds);
    if (a->ref.project) fd_check("add dW", &c, c.W, nw, dW);
    free(c.x), free(c.s), free(c.W), free(c.r), free(c.y), free(dx), free(ds), free(dW);
  }
}

static void test_ref_global_avgpool(void **state) {
  (void)state;
  clt_ref_shape in = {2, 3, 2, 3};
  long nx = clt_ref_shape_count(in);
  double *x = clt_test_alloc(nx), y[6], dy[6] = {1, 2, 3, 4, 5, 6}, *dx = clt_test_alloc(nx);
  for (long i = 0; i < nx; i++) x[i] = (double)i;
  clt_ref_global_avgpool_forward(in, x, y);
  /* channel c of sample n: mean of n*18 + c + 3*k for k = 0..5 = n*18 + c + 7.5 */
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 3; c++) assert_true(fabs(y[n * 3 + c] - (n * 18 + c + 7.5)) < 1e-12);
  clt_ref_global_avgpool_backward(in, dy, dx);
  for (long i = 0; i < nx; i++) assert_true(fabs(dx[i] - dy[(i / 18) * 3 + i % 3] / 6.0) < 1e-12);
  free(x);
  free(dx);
}

/* ---- device against reference ---- */

static void *build_add(const add_case *a, clt_ctx *ctx) {
  char text[256];
  snprintf(text, sizeof text, "[add]\nfrom = src\n%s", a->keys);
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string(text, CLT_TEST_LAYER_FILE, &ini));
  void *self = NULL;
  OK(clt_layer_add.parse(&ini->sections[0], &self));
  OK(clt_ini_check_unused(&ini->sections[0]));
  assert_string_equal(clt_layer_add.from(self), "src");
  clt_layer_add.set_from_shape(self, (clt_shape){a->skip.h, a->skip.w, a->skip.c});
  clt_shape out;
  OK(clt_layer_add.infer(self, &ini->sections[0], (clt_shape){a->in.h, a->in.w, a->in.c}, &out));
  clt_test_expect_shape(out, a->in.h, a->in.w, a->in.c);
  clt_ini_free(ini);
  OK(clt_layer_add.prepare(self, ctx));
  return self;
}

static void test_add_device(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  for (size_t k = 0; k < sizeof add_cases / sizeof *add_cases; k++) {
    const add_case *a = &add_cases[k];
    void *self = build_add(a, ctx);
    clt_layer_sizes sz;
    clt_layer_add.sizes(self, a->in.n, &sz);
    assert_int_equal(sz.param_count, a->ref.project);
    long nx = clt_ref_shape_count(a->in), ns = clt_ref_shape_count(a->skip);
    long nw = (long)a->in.c * a->skip.c;
    if (a->ref.project) {
      assert_int_equal(sz.params[0].count, (size_t)nw);
      assert_int_equal(sz.params[0].init, CLT_INIT_HE_NORMAL);
      assert_int_equal(sz.params[0].fan_in, a->skip.c);
    }
    double *x = clt_test_random(nx, -1, 1, 10 + k), *s = clt_test_random(ns, -1, 1, 20 + k);
    double *W = clt_test_random(nw, -1, 1, 30 + k), *dy = clt_test_random(nx, -1, 1, 40 + k);
    double *ds0 = clt_test_random(ns, -1, 1, 50 + k); /* earlier readers' sums: added to */
    double *y = clt_test_alloc(nx), *dx = clt_test_alloc(nx), *ds = clt_test_alloc(ns);
    double *dW = clt_test_alloc(nw), *got = clt_test_alloc(ns > nx ? ns : nx);
    for (long i = 0; i < ns; i++) ds[i] = ds0[i];
    clt_ref_add_forward(&a->ref, a->in, a->skip, x, s, W, y);
    clt_ref_add_backward(&a->ref, a->in, a->skip, s, W, y, dy, dx, ds, dW);

    clt_pass p = {0};
    p.ctx = ctx;
    p.batch = a->in.n;
    p.training = 1;
    p.x = clt_test_upload(ctx, x, nx);
    p.x2 = clt_test_upload(ctx, s, ns);
    p.y = clt_test_filled(ctx, nx, 7.0);
    p.params[0] = a->ref.project ? clt_test_upload(ctx, W, nw) : NULL;
    p.grads[0] = a->ref.project ? clt_test_zeros(ctx, nw) : NULL;
    p.workspace = sz.workspace_floats ? clt_test_filled(ctx, sz.workspace_floats, 3.0) : NULL;
    OK(clt_layer_add.forward(self, &p));
    clt_test_download(ctx, p.y, got, nx);
    EXPECT_CLOSE("add y", got, y, nx, 1e-3, DEVICE_TOL);
    if (p.workspace) { /* another layer's pass spoils the shared workspace */
      clt_buffer_release(&p.workspace);
      p.workspace = clt_test_filled(ctx, sz.workspace_floats, -5.0);
    }
    p.dy = clt_test_upload(ctx, dy, nx);
    p.dx = clt_test_filled(ctx, nx, 9.0);
    p.dx2 = clt_test_upload(ctx, ds0, ns);
    OK(clt_layer_add.backward(self, &p));
    clt_test_download(ctx, p.dx, got, nx);
    EXPECT_CLOSE("add dx", got, dx, nx, 1e-3, DEVICE_TOL);
    clt_test_download(ctx, p.dx2, got, ns);
    EXPECT_CLOSE("add dx2", got, ds, ns, 1e-3, DEVICE_TOL);
    if (a->ref.project) {
      clt_test_download(ctx, p.grads[0], got, nw);
      EXPECT_CLOSE("add dW", got, dW, nw, 1e-3, DEVICE_TOL);
    }
    clt_test_pass_release(&p);
    clt_buffer_release(&p.x2);
    clt_buffer_release(&p.dx2);
    clt_layer_add.destroy(self);
    free(x), free(s), free(W), free(dy), free(ds0), free(y), free(dx), free(ds), free(dW);
    free(got);
  }
}

static void test_global_avgpool_device(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_ref_shape in = {3, 7, 5, 6};
  clt_shape out;
  void *self = clt_test_layer_build(&clt_layer_global_avgpool, "[global_avgpool]\n",
                                    (clt_shape){in.h, in.w, in.c}, &out, ctx);
  clt_test_expect_shape(out, 1, 1, in.c);
  clt_test_layer_expect_describe(&clt_layer_global_avgpool, self, "mean over 7x5");
  long nx = clt_ref_shape_count(in), ny = (long)in.n * in.c;
  double *x = clt_test_random(nx, -1, 1, 61), *dy = clt_test_random(ny, -1, 1, 62);
  double *y = clt_test_alloc(ny), *dx = clt_test_alloc(nx), *got = clt_test_alloc(nx);
  clt_ref_global_avgpool_forward(in, x, y);
  clt_ref_global_avgpool_backward(in, dy, dx);
  clt_pass p = {0};
  p.ctx = ctx;
  p.batch = in.n;
  p.training = 1;
  p.x = clt_test_upload(ctx, x, nx);
  p.y = clt_test_filled(ctx, ny, 7.0);
  OK(clt_layer_global_avgpool.forward(self, &p));
  clt_test_download(ctx, p.y, got, ny);
  EXPECT_CLOSE("global_avgpool y", got, y, ny, 1e-3, DEVICE_TOL);
  p.dy = clt_test_upload(ctx, dy, ny);
  p.dx = clt_test_filled(ctx, nx, 9.0);
  OK(clt_layer_global_avgpool.backward(self, &p));
  clt_test_download(ctx, p.dx, got, nx);
  EXPECT_CLOSE("global_avgpool dx", got, dx, nx, 1e-3, DEVICE_TOL);
  clt_test_pass_release(&p);
  clt_layer_global_avgpool.destroy(self);
  free(x), free(dy), free(y), free(dx), free(got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ref_add_gradcheck),
      cmocka_unit_test(test_ref_global_avgpool),
      cmocka_unit_test(test_add_device),
      cmocka_unit_test(test_global_avgpool_device),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
