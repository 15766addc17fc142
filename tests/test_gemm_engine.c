/* The engine's SGEMM kernels (runtime/gemm_engine.h) and their chooser (gemm_choose.h):
 * every variant the device can run against a float64 reference in the three layouts the
 * layers use, with offsets, leading dimensions, alpha and beta; every engine variant giving
 * the same bits (what makes a resumed run compute as the run it resumes); variant names;
 * and the stored choices: written on first use, reloaded without timing, a damaged or
 * foreign file ignored and decided again. No timing is asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm.h"
#include "runtime/gemm_choose.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/gemm_case.h"
#include "util/temp_files.h"
#include "util/test_util.h"

typedef clt_gemm_case case_;

static const case_ cases[] = {
    {CLT_N, CLT_N, 37, 41, 13},  {CLT_N, CLT_T, 1, 53, 7},    {CLT_T, CLT_N, 29, 1, 31},
    {CLT_N, CLT_T, 67, 33, 131}, {CLT_T, CLT_N, 19, 47, 137}, {CLT_N, CLT_N, 2, 3, 1},
    {CLT_T, CLT_T, 23, 35, 19},  {CLT_N, CLT_N, 71, 97, 263}, {CLT_N, CLT_T, 9, 40, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Runs case c with the current variant, operands laid out as util/gemm_case.h says, C
 * holding 2.0, alpha 0.5, beta -1; C's m x n values into got (nothing outside them may
 * change). */
static void run_case(clt_ctx *ctx, const case_ *c, const double *a, const double *b, double *got) {
  clt_gemm_case_buffers o;
  clt_gemm_case_upload(ctx, c, a, b, 2.0, &o);
  OK(clt_sgemm(ctx, c->ta, c->tb, c->m, c->n, c->k, 0.5f, o.a, CLT_GEMM_CASE_A_OFFSET, o.lda, o.b,
               CLT_GEMM_CASE_B_OFFSET, o.ldb, -1.0f, o.c, CLT_GEMM_CASE_C_OFFSET, o.ldc));
  clt_gemm_case_collect(ctx, c, &o, got);
}

static void test_every_variant(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_gemm_variant v[32];
  int nv = clt_gemm_check_variants(ctx, v, 32);
  assert_true(nv >= 2); /* an engine variant and CLBlast at least */
  /* CLBlast (last) is covered by test_gemm_tune and cltrain check: its kernels take minutes
   * to compile on rusticl. */
  if (v[nv - 1].kind == CLT_GEMM_CLBLAST) nv--;
  for (size_t i = 0; i < NCASES; i++) {
    const case_ *c = &cases[i];
    double *a = clt_test_random(c->m * c->k, -1, 1, 100 + (uint32_t)i);
    double *b = clt_test_random(c->k * c->n, -1, 1, 200 + (uint32_t)i);
    double *want = clt_test_alloc(c->m * c->n), *got = clt_test_alloc(c->m * c->n);
    double *first = clt_test_alloc(c->m * c->n);
    clt_gemm_case_reference(c, a, b, want);
    for (size_t e = 0; e < c->m * c->n; e++) want[e] = 0.5 * want[e] - 2.0;
    int engine_seen = 0;
    for (int j = 0; j < nv; j++) {
      char name[48];
      clt_gemm_variant_name(&v[j], name, sizeof name);
      clt_gemm_force(ctx, &v[j]);
      run_case(ctx, c, a, b, got);
      if (clt_test_rel_error(name, got, want, c->m * c->n, 1.0, 1e-5) > 1e-5)
        fail_msg("variant %s, case %zu (%zux%zux%zu)", name, i, c->m, c->n, c->k);
      if (!clt_gemm_variant_same_bits(&v[j])) continue; /* CLBlast, split K */
      /* Engine variants: bitwise the same results (same order of fma per element). */
      if (!engine_seen)
        memcpy(first, got, sizeof *got * c->m * c->n);
      else if (memcmp(first, got, sizeof *got * c->m * c->n) != 0)
        fail_msg("variant %s differs in bits from the first engine variant (case %zu)", name, i);
      engine_seen = 1;
    }
    clt_gemm_force(ctx, NULL);
    free(a), free(b), free(want), free(got), free(first);
  }
}

