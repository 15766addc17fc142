/* Batches on the device (src/train/device_data.c): streamed loads, which stage the next batch
 * in order ahead of time, give exactly the samples of the resident gather, for loads in order,
 * out of order (a staged batch not taken), a short last batch, and a new order in the middle
 * of an epoch; and the data wait (src/train/data_wait.c) records one entry per load with a
 * profiling context, zero for resident data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/memory.h"
#include "train/data_wait.h"
#include "train/device_data.h"
#include "util/expect.h"
#include "util/test_util.h"

#define N      37 /* samples: 4 batches of 9 and one of 1 */
#define B      9
#define SAMPLE 5 /* floats per sample */

static clt_ctx *ctx;
static clt_dataset ds;

static int setup(void **state) {
  (void)state;
  clt_ctx *base = clt_test_ctx();
  clt_ctx_options opt = {0};
  opt.profiling = 1;
  if (clt_ctx_create(&base->dev, &opt, &ctx) != CLT_OK) return -1;
  ds.n = N;
  ds.h = 1;
  ds.w = SAMPLE;
  ds.c = 1;
  ds.classes = 10;
  ds.images = malloc(N * SAMPLE * sizeof(float));
  ds.labels = malloc(N * sizeof(int32_t));
  for (int i = 0; i < N * SAMPLE; i++) ds.images[i] = (float)i;
  for (int i = 0; i < N; i++) ds.labels[i] = i % 10;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  clt_ctx_destroy(ctx);
  free(ds.images);
  free(ds.labels);
  return 0;
}

/* Loads [start, start + n) through dd and checks x and labels against order. */
static void expect_load(clt_device_data *dd, cl_mem x, cl_mem y, const int32_t *order, int start,
                        int n) {
  float xs[B * SAMPLE];
  int32_t ys[B];
  OK(clt_device_data_load(dd, start, n, x, y));
  OK(clt_buffer_read(ctx, x, 0, (size_t)n * SAMPLE * sizeof(float), xs));
  OK(clt_buffer_read(ctx, y, 0, (size_t)n * sizeof(int32_t), ys));
  for (int i = 0; i < n; i++) {
    int idx = order[start + i];
    assert_int_equal(ys[i], idx % 10);
    for (int k = 0; k < SAMPLE; k++) assert_float_equal(xs[i * SAMPLE + k], idx * SAMPLE + k, 0);
  }
}

static void run_loads(int force_stream) {
  cl_mem x, y;
  OK(clt_buffer_create(ctx, B * SAMPLE * sizeof(float), &x));
  OK(clt_buffer_create(ctx, B * sizeof(int32_t), &y));
  clt_device_data *dd;
  OK(clt_device_data_create(ctx, &ds, B, force_stream, &dd));
  assert_int_equal(dd->resident, !force_stream);
  clt_data_wait wait;
  memset(&wait, 0, sizeof wait);
  dd->wait = &wait;
  int32_t order[N], other[N];
  for (int i = 0; i < N; i++) {
    order[i] = (i * 7 + 3) % N;
    other[i] = N - 1 - i;
  }
  OK(clt_device_data_set_order(dd, order));
  for (int s = 0; s < N; s += B) expect_load(dd, x, y, order, s, N - s < B ? N - s : B);
  /* Out of order: the batch staged ahead (at 9) is not taken. */
  expect_load(dd, x, y, order, 18, B);
  expect_load(dd, x, y, order, 0, 4);
  expect_load(dd, x, y, order, 36, 1);
  expect_load(dd, x, y, order, 9, B);
  /* A new order in the middle: nothing stale. */
  OK(clt_device_data_set_order(dd, other));
  expect_load(dd, x, y, other, 0, B);
  expect_load(dd, x, y, other, 9, B);
  OK(clt_ctx_finish(ctx));
  OK(clt_data_wait_collect(&wait));
  assert_int_equal(wait.loads, 5 + 4 + 2);
  assert_true(wait.wait_ms >= 0.0 && wait.busy_ms >= wait.wait_ms);
  if (!force_stream) assert_true(wait.wait_ms == 0.0);
  clt_device_data_destroy(dd);
  clt_data_wait_free(&wait);
  clt_buffer_release(&x);
  clt_buffer_release(&y);
}

static void test_resident(void **state) {
  (void)state;
  run_loads(0);
}

static void test_streamed(void **state) {
  (void)state;
  run_loads(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resident),
      cmocka_unit_test(test_streamed),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, teardown);
}
