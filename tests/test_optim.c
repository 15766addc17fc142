/* Optimizer kernels against the float64 reference steps, and the learning-rate schedules
 * against clt_ref_lr.
 *
 * Tolerances: after 5 steps, parameters and optimizer state (v; m, v) within 1e-6 of the
 * reference, relative to the largest magnitude of the reference tensor (floor 1e-12); PoCL
 * shows at most 2e-7. Schedules: within 1e-15 relative (the same double arithmetic). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/recipe.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/test_util.h"

#define TOL_PARAMS 1e-6
#define TOL_STATE  1e-6
#define STEPS      5

static clt_ctx *ctx;

/* n zeros, written rather than filled (see clt_test_filled): this test is meant to run clean
 * under Oclgrind --uninitialized. */
static cl_mem zeros(size_t n) {
  return clt_test_filled(ctx, n, 0.0);
}

static clt_recipe recipe_for(clt_optimizer kind) {
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.optimizer = kind;
  if (kind == CLT_OPT_ADAMW) r.weight_decay = CLT_RECIPE_DEFAULT_ADAMW_DECAY;
  return r;
}

/* The reference step of recipe r on doubles. */
static void ref_step(const clt_recipe *r, double lr, long t, long n, double *w, const double *g,
                     double *state) {
  if (r->optimizer == CLT_OPT_SGD) {
    clt_ref_sgd p = {r->momentum, r->nesterov, r->weight_decay};
    clt_ref_sgd_step(&p, lr, n, w, g, state);
    return;
  }
  clt_ref_adam p = {r->beta1, r->beta2, r->epsilon, r->weight_decay};
  if (r->optimizer == CLT_OPT_ADAM)
    clt_ref_adam_step(&p, lr, t, n, w, g, state, state + n);
  else
    clt_ref_adamw_step(&p, lr, t, n, w, g, state, state + n);
}

/* STEPS steps over n floats with fresh random gradients and a learning rate that changes
 * every step; device and reference start from the same float-rounded values. */
static void check_optimizer(const clt_recipe *r, size_t n, int want_state, const char *label) {
  clt_optim *opt = NULL;
  OK(clt_optim_create(ctx, r, &opt));
  int spp = clt_optim_state_per_param(opt);
  assert_int_equal(spp, want_state);

  size_t ns = (size_t)spp * n;
  double *w = clt_test_random(n, -1.0, 1.0, 100 + (uint32_t)n), *g = clt_test_alloc(n);
  double *s = clt_test_alloc(ns), *got = clt_test_alloc(ns > n ? ns : n);
  cl_mem dw = clt_test_upload(ctx, w, n);
  cl_mem dg = zeros(n);
  cl_mem ds = ns ? zeros(ns) : NULL;
  float *gf = malloc(n * sizeof *gf);

  for (long t = 1; t <= STEPS; t++) {
    clt_test_fill_uniform(g, n, -1.0, 1.0, 200 + (uint32_t)t);
    clt_test_round_to_float(g, n);
    for (size_t i = 0; i < n; i++) gf[i] = (float)g[i];
    OK(clt_buffer_write(ctx, dg, 0, n * sizeof(float), gf));
    double lr = (double)(float)(0.01 * (1.0 + 0.3 * (double)t));
    OK(clt_optim_step(opt, dw, dg, ds, n, lr, t));
    ref_step(r, lr, t, (long)n, w, g, s);
  }

  char what[128];
  snprintf(what, sizeof what, "%s n=%zu params", label, n);
  clt_test_download(ctx, dw, got, n);
  EXPECT_CLOSE(what, got, w, n, 1e-12, TOL_PARAMS);
  for (int b = 0; b < spp; b++) {
    snprintf(what, sizeof what, "%s n=%zu state block %d", label, n, b);
    clt_test_download(ctx, ds, got, ns);
    EXPECT_CLOSE(what, got + b * n, s + b * n, n, 1e-12, TOL_STATE);
  }

  clt_buffer_release(&dw);
  clt_buffer_release(&dg);
  if (ds) clt_buffer_release(&ds);
  free(w);
  free(g);
  free(s);
  free(got);
  free(gf);
  clt_optim_destroy(opt);
}

static const size_t sizes[] = {1, 37, 1000};

static void check_all_sizes(const clt_recipe *r, int want_state, const char *label) {
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    check_optimizer(r, sizes[i], want_state, label);
}

static void test_sgd(void **state) {
  (void)state;
  clt_recipe r = recipe_for(CLT_OPT_SGD);
  check_all_sizes(&r, 0, "sgd");
  r.weight_decay = 0.01;
  check_all_sizes(&r, 0, "sgd wd");
}

static void test_sgd_momentum(void **state) {
  (void)state;
  clt_recipe r = recipe_for(CLT_OPT_SGD);
  r.momentum = 0.9;
  check_all_sizes(&r, 1, "sgd momentum");
  r.nesterov = true;
  check_all_sizes(&r, 1, "sgd nesterov");
  r.weight_decay = 0.001;
  check_all_sizes(&r, 1, "sgd nesterov wd");
  r.nesterov = false;
  check_all_sizes(&r, 1, "sgd momentum wd");
}