static void test_names(void **state) {
  (void)state;
  static const char *const good[] = {"clblast",
                                     "cpu:8x32:k4",
                                     "cpu:6x16:k1:pa",
                                     "cpu:4x64:k2:pa:pb",
                                     "cpu:8x32:k4:b8x128",
                                     "cpu:4x16:k4:pb:s8",
                                     "cpu:8x32:k4:n4x256",
                                     "local:16:4x4:k16"};
  static const char *const bad[] = {"",
                                    "cpu",
                                    "cpu:8x30:k4",
                                    "cpu:0x32:k4",
                                    "cpu:8x32:k4:px",
                                    "cpu:8x32:k4:b1x128",
                                    "cpu:8x32:k4:n1x256",
                                    "cpu:8x32:k4:pa:n4x256",
                                    "cpu:8x32:k4:n4x256:b8x128",
                                    "local:16:4x4",
                                    "gpu:1",
                                    "clblastx"};
  clt_gemm_variant v;
  char name[48];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_true(clt_gemm_variant_parse(good[i], &v));
    clt_gemm_variant_name(&v, name, sizeof name);
    assert_string_equal(name, good[i]);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(clt_gemm_variant_parse(bad[i], &v));
}

/* Programs (build options: tile, K unroll, blocking) among n candidates. */
static int programs(const clt_gemm_variant *c, int n) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = c[j].mr == c[i].mr && c[j].nv == c[i].nv && c[j].ku == c[i].ku && c[j].mb == c[i].mb &&
             c[j].kc == c[i].kc && c[j].nb == c[i].nb;
    count += !seen;
  }
  return count;
}

/* Start-up candidates on a 2-core PoCL CPU with the 8 x 32 default tile (no device id: the
 * vector width query fails): one program for every shape of fashion_cnn (each program more
 * is compiled on a first run); the narrow tile still for few tiles of C over a long k (conv
 * 1's weight gradient by im2col, 7x faster with it). No device needed. */
static void test_startup_candidate_programs(void **state) {
  (void)state;
  clt_device_info dev;
  memset(&dev, 0, sizeof dev);
  dev.kind = CLT_DEVICE_CPU;
  snprintf(dev.platform_name, sizeof dev.platform_name, "Portable Computing Language");
  dev.compute_units = 2;
  static const size_t shapes[][3] = {
      {576, 64, 576}, {64, 64, 576},  {64, 10, 64},    {10, 64, 64},    {64, 64, 10},
      {64, 576, 64},  {576, 576, 64}, {7744, 64, 288}, {64, 288, 7744}, {7744, 288, 64}};
  clt_gemm_variant c[32];
  clt_gemm_default_variant(&dev, &c[0]);
  assert_int_equal(c[0].nv, 2);
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    int n = clt_gemm_candidates_for(&dev, 0, shapes[i][0], shapes[i][1], shapes[i][2], c, 32);
    assert_true(n > 1);
    if (programs(c, n) != 1)
      fail_msg("%zux%zux%zu: %d programs among %d candidates, want 1", shapes[i][0], shapes[i][1],
               shapes[i][2], programs(c, n), n);
  }
  int n = clt_gemm_candidates_for(&dev, 0, 32, 9, 43264, c, 32), narrow = 0;
  for (int i = 0; i < n; i++) narrow |= c[i].mr < c[0].mr && c[i].ks <= 1;
  assert_true(narrow);
}

/* One small product through the chooser, on a fresh context with its cache in dir. */
static clt_ctx *one_call(const char *dir) {
  clt_ctx *ctx = clt_test_ctx_with(NULL, dir, 0);
  cl_mem a = clt_test_zeros(ctx, 64 * 64), b = clt_test_zeros(ctx, 64 * 64);
  cl_mem c = clt_test_zeros(ctx, 64 * 64);
  OK(clt_sgemm(ctx, CLT_N, CLT_T, 61, 37, 64, 1.0f, a, 0, 64, b, 0, 64, 0.0f, c, 0, 37));
  OK(clt_ctx_finish(ctx));
  clReleaseMemObject(a);
  clReleaseMemObject(b);
  clReleaseMemObject(c);
  return ctx;
}

