/* The [softmax] head on the device against clt_ref_softmax_xent (float64).
 *
 * Tolerances (relative to the largest magnitude of the reference tensor):
 *   probabilities and dx: 2e-6; mean loss: 2e-6 (relative to max(|loss|, 1));
 *   correct count and sample count: exact. Repeated calls add bit-identical sums.
 * PoCL shows at most 1.3e-7; the margin is for devices with 3-ulp exp and log. */
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
#include "nn/metrics.h"
#include "ref/ref.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL_PROB 2e-6
#define TOL_LOSS 2e-6

static clt_ctx *ctx;

/* The [softmax] head of a small model text, built for input shape in and prepared on ctx. */
static void *head_create(clt_shape in) {
  clt_shape out;
  void *self = clt_test_layer_build(&clt_layer_softmax, "[net]\ninput = 1x1x4\n\n[softmax]\n", in,
                                    &out, ctx);
  clt_test_expect_shape(out, 1, 1, in.c);
  return self;
}

/* n zeros, written rather than filled (see clt_test_filled): this test is meant to run clean
 * under Oclgrind --uninitialized. */
static cl_mem zeros(size_t n) {
  return clt_test_filled(ctx, n, 0.0);
}

static cl_mem upload_labels(const int32_t *labels, int n) {
  cl_mem mem = NULL;
  OK(clt_buffer_create(ctx, (size_t)n * sizeof(int32_t), &mem));
  OK(clt_buffer_write(ctx, mem, 0, (size_t)n * sizeof(int32_t), labels));
  return mem;
}

/* Logits uniform in [-scale, scale), rounded to float; labels uniform in [0, K). */
static void make_batch(int n, int k, double scale, uint32_t seed, double *z, int32_t *labels) {
  clt_test_fill_uniform(z, (size_t)n * k, -scale, scale, seed);
  clt_test_round_to_float(z, (size_t)n * k);
  for (int s = 0; s < n; s++)
    labels[s] = (int32_t)(clt_uniform(seed, 0x1abe1u, (uint32_t)s) * (float)k) % k;
}

/* Reference softmax(z) [N,K] in double. */
static void ref_probs(int n, int k, const double *z, double *p) {
  for (int s = 0; s < n; s++) {
    const double *zs = z + (size_t)s * k;
    double m = zs[0];
    for (int j = 1; j < k; j++) m = fmax(m, zs[j]);
    double sum = 0.0;
    for (int j = 0; j < k; j++) sum += exp(zs[j] - m);
    for (int j = 0; j < k; j++) p[(size_t)s * k + j] = exp(zs[j] - m) / sum;
  }
}

/* One training forward (labels, dx) compared with the reference; then a second identical
 * call, whose metrics must add the same sums bit for bit. */