static void test_adam(void **state) {
  (void)state;
  clt_recipe r = recipe_for(CLT_OPT_ADAM);
  check_all_sizes(&r, 2, "adam");
  r.weight_decay = 0.01;
  check_all_sizes(&r, 2, "adam wd");
  r.beta1 = 0.8;
  r.beta2 = 0.99;
  r.epsilon = 1e-4;
  check_all_sizes(&r, 2, "adam betas");
}

static void test_adamw(void **state) {
  (void)state;
  clt_recipe r = recipe_for(CLT_OPT_ADAMW);
  check_all_sizes(&r, 2, "adamw");
  r.weight_decay = 0.1;
  r.beta1 = 0.5;
  r.epsilon = 1e-3;
  check_all_sizes(&r, 2, "adamw wd");
  r.weight_decay = 0.0;
  check_all_sizes(&r, 2, "adamw no wd");
}

static void test_step_arguments(void **state) {
  (void)state;
  clt_recipe r = recipe_for(CLT_OPT_ADAM);
  clt_optim *opt = NULL;
  OK(clt_optim_create(ctx, &r, &opt));
  cl_mem buf = zeros(4);
  /* n = 0 does nothing; a missing state buffer and t < 1 are caller bugs. */
  assert_int_equal(clt_optim_step(opt, buf, buf, NULL, 0, 0.1, 1), CLT_OK);
  assert_int_equal(clt_optim_step(opt, buf, buf, NULL, 2, 0.1, 1), CLT_ERR_INTERNAL);
  assert_int_equal(clt_optim_step(opt, buf, buf, buf, 2, 0.1, 0), CLT_ERR_INTERNAL);
  char text[128];
  clt_optim_describe(opt, text, sizeof text);
  assert_non_null(strstr(text, "adam"));
  clt_buffer_release(&buf);
  clt_optim_destroy(opt);
  clt_optim_destroy(NULL);
}

/* ---- schedules ---- */

static void check_schedule(clt_schedule kind, int warmup, int step_every, double gamma) {
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.learning_rate = 0.05;
  r.schedule = kind;
  r.warmup = warmup;
  r.step_every = step_every;
  r.gamma = gamma;
  clt_ref_schedule ref = {(clt_ref_schedule_kind)kind, r.learning_rate, step_every, gamma, warmup};
  const int steps_per_epoch = 4, epochs = 6;
  const long total = (long)steps_per_epoch * epochs;
  for (long s = 0; s < total; s++) {
    double got = clt_schedule_lr(&r, s, total, steps_per_epoch);
    double want = clt_ref_lr(&ref, s, total, steps_per_epoch);
    if (!(fabs(got - want) <= 1e-15 * fabs(want))) {
      fprintf(stderr, "schedule %s warmup %d step %ld: got %.17g want %.17g\n",
              clt_schedule_name(kind), warmup, s, got, want);
      fail();
    }
    assert_true(got > 0.0 || (kind == CLT_SCHED_COSINE && s == total));
  }
}

static void test_schedules(void **state) {
  (void)state;
  _Static_assert((int)CLT_SCHED_CONSTANT == (int)CLT_REF_SCHED_CONSTANT &&
                     (int)CLT_SCHED_STEP == (int)CLT_REF_SCHED_STEP &&
                     (int)CLT_SCHED_COSINE == (int)CLT_REF_SCHED_COSINE,
                 "schedule codes agree");
  for (int warmup = 0; warmup <= 7; warmup += 7) {
    check_schedule(CLT_SCHED_CONSTANT, warmup, 0, 0.1);
    check_schedule(CLT_SCHED_STEP, warmup, 2, 0.5);
    check_schedule(CLT_SCHED_STEP, warmup, 1, 0.1);
    check_schedule(CLT_SCHED_COSINE, warmup, 0, 0.1);
  }
  check_schedule(CLT_SCHED_COSINE, 100, 0, 0.1); /* warm-up longer than the run */

  /* Spot values. */
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.learning_rate = 1.0;
  r.schedule = CLT_SCHED_COSINE;
  assert_true(fabs(clt_schedule_lr(&r, 0, 10, 5) - 1.0) < 1e-15);
  assert_true(fabs(clt_schedule_lr(&r, 5, 10, 5) - 0.5) < 1e-15);
  r.warmup = 4;
  assert_true(fabs(clt_schedule_lr(&r, 0, 10, 5) - 0.25) < 1e-15);
  r.schedule = CLT_SCHED_STEP;
  r.warmup = 0;
  r.step_every = 2;
  r.gamma = 0.1;
  assert_true(clt_schedule_lr(&r, 19, 100, 10) == 1.0);
  assert_true(fabs(clt_schedule_lr(&r, 20, 100, 10) - 0.1) < 1e-15);

  /* Degenerate arguments do not divide by zero. */
  assert_true(isfinite(clt_schedule_lr(&r, 3, 10, 0)));
  r.step_every = 0;
  assert_true(isfinite(clt_schedule_lr(&r, 3, 10, 2)));
  r.schedule = CLT_SCHED_COSINE;
  assert_true(clt_schedule_lr(&r, 3, 0, 2) == 1.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd),
      cmocka_unit_test(test_sgd_momentum),
      cmocka_unit_test(test_adam),
      cmocka_unit_test(test_adamw),
      cmocka_unit_test(test_step_arguments),
      cmocka_unit_test(test_schedules),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
