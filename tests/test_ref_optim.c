/* The float64 reference optimizers and learning-rate schedules (src/ref/) against values
 * worked out by hand or from closed forms (docs/INTERNALS.md "Optimizers",
 * "Learning-rate schedules"). Tolerance: 1e-12 relative (the expected values are exact
 * up to a few roundings). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "ref/ref.h"
#include "util/expect.h"

#define TOL 1e-12

static const double pi = 3.14159265358979323846;

static void expect_near(const double *got, const double *want, int n) {
  clt_test_expect_near(got, want, n, TOL);
}

static void expect_scalar(double got, double want) {
  expect_near(&got, &want, 1);
}

/* ---- SGD ---- */

static void test_sgd_plain(void **state) {
  (void)state;
  clt_ref_sgd p = {.momentum = 0, .nesterov = 0, .weight_decay = 0};
  double w[3] = {1, -2, 3}, g[3] = {0.5, 0.25, -1};
  clt_ref_sgd_step(&p, 0.1, 3, w, g, NULL);
  const double want[3] = {0.95, -2.025, 3.1};
  expect_near(w, want, 3);

  /* Weight decay as L2: g' = g + 0.1 w = [0.6, 0.05, -0.7]. */
  p.weight_decay = 0.1;
  double w2[3] = {1, -2, 3};
  clt_ref_sgd_step(&p, 0.1, 3, w2, g, NULL);
  const double want2[3] = {0.94, -2.005, 3.07};
  expect_near(w2, want2, 3);
}

/* Constant gradient g, mu = 0.9: v_k = g (1 - mu^k) / (1 - mu) = g * {1, 1.9, 2.71}.
 * Plain: w_3 = w_0 - lr g (1 + 1.9 + 2.71) = w_0 - 5.61 lr g.
 * Nesterov: each step uses g + mu v_k = g * {1.9, 2.71, 3.439}: w_3 = w_0 - 8.049 lr g. */
static void test_sgd_momentum_nesterov(void **state) {
  (void)state;
  const double mu = 0.9, lr = 0.05;
  double g[2] = {1.0, -0.5};
  double sum_plain = 0, sum_nest = 0;
  for (int k = 1; k <= 3; k++) {
    double vk = (1 - pow(mu, k)) / (1 - mu);
    sum_plain += vk;
    sum_nest += 1 + mu * vk;
  }
  expect_scalar(sum_plain, 5.61);
  expect_scalar(sum_nest, 8.049);

  clt_ref_sgd p = {.momentum = mu, .nesterov = 0, .weight_decay = 0};
  double w[2] = {2, 3}, v[2] = {0, 0};
  for (int s = 0; s < 3; s++) clt_ref_sgd_step(&p, lr, 2, w, g, v);
  const double want_w[2] = {2 - 5.61 * lr * 1.0, 3 - 5.61 * lr * -0.5};
  const double want_v[2] = {2.71 * 1.0, 2.71 * -0.5};
  expect_near(w, want_w, 2);
  expect_near(v, want_v, 2);

  p.nesterov = 1;
  double wn[2] = {2, 3}, vn[2] = {0, 0};
  for (int s = 0; s < 3; s++) clt_ref_sgd_step(&p, lr, 2, wn, g, vn);
  const double want_wn[2] = {2 - 8.049 * lr * 1.0, 3 - 8.049 * lr * -0.5};
  expect_near(wn, want_wn, 2);
  expect_near(vn, want_v, 2); /* same velocity, different step */
  assert_true(fabs(wn[0] - w[0]) > 0.1);
}

