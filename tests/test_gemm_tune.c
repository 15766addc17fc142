/* Tuned SGEMM parameters (runtime/gemm_tune.h): the constraints, the tuning file (round
 * trip, "defaults", damaged files), that a stored file is applied at context creation, and
 * that GEMM results with tuned parameters match those with CLBlast's defaults and a float64
 * reference within tolerance, for the transpose pairs the layers use. No timing is
 * asserted anywhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm.h"
#include "runtime/gemm_tune.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

/* A valid set far from CLBlast's defaults: other tiles, work-group shape, vector widths,
 * K unrolling and local-memory use. */
static void other_params(clt_gemm_params *p, size_t min_indirect) {
  static const size_t v[CLT_GEMM_PARAMS] = {0, 1, 16, 1, 4, 4, 32, 4, 4, 32, 0, 1, 0, 0, 2, 8};
  static const size_t d[CLT_GEMM_DIRECT_PARAMS] = {1, 4, 4, 4, 4, 0, 0, 2, 4, 16};
  memset(p, 0, sizeof *p);
  memcpy(p->v, v, sizeof v);
  memcpy(p->d, d, sizeof d);
  p->has_xgemm = p->has_direct = p->has_threshold = 1;
  p->min_indirect = min_indirect;
}

static void test_constraints(void **state) {
  (void)state;
  clt_gemm_params p;
  clt_gemm_params_default(&p);
  assert_true(clt_gemm_params_valid(&p, 1024, 32768));
  other_params(&p, 64);
  assert_true(clt_gemm_params_valid(&p, 1024, 32768));
  /* MWG not a multiple of MDIMC x VWM */
  clt_gemm_params q = p;
  q.v[6] = 16;
  q.v[14] = 8;
  assert_false(clt_gemm_params_valid(&q, 1024, 32768));
  /* KWG not a multiple of KWI */
  q = p;
  q.v[3] = 32;
  assert_false(clt_gemm_params_valid(&q, 1024, 32768));
  /* work-group too large for the device */
  clt_gemm_params_default(&q);
  assert_false(clt_gemm_params_valid(&q, 32, 32768));
  /* local memory too small for the cached tiles (SA, SB) */
  assert_false(clt_gemm_params_valid(&q, 1024, 1024));
  /* XgemmDirect: WGD not a multiple of MDIMCD x VWMD */
  q = p;
  q.d[9] = 8;
  assert_false(clt_gemm_params_valid(&q, 1024, 32768));
  /* threshold out of range */
  q = p;
  q.min_indirect = 0;
  assert_false(clt_gemm_params_valid(&q, 1024, 32768));
}

static void test_file_round_trip(void **state) {
  (void)state;
  const char *path = clt_test_tmp_path("tune-round-trip.txt");
  clt_gemm_params p, q;
  other_params(&p, 256);
  OK(clt_gemm_tune_save(path, "test-key", &p, "a test"));
  memset(&q, 0, sizeof q);
  int tuned = -1;
  assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 1);
  assert_int_equal(tuned, 1);
  assert_memory_equal(&p, &q, sizeof p);
  /* one kernel alone */
  p.has_xgemm = p.has_threshold = 0;
  OK(clt_gemm_tune_save(path, "test-key", &p, NULL));
  memset(&q, 0, sizeof q);
  assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 1);
  assert_int_equal(q.has_xgemm + q.has_threshold, 0);
  assert_int_equal(q.has_direct, 1);
  assert_memory_equal(p.d, q.d, sizeof p.d);

  OK(clt_gemm_tune_save(path, "test-key", NULL, NULL));
  tuned = -1;
  assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 1);
  assert_int_equal(tuned, 0);

  /* absent, empty, a missing parameter, a bad value: not loaded */
  assert_int_equal(
      clt_gemm_tune_load(clt_test_tmp_path("no-such-file.txt"), "test-key", &q, &tuned), 0);
  const char *bad[] = {"",
                       "# only a comment\n",
                       "Xgemm KWG=32 KWI=2\n",
                       "Xgemm GEMMK=0 KREG=1 KWG=x KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 "
                       "NWG=64 SA=1 SB=1 STRM=0 STRN=0 VWM=4 VWN=4\n",
                       "GemmRoutine XGEMM_MIN_INDIRECT_SIZE=64 FOO=1\n",
                       "Xgemmm KWG=1\n",
                       "defaults\nGemmRoutine XGEMM_MIN_INDIRECT_SIZE=64\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clt_test_write_file(path, bad[i], strlen(bad[i]));
    assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 0);
  }
  /* the file must prove its key: none, another one, or two are not loaded */
  const char *unkeyed[] = {"defaults\n", "key other-key\ndefaults\n",
                           "key test-key\nkey test-key\ndefaults\n"};
  for (size_t i = 0; i < sizeof unkeyed / sizeof unkeyed[0]; i++) {
    clt_test_write_file(path, unkeyed[i], strlen(unkeyed[i]));
    assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 0);
  }
  clt_test_write_file(path, "key test-key\ndefaults\n", 22);
  assert_int_equal(clt_gemm_tune_load(path, "test-key", &q, &tuned), 1);
}

/* A stored file in the cache folder is applied by clt_ctx_open; "defaults", a damaged
 * file and CLTRAIN_GEMM_TUNE=0 apply nothing. */
