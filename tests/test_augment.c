/* cl/augment.cl through train/augment.h against the host reference (ref/ref_augment.h): the
 * transform is pure index arithmetic, so the device output must equal the reference bit for
 * bit, for odd sizes, 1 and 3 channels, crop padding 0 to 4, flip on and off and a partial
 * batch; nothing is done when augmentation is off; the same seed and step give the same
 * batch, another seed or step another one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref_augment.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "train/augment.h"
#include "util/expect.h"
#include "util/test_util.h"

static clt_ctx *ctx;

static clt_recipe recipe(int h, int w, int c, int pad, int flip, uint32_t seed) {
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.in_h = h;
  r.in_w = w;
  r.in_c = c;
  r.augment_crop = pad;
  r.augment_flip = flip ? CLT_FLIP_HORIZONTAL : CLT_FLIP_NONE;
  r.seed = seed;
  return r;
}

/* Distinct nonzero values (so that a wrong index or a missed zero shows). */
static float *make_images(int n, int h, int w, int c) {
  size_t count = (size_t)n * h * w * c;
  float *x = malloc(count * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < count; i++)
    x[i] = 1.0f + (float)i + 0.25f * clt_uniform(3, 4, (uint32_t)i);
  return x;
}

/* The device's augmentation of n samples of x ([batch, h, w, c] planned) for step into out
 * (host, [n, h, w, c]); the output buffer starts as junk. */
static void device_augment(const clt_recipe *r, int batch, int n, const float *x, uint32_t step,
                           float *out) {
  clt_augmenter a;
  OK(clt_augmenter_create(ctx, r, batch, &a));
  assert_true(a.active);
  size_t floats = (size_t)n * r->in_h * r->in_w * r->in_c;
  cl_mem y = clt_test_filled(ctx, (size_t)batch * r->in_h * r->in_w * r->in_c, -777.0);
  cl_mem target = clt_augmenter_target(&a, y);
  assert_true(target == a.scratch);
  OK(clt_buffer_write(ctx, target, 0, floats * sizeof(float), x));
  OK(clt_augmenter_apply(&a, ctx, y, n, step, 0));
  OK(clt_buffer_read(ctx, y, 0, floats * sizeof(float), out));
  clt_buffer_release(&y);
  clt_augmenter_release(&a);
}

static void check_case(int h, int w, int c, int pad, int flip, int batch, int n, uint32_t step) {
  clt_recipe r = recipe(h, w, c, pad, flip, 1234);
  size_t count = (size_t)n * h * w * c;
  float *x = make_images(batch, h, w, c);
  float *got = malloc(count * sizeof *got), *want = malloc(count * sizeof *want);
  assert_non_null(got);
  assert_non_null(want);
  device_augment(&r, batch, n, x, step, got);
  clt_ref_augment(x, want, n, h, w, c, pad, flip, r.seed, step);
  size_t bad = 0, first = count;
  for (size_t i = 0; i < count; i++)
    if (memcmp(&got[i], &want[i], sizeof(float)) != 0 && bad++ == 0) first = i;
  if (bad)
    fail_msg("%dx%dx%d pad %d flip %d, %d of %d samples, step %u: %zu of %zu floats differ, the "
             "first at %zu (device %g, reference %g)",
             h, w, c, pad, flip, n, batch, step, bad, count, first, got[first], want[first]);
  free(x);
  free(got);
  free(want);
}

static void test_matches_reference(void **state) {
  (void)state;
  static const int shapes[][3] = {{5, 7, 1}, {7, 5, 3}, {9, 9, 1}, {6, 11, 3}, {28, 28, 1}};
  int cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int pad = 0; pad <= 4; pad++)
      for (int flip = 0; flip <= 1; flip++) {
        if (pad == 0 && !flip) continue; /* off: see test_off_is_identity */
        int h = shapes[s][0], w = shapes[s][1], c = shapes[s][2];
        check_case(h, w, c, pad, flip, 13, 13, 5u + (uint32_t)pad);
        check_case(h, w, c, pad, flip, 13, 6, 1000u); /* a last, partial batch */
        cases += 2;
      }
  fprintf(stderr, "%d cases equal to the reference bit for bit\n", cases);
}

/* Padding up to the image's size less one: everything but one row or column can be zero. */
static void test_largest_padding(void **state) {
  (void)state;
  check_case(5, 7, 3, 4, 1, 40, 40, 0);
  check_case(3, 3, 2, 2, 0, 40, 33, 77);
}

/* The reference itself is what it claims, built the way the transform is usually described:
 * pad the image with p zeros on every side, cut the H x W window whose corner is at
 * (p + dy, p + dx), then mirror it left to right when flipped. */