/* Momentum with weight decay, two steps by hand (w changes, so g' does too). */
static void test_sgd_momentum_decay(void **state) {
  (void)state;
  clt_ref_sgd p = {.momentum = 0.9, .nesterov = 0, .weight_decay = 0.1};
  double w[2] = {1, -2}, v[2] = {0, 0}, g[2] = {0.5, 0.25};
  /* step 1: g' = [0.6, 0.05], v = g', w = [0.94, -2.005] */
  clt_ref_sgd_step(&p, 0.1, 2, w, g, v);
  const double w1[2] = {0.94, -2.005};
  expect_near(w, w1, 2);
  /* step 2: g' = [0.5 + 0.094, 0.25 - 0.2005] = [0.594, 0.0495];
   * v = [0.54 + 0.594, 0.045 + 0.0495] = [1.134, 0.0945]; w -= 0.1 v */
  clt_ref_sgd_step(&p, 0.1, 2, w, g, v);
  const double v2[2] = {1.134, 0.0945}, w2[2] = {0.8266, -2.01445};
  expect_near(v, v2, 2);
  expect_near(w, w2, 2);
  /* Nesterov from the same start: step 1 w -= 0.1 (0.6 + 0.54) -> 0.886. */
  p.nesterov = 1;
  double wn[2] = {1, -2}, vn[2] = {0, 0};
  clt_ref_sgd_step(&p, 0.1, 2, wn, g, vn);
  expect_scalar(wn[0], 0.886);
  expect_scalar(wn[1], -2 - 0.1 * (0.05 + 0.045));
}

/* ---- Adam ---- */

static const clt_ref_adam adam_defaults = {
    .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-7, .weight_decay = 0};

/* t = 1: m / (1 - b1) = g and v / (1 - b2) = g^2, so the step is lr g / (|g| + eps):
 * size lr whatever the scale of g. */
static void test_adam_first_step(void **state) {
  (void)state;
  clt_ref_adam p = adam_defaults;
  double w[3] = {1, -2, 3}, g[3] = {0.5, -1e-3, 4000}, m[3] = {0}, v[3] = {0};
  const double lr = 0.01;
  clt_ref_adam_step(&p, lr, 1, 3, w, g, m, v);
  const double want[3] = {1 - lr * 0.5 / (0.5 + 1e-7), -2 + lr * 1e-3 / (1e-3 + 1e-7),
                          3 - lr * 4000 / (4000 + 1e-7)};
  expect_near(w, want, 3);
  assert_true(fabs((1 - w[0]) - lr) < 1e-8);
  assert_true(fabs((w[1] + 2) - lr) < 2e-6); /* eps matters a little for tiny g */
  assert_true(fabs((3 - w[2]) - lr) < 1e-12);
  const double want_m[3] = {0.05, -1e-4, 400}, want_v[3] = {0.00025, 1e-9, 16000};
  expect_near(m, want_m, 3);
  expect_near(v, want_v, 3);
}

/* A constant gradient: m_t / (1 - b1^t) = g and v_t / (1 - b2^t) = g^2 at every t, so
 * each step is lr g / (|g| + eps). */
static void test_adam_constant_gradient(void **state) {
  (void)state;
  clt_ref_adam p = adam_defaults;
  double w[2] = {0, 1}, g[2] = {0.3, -2}, m[2] = {0}, v[2] = {0};
  for (long t = 1; t <= 3; t++) clt_ref_adam_step(&p, 0.1, t, 2, w, g, m, v);
  const double want[2] = {-3 * 0.1 * 0.3 / (0.3 + 1e-7), 1 + 3 * 0.1 * 2 / (2 + 1e-7)};
  expect_near(w, want, 2);
  /* m_3 = (1 - 0.9^3) g = 0.271 g, v_3 = (1 - 0.999^3) g^2 = 0.002997001 g^2 */
  const double want_m[2] = {0.271 * 0.3, 0.271 * -2},
               want_v[2] = {0.002997001 * 0.09, 0.002997001 * 4};
  expect_near(m, want_m, 2);
  expect_near(v, want_v, 2);
}

/* Two different gradients, worked by hand:
 * g1 = [1, -2]: m1 = [0.1, -0.2], v1 = [0.001, 0.004], w1 = w0 - 0.1 g1 / (|g1| + eps).
 * g2 = [3, 0.5]: m2 = 0.9 m1 + 0.1 g2 = [0.39, -0.13];
 *   v2 = 0.999 v1 + 0.001 g2^2 = [0.000999 + 0.009, 0.003996 + 0.00025] = [0.009999, 0.004246];
 *   1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999. */
