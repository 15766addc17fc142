/* The bias + activation epilogue of the engine's SGEMM kernels (clt_sgemm_epi, gemm.h):
 * C = act(alpha op(A) op(B) + beta C + bias) against a float64 reference, with every engine
 * variant the device runs (register tiles, packings, both cache blockings, split K, the
 * local-memory tiling), every transpose pair, m, n, k of 1, primes and tile edges, k = 0,
 * offsets and leading dimensions, alpha and beta, each activation with and without bias.
 * For linear, relu and leaky_relu the fused result must equal, bit for bit, the plain
 * product with the epilogue applied afterwards in float (what cl/bias_act.cl computes): the
 * layers may switch between the fused and the separate path without changing results.
 *
 * Tolerance against the reference: 1e-5 of max(1, |ref|) as in test_gemm_engine (k <= 263
 * terms of O(1) products; exp and tanh within a few ulp); a missing or misplaced bias or a
 * wrong activation is O(0.1) or more. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/activation.h"
#include "ref/ref.h"
#include "runtime/gemm.h"
#include "runtime/gemm_choose.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/gemm_case.h"
#include "util/temp_files.h"
#include "util/test_util.h"

typedef clt_gemm_case case_;

/* Primes, 1, edges of every tile, whole tiles (64 x 96: the vector store of full tiles),
 * k past the blocked variants' K blocks, both operands transposed, k = 0 (C = act(beta C +
 * bias)). */
static const case_ cases[] = {
    {CLT_N, CLT_N, 37, 41, 13},  {CLT_N, CLT_T, 1, 53, 7},    {CLT_T, CLT_N, 29, 1, 31},
    {CLT_N, CLT_T, 67, 33, 131}, {CLT_T, CLT_N, 19, 47, 137}, {CLT_N, CLT_N, 2, 3, 1},
    {CLT_T, CLT_T, 23, 35, 19},  {CLT_N, CLT_N, 71, 97, 263}, {CLT_N, CLT_T, 9, 40, 0},
    {CLT_N, CLT_T, 64, 96, 33},  {CLT_T, CLT_T, 1, 1, 1},
};
#define NCASES (sizeof cases / sizeof cases[0])

typedef struct epi_kind {
  int bias;
  clt_activation act;
} epi_kind;

static const epi_kind epis[] = {
    {1, CLT_ACT_LINEAR},  {0, CLT_ACT_RELU}, {1, CLT_ACT_LEAKY_RELU},
    {1, CLT_ACT_SIGMOID}, {1, CLT_ACT_TANH}, {1, CLT_ACT_RELU},
};
#define NEPIS  (sizeof epis / sizeof epis[0])
#define SLOPE  0.1f
#define ALPHA  0.5f
#define BETA   -1.0f
#define C_INIT 2.0

/* The epilogue in float, as cl/bias_act.cl applies it to a stored product. */
static float host_epilogue(float y, float bias, const epi_kind *e) {
  float z = y;
  if (e->bias) z = z + bias;
  switch (e->act) {
  case CLT_ACT_RELU:
    return fmaxf(z, 0.0f);
  case CLT_ACT_LEAKY_RELU:
    return z > 0.0f ? z : SLOPE * z;
  case CLT_ACT_SIGMOID:
    return 1.0f / (1.0f + expf(-z));
  case CLT_ACT_TANH:
    return tanhf(z);
  default:
    return z;
  }
}

/* Runs case c with the current variant, with epilogue e (NULL: clt_sgemm), operands laid
 * out as util/gemm_case.h says, C holding C_INIT, alpha ALPHA, beta BETA; C's m x n values
 * into got (nothing outside them may change). Returns clt_sgemm_epi's fused flag (1 for
 * clt_sgemm). */