static void test_reference_semantics(void **state) {
  (void)state;
  enum { H = 5, W = 6, C = 2, N = 30, P = 2, PH = H + 2 * P, PW = W + 2 * P };
  float *x = make_images(N, H, W, C), *y = malloc(sizeof(float) * N * H * W * C);
  assert_non_null(y);
  clt_ref_augment(x, y, N, H, W, C, P, 1, 9, 3);
  int flipped = 0, shifted = 0;
  for (int s = 0; s < N; s++) {
    float padded[PH][PW][C], window[H][W][C];
    memset(padded, 0, sizeof padded);
    for (int i = 0; i < H; i++)
      for (int j = 0; j < W; j++)
        for (int ch = 0; ch < C; ch++) padded[P + i][P + j][ch] = x[((s * H + i) * W + j) * C + ch];
    clt_augment_draw d = clt_ref_augment_draw(9, 3, s, P, 1);
    for (int i = 0; i < H; i++)
      for (int j = 0; j < W; j++)
        for (int ch = 0; ch < C; ch++) window[i][j][ch] = padded[P + d.dy + i][P + d.dx + j][ch];
    for (int i = 0; i < H; i++)
      for (int j = 0; j < W; j++)
        for (int ch = 0; ch < C; ch++) {
          float want = window[i][d.flipped ? W - 1 - j : j][ch];
          assert_true(y[((s * H + i) * W + j) * C + ch] == want);
        }
    flipped += d.flipped;
    shifted += d.dy != 0 || d.dx != 0;
  }
  assert_true(flipped > 0 && flipped < N); /* both kinds were checked */
  assert_true(shifted > 0);
  free(x);
  free(y);
}

/* Off: no scratch buffer, the batch goes straight to the input and apply does nothing. */
static void test_off_is_identity(void **state) {
  (void)state;
  clt_recipe r = recipe(8, 8, 3, 0, 0, 1);
  clt_augmenter a;
  OK(clt_augmenter_create(ctx, &r, 16, &a));
  assert_false(a.active);
  assert_null(a.scratch);
  cl_mem y = clt_test_filled(ctx, 16 * 8 * 8 * 3, 0.5);
  assert_true(clt_augmenter_target(&a, y) == y);
  OK(clt_augmenter_apply(&a, ctx, y, 16, 3, 0));
  double back[16 * 8 * 8 * 3];
  clt_test_download(ctx, y, back, 16 * 8 * 8 * 3);
  for (int i = 0; i < 16 * 8 * 8 * 3; i++) assert_true(back[i] == 0.5);
  clt_buffer_release(&y);
  clt_augmenter_release(&a);
  /* and a recipe that does not fit its input is refused */
  r = recipe(1, 1, 10, 0, 1, 1);
  EXPECT_FAIL(clt_augmenter_create(ctx, &r, 4, &a), CLT_ERR_USAGE, "not an image");
  clt_augmenter_release(&a);
}

/* Same seed and step: the same batch, bit for bit; another seed or step: another batch. */
static void test_reproducible(void **state) {
  (void)state;
  enum { H = 12, W = 12, C = 1, N = 32 };
  size_t count = (size_t)N * H * W * C;
  float *x = make_images(N, H, W, C);
  float *a = malloc(count * 4), *b = malloc(count * 4), *c = malloc(count * 4),
        *d = malloc(count * 4);
  assert_true(a && b && c && d);
  clt_recipe r = recipe(H, W, C, 3, 1, 42), other = recipe(H, W, C, 3, 1, 43);
  device_augment(&r, N, N, x, 17, a);
  device_augment(&r, N, N, x, 17, b);
  device_augment(&other, N, N, x, 17, c);
  device_augment(&r, N, N, x, 18, d);
  assert_memory_equal(a, b, count * 4);
  int differ_seed = 0, differ_step = 0, moved = 0;
  size_t sample = (size_t)H * W * C;
  for (int s = 0; s < N; s++) {
    differ_seed += memcmp(a + s * sample, c + s * sample, sample * 4) != 0;
    differ_step += memcmp(a + s * sample, d + s * sample, sample * 4) != 0;
    moved += memcmp(a + s * sample, x + s * sample, sample * 4) != 0;
  }
  fprintf(stderr,
          "of %d samples: %d changed by augmentation, %d differ with another seed, %d "
          "with the next step\n",
          N, moved, differ_seed, differ_step);
  /* a sample is left as it was (dy = dx = 0, not flipped) with probability 1/98 */
  assert_true(moved >= N - 3);
  assert_true(differ_seed >= N - 3);
  assert_true(differ_step >= N - 3);
  free(x);
  free(a);
  free(b);
  free(c);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_reference),   cmocka_unit_test(test_largest_padding),
      cmocka_unit_test(test_reference_semantics), cmocka_unit_test(test_off_is_identity),
      cmocka_unit_test(test_reproducible),
  };
  return CLT_RUN_DEVICE_TESTS(tests, &ctx, NULL, NULL);
}