static void test_adam_two_steps(void **state) {
  (void)state;
  clt_ref_adam p = adam_defaults;
  double w[2] = {0.5, 0.5}, m[2] = {0}, v[2] = {0};
  double g1[2] = {1, -2}, g2[2] = {3, 0.5};
  clt_ref_adam_step(&p, 0.1, 1, 2, w, g1, m, v);
  const double w1[2] = {0.5 - 0.1 / (1 + 1e-7), 0.5 + 0.1 * 2 / (2 + 1e-7)};
  expect_near(w, w1, 2);
  clt_ref_adam_step(&p, 0.1, 2, 2, w, g2, m, v);
  const double m2[2] = {0.39, -0.13}, v2[2] = {0.009999, 0.004246};
  expect_near(m, m2, 2);
  expect_near(v, v2, 2);
  const double w2[2] = {w1[0] - 0.1 * (0.39 / 0.19) / (sqrt(0.009999 / 0.001999) + 1e-7),
                        w1[1] - 0.1 * (-0.13 / 0.19) / (sqrt(0.004246 / 0.001999) + 1e-7)};
  expect_near(w, w2, 2);
  /* The same numbers, as computed independently (Python, double). */
  const double lit[2] = {0.3082219022055899, 0.6469468088995531};
  expect_near(w, lit, 2);
}

/* ---- AdamW: decay decoupled from the gradient ---- */

static void test_adamw_decoupled(void **state) {
  (void)state;
  clt_ref_adam p = adam_defaults;
  p.weight_decay = 0.01;
  const double lr = 0.1;

  /* g = 0: m = v = 0, so the Adam part moves nothing; only w *= (1 - lr wd) each step. */
  double w[2] = {2, -3}, g0[2] = {0, 0}, m[2] = {0}, v[2] = {0};
  for (long t = 1; t <= 3; t++) clt_ref_adamw_step(&p, lr, t, 2, w, g0, m, v);
  const double want[2] = {2 * pow(1 - lr * 0.01, 3), -3 * pow(1 - lr * 0.01, 3)};
  expect_near(w, want, 2);

  /* Adam with the same wd as L2 feeds wd w into m and v: with g = 0, the first step is
   * then lr * sign(w), not a 0.1 % shrink. */
  double wa[2] = {2, -3}, ma[2] = {0}, va[2] = {0};
  clt_ref_adam_step(&p, lr, 1, 2, wa, g0, ma, va);
  const double want_a[2] = {2 - lr * 0.02 / (0.02 + 1e-7), -3 + lr * 0.03 / (0.03 + 1e-7)};
  expect_near(wa, want_a, 2);

  /* A non-zero gradient, one step: decay first, then the Adam step of size ~lr. */
  double wb[2] = {2, -3}, gb[2] = {0.5, 0.5}, mb[2] = {0}, vb[2] = {0};
  clt_ref_adamw_step(&p, lr, 1, 2, wb, gb, mb, vb);
  const double want_b[2] = {2 * (1 - 0.001) - lr * 0.5 / (0.5 + 1e-7),
                            -3 * (1 - 0.001) - lr * 0.5 / (0.5 + 1e-7)};
  expect_near(wb, want_b, 2);
  const double want_mb[2] = {0.05, 0.05}; /* m sees g only, not wd w */
  expect_near(mb, want_mb, 2);
  double wc[2] = {2, -3}, mc[2] = {0}, vc[2] = {0};
  clt_ref_adam_step(&p, lr, 1, 2, wc, gb, mc, vc);
  assert_true(fabs(wc[0] - wb[0]) > 1e-3 || fabs(wc[1] - wb[1]) > 1e-3);
  assert_true(fabs(mc[0] - 0.052) < TOL); /* 0.1 * (0.5 + 0.01 * 2) */
}

/* ---- schedules ---- */

static void test_schedule_constant_step(void **state) {
  (void)state;
  clt_ref_schedule c = {.kind = CLT_REF_SCHED_CONSTANT, .base = 0.05};
  for (long s = 0; s < 50; s += 7) expect_scalar(clt_ref_lr(&c, s, 50, 10), 0.05);

  /* 10 steps per epoch, gamma 0.1 every 2 epochs: epochs 0-1 base, 2-3 base/10, 4 base/100. */
  clt_ref_schedule st = {.kind = CLT_REF_SCHED_STEP, .base = 1.0, .step_every = 2, .gamma = 0.1};
  expect_scalar(clt_ref_lr(&st, 0, 100, 10), 1.0);
  expect_scalar(clt_ref_lr(&st, 19, 100, 10), 1.0);
  expect_scalar(clt_ref_lr(&st, 20, 100, 10), 0.1);
  expect_scalar(clt_ref_lr(&st, 39, 100, 10), 0.1);
  expect_scalar(clt_ref_lr(&st, 40, 100, 10), 0.01);
  st.step_every = 1;
  st.gamma = 0.5;
  expect_scalar(clt_ref_lr(&st, 9, 100, 10), 1.0);
  expect_scalar(clt_ref_lr(&st, 10, 100, 10), 0.5);
  expect_scalar(clt_ref_lr(&st, 35, 100, 10), 0.125);
}