static int run(clt_ctx *ctx, const case_ *c, const double *a, const double *b, cl_mem bias,
               const epi_kind *e, double *got) {
  clt_gemm_case_buffers o;
  clt_gemm_case_upload(ctx, c, a, b, C_INIT, &o);
  int fused = 1;
  if (e) {
    clt_gemm_epi epi = {e->bias ? bias : NULL, (int)e->act, SLOPE};
    OK(clt_sgemm_epi(ctx, c->ta, c->tb, c->m, c->n, c->k, ALPHA, o.a, CLT_GEMM_CASE_A_OFFSET, o.lda,
                     o.b, CLT_GEMM_CASE_B_OFFSET, o.ldb, BETA, o.c, CLT_GEMM_CASE_C_OFFSET, o.ldc,
                     &epi, &fused));
  } else {
    OK(clt_sgemm(ctx, c->ta, c->tb, c->m, c->n, c->k, ALPHA, o.a, CLT_GEMM_CASE_A_OFFSET, o.lda,
                 o.b, CLT_GEMM_CASE_B_OFFSET, o.ldb, BETA, o.c, CLT_GEMM_CASE_C_OFFSET, o.ldc));
  }
  clt_gemm_case_collect(ctx, c, &o, got);
  return fused;
}

/* 1 when v builds the same program as first (the same tile and no cache blocking): there
 * every epilogue is covered at the price of one program each; other variants take one
 * epilogue each (PoCL compiles a program for seconds when its own cache is cold). The
 * epilogue's code is the same for every tile, so the smallest tile (the cheapest to compile)
 * is the one that takes them all. */
static int same_program(const clt_gemm_variant *v, const clt_gemm_variant *first) {
  if (v->kind != first->kind) return 0;
  if (v->kind == CLT_GEMM_LOCAL)
    return v->ts == first->ts && v->wm == first->wm && v->wn == first->wn && v->kt == first->kt;
  return v->mr == first->mr && v->nv == first->nv && v->ku == first->ku && v->mb == first->mb &&
         v->nb == first->nb && v->kc == first->kc;
}

/* The epilogue of variant j of v[]: one per program (that of the first variant building
 * it), so that packings of one tile share one more program. */
static size_t epi_of(const clt_gemm_variant *v, int j) {
  int i = 0;
  while (i < j && !same_program(&v[i], &v[j])) i++;
  return (size_t)i % NEPIS;
}

/* Checks variant v (index j) on case c with epilogue e against want_plain (the double
 * product) and plain (this variant's own plain float result). */
static void check_one(clt_ctx *ctx, const clt_gemm_variant *v, size_t ci, const epi_kind *e,
                      const double *a, const double *b, const double *hbias, cl_mem bias,
                      const double *want_plain, const double *plain) {
  const case_ *c = &cases[ci];
  size_t mn = c->m * c->n;
  char name[48], what[160];
  clt_gemm_variant_name(v, name, sizeof name);
  snprintf(what, sizeof what, "%s, case %zu (%zux%zux%zu), bias %d, %s", name, ci, c->m, c->n, c->k,
           e->bias, clt_activation_name(e->act));
  double *got = clt_test_alloc(mn), *want = clt_test_alloc(mn);
  if (!run(ctx, c, a, b, bias, e, got)) fail_msg("%s: not fused by an engine variant", what);
  for (size_t i = 0; i < c->m; i++)
    for (size_t j = 0; j < c->n; j++) {
      double z = ALPHA * want_plain[i * c->n + j] + BETA * C_INIT + (e->bias ? hbias[j] : 0.0);
      want[i * c->n + j] = clt_ref_act(e->act, SLOPE, z);
    }
  if (clt_test_rel_error(what, got, want, mn, 1.0, 1e-5) > 1e-5) fail_msg("%s", what);
  int exact = e->act == CLT_ACT_LINEAR || e->act == CLT_ACT_RELU || e->act == CLT_ACT_LEAKY_RELU;
  for (size_t i = 0; exact && i < c->m; i++)
    for (size_t j = 0; j < c->n; j++) {
      float sep = host_epilogue((float)plain[i * c->n + j], (float)hbias[j], e);
      if ((float)got[i * c->n + j] != sep)
        fail_msg("%s: C[%zu][%zu] fused %.9g, separate %.9g", what, i, j, got[i * c->n + j],
                 (double)sep);
    }
  free(got), free(want);
}