static void test_applied_at_start_up(void **state) {
  (void)state;
  char dir[512];
  clt_test_make_subdir(dir, sizeof dir, "tune-cache");
  clt_ctx *ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 0);
  char path[2048];
  assert_int_equal(clt_gemm_tune_path(ctx, path, sizeof path), 0);
  assert_non_null(strstr(path, dir));
  char key[1024];
  clt_gemm_tune_key(ctx, key, sizeof key);
  clt_ctx_destroy(ctx);

  clt_gemm_params p;
  clt_gemm_params_default(&p);
  p.has_xgemm = p.has_direct = 0;
  p.has_threshold = 1;
  p.min_indirect = 512;
  /* a valid file under this device's name but made for another device: not applied */
  OK(clt_gemm_tune_save(path, "another device|1.0|OpenCL 3.0", &p, NULL));
  ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 0);
  clt_ctx_destroy(ctx);

  OK(clt_gemm_tune_save(path, key, &p, NULL));
  ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 1);
  clt_ctx_destroy(ctx);

  setenv("CLTRAIN_GEMM_TUNE", "0", 1);
  ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 0);
  clt_ctx_destroy(ctx);
  unsetenv("CLTRAIN_GEMM_TUNE");

  OK(clt_gemm_tune_save(path, key, NULL, NULL));
  ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 0);
  clt_ctx_destroy(ctx);

  clt_test_write_file(path, "garbage\n", 8);
  ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_int_equal(ctx->gemm_tuned, 0);
  clt_ctx_destroy(ctx);
}

typedef struct case_ {
  clt_trans ta, tb;
  size_t m, n, k;
} case_;

/* Sizes that are no multiple of any tile, and one small product. */
static const case_ cases[] = {
    {CLT_N, CLT_N, 520, 515, 513},
    {CLT_N, CLT_T, 520, 515, 513},
    {CLT_T, CLT_N, 520, 515, 513},
    {CLT_N, CLT_T, 37, 29, 41},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void run_cases(clt_ctx *ctx, double **out) {
  for (size_t i = 0; i < NCASES; i++) {
    const case_ *c = &cases[i];
    double *a = clt_test_random(c->m * c->k, -1, 1, 11 + (uint32_t)i);
    double *b = clt_test_random(c->k * c->n, -1, 1, 23 + (uint32_t)i);
    cl_mem da = clt_test_upload(ctx, a, c->m * c->k), db = clt_test_upload(ctx, b, c->k * c->n);
    cl_mem dc = clt_test_filled(ctx, c->m * c->n, 7.0);
    size_t lda = c->ta == CLT_T ? c->m : c->k, ldb = c->tb == CLT_T ? c->k : c->n;
    OK(clt_sgemm(ctx, c->ta, c->tb, c->m, c->n, c->k, 1.0f, da, 0, lda, db, 0, ldb, 0.0f, dc, 0,
                 c->n));
    out[i] = clt_test_alloc(c->m * c->n);
    clt_test_download(ctx, dc, out[i], c->m * c->n);
    /* float64 reference */
    double *want = clt_test_alloc(c->m * c->n);
    for (size_t r = 0; r < c->m; r++)
      for (size_t col = 0; col < c->n; col++) {
        double s = 0;
        for (size_t k = 0; k < c->k; k++)
          s += a[c->ta == CLT_T ? k * c->m + r : r * c->k + k] *
               b[c->tb == CLT_T ? col * c->k + k : k * c->n + col];
        want[r * c->n + col] = s;
      }
    EXPECT_CLOSE("sgemm against float64", out[i], want, c->m * c->n, 1.0, 1e-5);
    free(want);
    free(a);
    free(b);
    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);
  }
}

static void test_tuned_matches_default(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  assert_non_null(ctx);
  assert_int_equal(ctx->gemm_tuned, 0); /* CLBlast's defaults first */
  double *def[NCASES], *tuned[NCASES];
  run_cases(ctx, def);
  /* Every product through the tuned Xgemm, then every one through the tuned XgemmDirect. */
  const size_t thresholds[2] = {1, 65536};
  for (int t = 0; t < 2; t++) {
    clt_gemm_params p;
    other_params(&p, thresholds[t]);
    if (!clt_gemm_params_valid(&p, ctx->dev.max_work_group, (size_t)ctx->dev.local_mem)) skip();
    OK(clt_gemm_params_apply(ctx, &p));
    run_cases(ctx, tuned);
    for (size_t i = 0; i < NCASES; i++) {
      EXPECT_CLOSE("tuned against default sgemm", tuned[i], def[i], cases[i].m * cases[i].n, 1.0,
                   1e-5);
      free(tuned[i]);
    }
  }
  for (size_t i = 0; i < NCASES; i++) free(def[i]);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  /* Never read or touch the user's cache (nor a tuning stored there). */
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("default-cache"), 1);
  unsetenv("CLTRAIN_GEMM_TUNE");
  setenv("CLTRAIN_GEMM", "clblast", 1); /* these tests are about CLBlast's parameters */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constraints),
      cmocka_unit_test(test_file_round_trip),
      cmocka_unit_test(test_tuned_matches_default),
      cmocka_unit_test(test_applied_at_start_up),
  };
  int failed = CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