static void test_schedule_cosine(void **state) {
  (void)state;
  clt_ref_schedule c = {.kind = CLT_REF_SCHED_COSINE, .base = 0.2};
  expect_scalar(clt_ref_lr(&c, 0, 100, 10), 0.2);
  expect_scalar(clt_ref_lr(&c, 50, 100, 10), 0.1);
  expect_scalar(clt_ref_lr(&c, 25, 100, 10), 0.1 * (1 + sqrt(0.5)));
  expect_scalar(clt_ref_lr(&c, 75, 100, 10), 0.1 * (1 - sqrt(0.5)));
  double last = clt_ref_lr(&c, 99, 100, 10); /* 0.1 (1 + cos(0.99 pi)) ~ 4.9e-5 */
  assert_true(last > 0 && last < 1e-4);
  assert_true(fabs(clt_ref_lr(&c, 100, 100, 10)) < 1e-17);
  /* Monotone decreasing. */
  for (long s = 1; s < 100; s++)
    assert_true(clt_ref_lr(&c, s, 100, 10) < clt_ref_lr(&c, s - 1, 100, 10));
}

static void test_schedule_warmup(void **state) {
  (void)state;
  /* W = 4: lr(s) * (s + 1) / 4 for s < 4, then the schedule itself. */
  clt_ref_schedule c = {.kind = CLT_REF_SCHED_CONSTANT, .base = 0.8, .warmup = 4};
  expect_scalar(clt_ref_lr(&c, 0, 100, 10), 0.2);
  expect_scalar(clt_ref_lr(&c, 1, 100, 10), 0.4);
  expect_scalar(clt_ref_lr(&c, 2, 100, 10), 0.6);
  expect_scalar(clt_ref_lr(&c, 3, 100, 10), 0.8);
  expect_scalar(clt_ref_lr(&c, 4, 100, 10), 0.8);
  expect_scalar(clt_ref_lr(&c, 50, 100, 10), 0.8);

  /* With cosine: the ramp multiplies the cosine value of the same step. */
  clt_ref_schedule k = {.kind = CLT_REF_SCHED_COSINE, .base = 1.0, .warmup = 10};
  expect_scalar(clt_ref_lr(&k, 0, 100, 10), 0.1);
  expect_scalar(clt_ref_lr(&k, 4, 100, 10), 0.5 * (1 + cos(pi * 0.04)) * 0.5);
  expect_scalar(clt_ref_lr(&k, 9, 100, 10), 0.5 * (1 + cos(pi * 0.09)));
  expect_scalar(clt_ref_lr(&k, 10, 100, 10), 0.5 * (1 + cos(pi * 0.1)));

  /* With step: W = 5, 3 steps per epoch, gamma 0.1 every epoch: step 4 is in epoch 1. */
  clt_ref_schedule st = {
      .kind = CLT_REF_SCHED_STEP, .base = 1.0, .step_every = 1, .gamma = 0.1, .warmup = 5};
  expect_scalar(clt_ref_lr(&st, 2, 100, 3), 1.0 * 3 / 5);
  expect_scalar(clt_ref_lr(&st, 4, 100, 3), 0.1 * 5 / 5);
  expect_scalar(clt_ref_lr(&st, 5, 100, 3), 0.1);
  expect_scalar(clt_ref_lr(&st, 6, 100, 3), 0.01);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd_plain),
      cmocka_unit_test(test_sgd_momentum_nesterov),
      cmocka_unit_test(test_sgd_momentum_decay),
      cmocka_unit_test(test_adam_first_step),
      cmocka_unit_test(test_adam_constant_gradient),
      cmocka_unit_test(test_adam_two_steps),
      cmocka_unit_test(test_adamw_decoupled),
      cmocka_unit_test(test_schedule_constant_step),
      cmocka_unit_test(test_schedule_cosine),
      cmocka_unit_test(test_schedule_warmup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