static void test_epilogue_every_variant(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_gemm_variant v[40];
  int nv = clt_gemm_check_variants(ctx, v, 36);
  if (nv > 0 && v[nv - 1].kind == CLT_GEMM_CLBLAST) nv--; /* no epilogue: test_layer_dense */
  /* The small tile that takes every epilogue, with split K (its reduce kernel stores C)
   * and both operands packed. */
  static const char *const extra[] = {"cpu:3x16:k1", "cpu:3x16:k1:s3", "cpu:3x16:k1:pa:pb"};
  for (int i = 0; i < 3; i++)
    if (clt_gemm_variant_parse(extra[i], &v[nv]) && clt_gemm_variant_fits(ctx, &v[nv])) nv++;
  assert_true(nv >= 2);
  clt_gemm_variant first;
  assert_true(clt_gemm_variant_parse(extra[0], &first));
  for (size_t ci = 0; ci < NCASES; ci++) {
    const case_ *c = &cases[ci];
    double *a = clt_test_random(c->m * c->k, -1, 1, 300 + (uint32_t)ci);
    double *b = clt_test_random(c->k * c->n, -1, 1, 400 + (uint32_t)ci);
    double *hbias = clt_test_random(c->n, -1.5, 1.5, 500 + (uint32_t)ci);
    double *want_plain = clt_test_alloc(c->m * c->n), *plain = clt_test_alloc(c->m * c->n);
    cl_mem bias = clt_test_upload(ctx, hbias, c->n);
    clt_gemm_case_reference(c, a, b, want_plain);
    for (int j = 0; j < nv; j++) {
      clt_gemm_force(ctx, &v[j]);
      run(ctx, c, a, b, bias, NULL, plain);
      int all = same_program(&v[j], &first);
      for (size_t ei = 0; ei < NEPIS; ei++)
        if (all || ei == epi_of(v, j))
          check_one(ctx, &v[j], ci, &epis[ei], a, b, hbias, bias, want_plain, plain);
    }
    clt_gemm_force(ctx, NULL);
    clReleaseMemObject(bias);
    free(a), free(b), free(hbias), free(want_plain), free(plain);
  }
}

/* No epilogue asked (no bias, linear): the plain product, reported as fused (nothing left
 * for the caller to do); and m = 0 does nothing. */
static void test_empty_epilogue(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  const case_ *c = &cases[0];
  double *a = clt_test_random(c->m * c->k, -1, 1, 7), *b = clt_test_random(c->k * c->n, -1, 1, 8);
  double *want = clt_test_alloc(c->m * c->n), *got = clt_test_alloc(c->m * c->n);
  clt_gemm_case_reference(c, a, b, want);
  for (size_t e = 0; e < c->m * c->n; e++) want[e] = ALPHA * want[e] + BETA * C_INIT;
  clt_gemm_variant v;
  assert_true(clt_gemm_variant_parse("cpu:8x32:k4", &v));
  clt_gemm_force(ctx, &v);
  static const epi_kind none = {0, CLT_ACT_LINEAR};
  assert_true(run(ctx, c, a, b, NULL, &none, got));
  assert_true(clt_test_rel_error("no epilogue", got, want, c->m * c->n, 1.0, 1e-5) <= 1e-5);
  int fused = 0;
  clt_gemm_epi epi = {NULL, CLT_ACT_RELU, 0.0f};
  OK(clt_sgemm_epi(ctx, CLT_N, CLT_N, 0, 5, 3, 1.0f, NULL, 0, 3, NULL, 0, 5, 0.0f, NULL, 0, 5, &epi,
                   &fused));
  assert_int_equal(fused, 1);
  clt_gemm_force(ctx, NULL);
  free(a), free(b), free(want), free(got);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("default-cache"), 1);
  setenv("CLTRAIN_GEMM", "default", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_epilogue),
      cmocka_unit_test(test_epilogue_every_variant),
  };
  int failed = CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