static void test_stored_choices(void **state) {
  (void)state;
  char dir[512], path[4096], key[128];
  clt_test_make_subdir(dir, sizeof dir, "choices");
  setenv("CLTRAIN_GEMM", "auto", 1);
  /* First use: timed (where there is a choice: on CPU devices other than PoCL CLBlast is the
   * only start-up candidate) and stored. */
  clt_ctx *ctx = one_call(dir);
  clt_gemm_variant cands[32];
  int timed = clt_gemm_candidates_for(&ctx->dev, 0, 61, 37, 64, cands, 32) > 1;
  int shapes = 0;
  clt_gemm_selection_seconds(ctx, &shapes);
  assert_int_equal(shapes, timed);
  assert_int_equal(clt_gemm_choices_path(ctx, path, sizeof path), 0);
  clt_gemm_choices_key(ctx, key, sizeof key);
  clt_gemm_choice *stored = NULL;
  assert_int_equal(clt_gemm_choices_load(path, key, &stored), 1);
  assert_int_equal(stored[0].m, 61);
  assert_int_equal(stored[0].n, 37);
  assert_int_equal(stored[0].k, 64);
  assert_int_equal(stored[0].tb, CLT_T);
  assert_int_equal(stored[0].timed, 1);
  const clt_gemm_choice *last = clt_gemm_last(ctx);
  assert_non_null(last);
  assert_memory_equal(&last->variant, &stored[0].variant, sizeof last->variant);
  clt_ctx_destroy(ctx);
  /* Reloaded: the same decision, nothing timed. */
  ctx = one_call(dir);
  clt_gemm_selection_seconds(ctx, &shapes);
  assert_int_equal(shapes, 0);
  assert_memory_equal(&clt_gemm_last(ctx)->variant, &stored[0].variant, sizeof stored[0].variant);
  clt_ctx_destroy(ctx);
  /* A stored CLBlast decision is honoured (a resumed run computes as the original). */
  clt_gemm_choice forced = stored[0];
  memset(&forced.variant, 0, sizeof forced.variant);
  OK(clt_gemm_choices_save(path, key, &forced, 1));
  ctx = one_call(dir);
  assert_int_equal(clt_gemm_last(ctx)->variant.kind, CLT_GEMM_CLBLAST);
  clt_ctx_destroy(ctx);
  /* Damaged, truncated or foreign files: ignored, decided again, stored again. */
  char *foreign = NULL;
  const char *damaged[] = {"", "garbage\n", NULL, NULL};
  char wrong_key[160], bad_line[256];
  snprintf(wrong_key, sizeof wrong_key,
           "cltrain-gemm-choices-1 0123456789abcdef\nNT 61 37 64 "
           "clblast 1 0.001\n");
  snprintf(bad_line, sizeof bad_line, "%s\nNT 61 37 64 cpu:8x31:k4 1 0.001\n", key);
  damaged[2] = wrong_key;
  damaged[3] = bad_line;
  for (size_t i = 0; i < 4; i++) {
    clt_test_write_file(path, damaged[i], strlen(damaged[i]));
    ctx = one_call(dir);
    clt_gemm_selection_seconds(ctx, &shapes);
    assert_int_equal(shapes, timed);
    clt_ctx_destroy(ctx);
    clt_gemm_choice *again = NULL;
    assert_int_equal(clt_gemm_choices_load(path, key, &again), 1);
    free(again);
  }
  free(foreign);
  free(stored);
  /* A file whose key is not ours loads nothing. */
  assert_int_equal(clt_gemm_choices_load(path, "cltrain-gemm-choices-1 other", &stored), 0);
  /* CLTRAIN_GEMM=default: no timing, no file. */
  char dir2[512];
  clt_test_make_subdir(dir2, sizeof dir2, "choices-default");
  setenv("CLTRAIN_GEMM", "default", 1);
  ctx = one_call(dir2);
  clt_gemm_selection_seconds(ctx, &shapes);
  assert_int_equal(shapes, 0);
  clt_gemm_variant def;
  clt_gemm_default_variant(&ctx->dev, &def);
  assert_memory_equal(&clt_gemm_last(ctx)->variant, &def, sizeof def);
  assert_int_equal(clt_gemm_choices_path(ctx, path, sizeof path), 0);
  assert_int_equal(clt_gemm_choices_load(path, key, &stored), 0);
  clt_ctx_destroy(ctx);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("default-cache"), 1);
  setenv("CLTRAIN_GEMM", "default", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_every_variant),
      cmocka_unit_test(test_stored_choices),
      cmocka_unit_test(test_startup_candidate_programs),
  };
  int failed = CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