static void check_case(int n, int k, double scale, uint32_t seed) {
  size_t nk = (size_t)n * k;
  double *z = malloc(nk * sizeof *z), *p = malloc(nk * sizeof *p);
  double *dz = malloc(nk * sizeof *dz), *got = malloc(nk * sizeof *got);
  int32_t *labels = malloc((size_t)n * sizeof *labels);
  make_batch(n, k, scale, seed, z, labels);

  int correct = 0;
  double loss = clt_ref_softmax_xent(n, k, z, labels, dz, &correct);
  ref_probs(n, k, z, p);

  void *head = head_create((clt_shape){1, 1, k});
  clt_layer_sizes sizes;
  clt_layer_softmax.sizes(head, n, &sizes);
  assert_int_equal(sizes.needs_labels, 1);
  assert_int_equal(sizes.param_count, 0);
  assert_true(sizes.saved_floats >= 2 * (size_t)n);

  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = n;
  pass.training = 1;
  pass.x = clt_test_upload(ctx, z, nk);
  pass.y = zeros(nk);
  pass.dx = zeros(nk);
  pass.saved = zeros(sizes.saved_floats);
  pass.labels = upload_labels(labels, n);
  pass.metrics = zeros(CLT_METRIC_FLOATS);

  OK(clt_layer_softmax.forward(head, &pass));
  OK(clt_layer_softmax.backward(head, &pass));
  double m1[CLT_METRIC_FLOATS];
  clt_test_download(ctx, pass.metrics, m1, CLT_METRIC_FLOATS);

  char what[96];
  snprintf(what, sizeof what, "softmax y N=%d K=%d scale=%g", n, k, scale);
  clt_test_download(ctx, pass.y, got, nk);
  EXPECT_CLOSE(what, got, p, nk, 0.0, TOL_PROB);
  for (int s = 0; s < n; s++) {
    double sum = 0.0;
    for (int j = 0; j < k; j++) sum += got[(size_t)s * k + j];
    assert_true(fabs(sum - 1.0) <= 1e-5);
  }
  snprintf(what, sizeof what, "softmax dx N=%d K=%d scale=%g", n, k, scale);
  clt_test_download(ctx, pass.dx, got, nk);
  EXPECT_CLOSE(what, got, dz, nk, 0.0, TOL_PROB);

  double mean = m1[CLT_METRIC_LOSS_SUM] / n;
  snprintf(what, sizeof what, "softmax loss N=%d K=%d scale=%g", n, k, scale);
  EXPECT_CLOSE(what, &mean, &loss, 1, 1.0, TOL_LOSS);
  assert_true(m1[CLT_METRIC_CORRECT] == (double)correct);
  assert_true(m1[CLT_METRIC_COUNT] == (double)n);
  assert_true(m1[CLT_METRIC_NONFINITE] == 0.0);

  /* Metrics accumulate; the same batch adds the same sums bit for bit. */
  OK(clt_layer_softmax.forward(head, &pass));
  double m2[CLT_METRIC_FLOATS];
  clt_test_download(ctx, pass.metrics, m2, CLT_METRIC_FLOATS);
  assert_true(m2[CLT_METRIC_LOSS_SUM] == 2.0 * m1[CLT_METRIC_LOSS_SUM]);
  assert_true(m2[CLT_METRIC_CORRECT] == 2.0 * correct);
  assert_true(m2[CLT_METRIC_COUNT] == 2.0 * n);
  assert_true(m2[CLT_METRIC_NONFINITE] == 0.0);

  clt_test_pass_release(&pass);
  clt_layer_softmax.destroy(head);
  free(z);
  free(p);
  free(dz);
  free(got);
  free(labels);
}

static void test_small(void **state) {
  (void)state;
  check_case(1, 2, 3.0, 1);
  check_case(1, 10, 3.0, 2);
  check_case(3, 2, 3.0, 3);
  check_case(3, 10, 3.0, 4);
  check_case(3, 13, 3.0, 5);
}

static void test_batch(void **state) {
  (void)state;
  check_case(37, 2, 3.0, 6);
  check_case(37, 10, 3.0, 7);
  check_case(37, 13, 3.0, 8);
  check_case(600, 2, 3.0, 9); /* more samples than one reduction work-group */
}

static void test_large_logits(void **state) {
  (void)state;
  check_case(3, 10, 80.0, 10);
  check_case(37, 13, 80.0, 11);
}

/* Inference: labels NULL, training 0: y only; metrics and dx untouched. */
static void test_inference(void **state) {
  (void)state;
  int n = 5, k = 4;
  double z[20], p[20], got[20], sentinel[20];
  int32_t labels[5];
  make_batch(n, k, 2.0, 12, z, labels);
  ref_probs(n, k, z, p);
  for (int i = 0; i < 20; i++) sentinel[i] = 7.0;
  void *head = head_create((clt_shape){1, 1, k});
  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = n;
  pass.x = clt_test_upload(ctx, z, 20);
  pass.y = zeros(20);
  pass.dx = clt_test_upload(ctx, sentinel, 20);
  pass.metrics = zeros(CLT_METRIC_FLOATS);
  OK(clt_layer_softmax.forward(head, &pass));
  clt_test_download(ctx, pass.y, got, 20);
  EXPECT_CLOSE("softmax inference y", got, p, 20, 0.0, TOL_PROB);
  clt_test_download(ctx, pass.dx, got, 20);
  for (int i = 0; i < 20; i++) assert_true(got[i] == 7.0);
  double m[CLT_METRIC_FLOATS];
  clt_test_download(ctx, pass.metrics, m, CLT_METRIC_FLOATS);
  for (int i = 0; i < CLT_METRIC_FLOATS; i++) assert_true(m[i] == 0.0);
  clt_test_pass_release(&pass);
  clt_layer_softmax.destroy(head);
}

