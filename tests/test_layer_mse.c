/* The [mse] regression head on the device against clt_ref_mse (float64): predictions copied
 * to y, dx = 2 (x - t) / N in training, the squared-error and absolute-error sums into the
 * metrics (loss sum; the "correct" slot holds the absolute errors, whose mean is the MAE),
 * the non-finite flag, inference without targets, and the shapes it refuses.
 * Tolerances: y exact; dx 1e-6 of max |ref|; mean loss and MAE 1e-6 relative. */
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
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

static clt_ctx *ctx;

static void *head_create(void) {
  clt_shape out;
  void *self = clt_test_layer_build(&clt_layer_mse, "[net]\ninput = 1x1x1\n\n[mse]\n",
                                    (clt_shape){1, 1, 1}, &out, ctx);
  clt_test_expect_shape(out, 1, 1, 1);
  return self;
}

/* Targets as the float bits the labels buffer carries. */
static cl_mem upload_targets(const double *t, int n) {
  int32_t *bits = malloc((size_t)n * sizeof *bits);
  assert_non_null(bits);
  for (int s = 0; s < n; s++) {
    float f = (float)t[s];
    memcpy(&bits[s], &f, sizeof f);
  }
  cl_mem mem = NULL;
  OK(clt_buffer_create(ctx, (size_t)n * sizeof(int32_t), &mem));
  OK(clt_buffer_write(ctx, mem, 0, (size_t)n * sizeof(int32_t), bits));
  free(bits);
  return mem;
}

static void check_case(int n, uint32_t seed, int training) {
  double *x = clt_test_random((size_t)n, -3.0, 3.0, seed);
  double *t = clt_test_random((size_t)n, -2.0, 2.0, seed + 100);
  double *dx = clt_test_alloc((size_t)n), *got = clt_test_alloc((size_t)n), mae = 0;
  double loss = clt_ref_mse(n, x, t, dx, &mae);
  void *head = head_create();
  clt_layer_sizes sizes;
  clt_layer_mse.sizes(head, n, &sizes);
  assert_int_equal(sizes.needs_labels, 1);
  assert_int_equal(sizes.param_count, 0);
  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = n;
  pass.training = training;
  pass.x = clt_test_upload(ctx, x, (size_t)n);
  pass.y = clt_test_filled(ctx, (size_t)n, 9.0);
  pass.dx = clt_test_filled(ctx, (size_t)n, 7.0);
  pass.saved = clt_test_filled(ctx, sizes.saved_floats, 0.0);
  pass.labels = upload_targets(t, n);
  pass.metrics = clt_test_filled(ctx, CLT_METRIC_FLOATS, 0.0);
  OK(clt_layer_mse.forward(head, &pass));
  OK(clt_layer_mse.backward(head, &pass));
  clt_test_download(ctx, pass.y, got, (size_t)n);
  for (int s = 0; s < n; s++) assert_true(got[s] == x[s]);
  clt_test_download(ctx, pass.dx, got, (size_t)n);
  if (training) {
    EXPECT_CLOSE("mse dx", got, dx, (size_t)n, 0.0, 1e-6);
  } else {
    for (int s = 0; s < n; s++) assert_true(got[s] == 7.0); /* untouched */
  }
  double m[CLT_METRIC_FLOATS];
  clt_test_download(ctx, pass.metrics, m, CLT_METRIC_FLOATS);
  double mean = m[CLT_METRIC_LOSS_SUM] / n, mean_abs = m[CLT_METRIC_CORRECT] / n;
  EXPECT_CLOSE("mse loss", &mean, &loss, 1, 1.0, 1e-6);
  EXPECT_CLOSE("mse mae", &mean_abs, &mae, 1, 1.0, 1e-6);
  assert_true(m[CLT_METRIC_COUNT] == (double)n);
  assert_true(m[CLT_METRIC_NONFINITE] == 0.0);
  clt_test_pass_release(&pass);
  clt_layer_mse.destroy(head);
  free(x);
  free(t);
  free(dx);
  free(got);
}

static void test_training(void **state) {
  (void)state;
  check_case(1, 1, 1);
  check_case(37, 2, 1);
  check_case(600, 3, 1); /* more samples than one reduction work-group */
}

static void test_evaluation(void **state) {
  (void)state;
  check_case(37, 4, 0);
}

static void test_inference_and_nonfinite(void **state) {
  (void)state;
  double x[4] = {1, -2, 3, 0.5}, t[4] = {0, 0, 0, 0}, got[4];
  void *head = head_create();
  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = 4;
  pass.x = clt_test_upload(ctx, x, 4);
  pass.y = clt_test_filled(ctx, 4, 0.0);
  pass.metrics = clt_test_filled(ctx, CLT_METRIC_FLOATS, 0.0);
  OK(clt_layer_mse.forward(head, &pass)); /* no targets: predictions only */
  clt_test_download(ctx, pass.y, got, 4);
  for (int i = 0; i < 4; i++) assert_true(got[i] == x[i]);
  double m[CLT_METRIC_FLOATS];
  clt_test_download(ctx, pass.metrics, m, CLT_METRIC_FLOATS);
  assert_true(m[CLT_METRIC_COUNT] == 0.0);
  /* A NaN prediction raises the flag. */
  clt_test_pass_release(&pass);
  x[2] = NAN;
  pass.x = clt_test_upload(ctx, x, 4);
  pass.y = clt_test_filled(ctx, 4, 0.0);
  pass.saved = clt_test_filled(ctx, 8, 0.0);
  pass.labels = upload_targets(t, 4);
  pass.metrics = clt_test_filled(ctx, CLT_METRIC_FLOATS, 0.0);
  OK(clt_layer_mse.forward(head, &pass));
  clt_test_download(ctx, pass.metrics, m, CLT_METRIC_FLOATS);
  assert_true(m[CLT_METRIC_NONFINITE] == 1.0);
  clt_test_pass_release(&pass);
  clt_layer_mse.destroy(head);
}

static void test_infer_errors(void **state) {
  (void)state;
  clt_shape in = {1, 1, 3};
  assert_int_equal(clt_test_layer_expect_bad(&clt_layer_mse, "[net]\ninput = 1x1x3\n[mse]\n",
                                             CLT_TEST_STEP_INFER, &in, 3,
                                             "add a [dense] layer with units = 1 before [mse]"),
                   CLT_TEST_STEP_INFER);
  in = (clt_shape){2, 2, 1};
  assert_int_equal(clt_test_layer_expect_bad(&clt_layer_mse, "[net]\ninput = 2x2x1\n[mse]\n",
                                             CLT_TEST_STEP_INFER, &in, 3, "gets 2x2x1"),
                   CLT_TEST_STEP_INFER);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_training),
      cmocka_unit_test(test_evaluation),
      cmocka_unit_test(test_inference_and_nonfinite),
      cmocka_unit_test(test_infer_errors),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