/* Forward with labels in evaluation mode (training 0) over z; returns the metrics. */
static void eval_metrics(const double *z, const int32_t *labels, int n, int k, double *m) {
  void *head = head_create((clt_shape){1, 1, k});
  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = n;
  pass.x = clt_test_upload(ctx, z, (size_t)n * k);
  pass.y = zeros((size_t)n * k);
  pass.saved = zeros(2 * (size_t)n);
  pass.labels = upload_labels(labels, n);
  pass.metrics = zeros(CLT_METRIC_FLOATS);
  OK(clt_layer_softmax.forward(head, &pass));
  clt_test_download(ctx, pass.metrics, m, CLT_METRIC_FLOATS);
  clt_test_pass_release(&pass);
  clt_layer_softmax.destroy(head);
}

static void test_nonfinite(void **state) {
  (void)state;
  int n = 6, k = 5;
  double z[30], m[CLT_METRIC_FLOATS];
  int32_t labels[6];
  make_batch(n, k, 2.0, 13, z, labels);

  eval_metrics(z, labels, n, k, m);
  assert_true(m[CLT_METRIC_NONFINITE] == 0.0);
  assert_true(isfinite(m[CLT_METRIC_LOSS_SUM]));
  assert_true(m[CLT_METRIC_COUNT] == (double)n);

  z[2 * k + 3] = NAN; /* one logit of sample 2 */
  eval_metrics(z, labels, n, k, m);
  assert_true(m[CLT_METRIC_NONFINITE] == 1.0);

  z[2 * k + 3] = 0.5;
  z[0] = NAN; /* the first logit, where the max scan starts */
  eval_metrics(z, labels, n, k, m);
  assert_true(m[CLT_METRIC_NONFINITE] == 1.0);

  /* Labels outside [0, K) read nothing out of bounds and raise the flag. */
  z[0] = 0.5;
  labels[4] = k;
  eval_metrics(z, labels, n, k, m);
  assert_true(m[CLT_METRIC_NONFINITE] == 1.0);
  labels[4] = -1;
  eval_metrics(z, labels, n, k, m);
  assert_true(m[CLT_METRIC_NONFINITE] == 1.0);
  assert_true(m[CLT_METRIC_COUNT] == (double)n);
}

static void expect_infer_error(clt_shape in) {
  assert_int_equal(clt_test_layer_expect_bad(&clt_layer_softmax,
                                             "[net]\ninput = 1x1x4\n[softmax]\n",
                                             CLT_TEST_STEP_INFER, &in, 3,
                                             "add a [dense] layer with units = number of classes "
                                             "before [softmax]"),
                   CLT_TEST_STEP_INFER);
  EXPECT_MESSAGE_HAS("model.ini:3: [softmax]");
}

static void test_infer_errors(void **state) {
  (void)state;
  expect_infer_error((clt_shape){4, 4, 3});
  expect_infer_error((clt_shape){1, 2, 10});
  expect_infer_error((clt_shape){1, 1, 1});
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small),        cmocka_unit_test(test_batch),
      cmocka_unit_test(test_large_logits), cmocka_unit_test(test_inference),
      cmocka_unit_test(test_nonfinite),    cmocka_unit_test(test_infer_errors),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
