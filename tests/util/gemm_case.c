/* SGEMM test cases with padded operands (gemm_case.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "util/gemm_case.h"
#include "util/test_util.h"

#define JUNK_AB 1e6
#define JUNK_C  9.0

void clt_gemm_case_reference(const clt_gemm_case *c, const double *a, const double *b,
                             double *out) {
  for (size_t i = 0; i < c->m; i++)
    for (size_t j = 0; j < c->n; j++) {
      double s = 0;
      for (size_t p = 0; p < c->k; p++)
        s += a[c->ta == CLT_T ? p * c->m + i : i * c->k + p] *
             b[c->tb == CLT_T ? j * c->k + p : p * c->n + j];
      out[i * c->n + j] = s;
    }
}

void clt_gemm_case_upload(clt_ctx *ctx, const clt_gemm_case *c, const double *a, const double *b,
                          double c_init, clt_gemm_case_buffers *bufs) {
  size_t ar = c->ta == CLT_T ? c->k : c->m, ac = c->ta == CLT_T ? c->m : c->k;
  size_t br = c->tb == CLT_T ? c->n : c->k, bc = c->tb == CLT_T ? c->k : c->n;
  size_t lda = ac + 2, ldb = bc + 1, ldc = c->n + 3;
  size_t na = CLT_GEMM_CASE_A_OFFSET + ar * lda, nb = CLT_GEMM_CASE_B_OFFSET + br * ldb;
  size_t nc = CLT_GEMM_CASE_C_OFFSET + c->m * ldc + 16;
  double *ha = clt_test_alloc(na), *hb = clt_test_alloc(nb), *hc = clt_test_alloc(nc);
  for (size_t i = 0; i < na; i++) ha[i] = JUNK_AB; /* a kernel reading it shows */
  for (size_t i = 0; i < nb; i++) hb[i] = JUNK_AB;
  for (size_t i = 0; i < nc; i++) hc[i] = JUNK_C;
  for (size_t r = 0; r < ar; r++)
    for (size_t q = 0; q < ac; q++) ha[CLT_GEMM_CASE_A_OFFSET + r * lda + q] = a[r * ac + q];
  for (size_t r = 0; r < br; r++)
    for (size_t q = 0; q < bc; q++) hb[CLT_GEMM_CASE_B_OFFSET + r * ldb + q] = b[r * bc + q];
  for (size_t i = 0; i < c->m; i++)
    for (size_t j = 0; j < c->n; j++) hc[CLT_GEMM_CASE_C_OFFSET + i * ldc + j] = c_init;
  bufs->a = clt_test_upload(ctx, ha, na);
  bufs->b = clt_test_upload(ctx, hb, nb);
  bufs->c = clt_test_upload(ctx, hc, nc);
  bufs->lda = lda, bufs->ldb = ldb, bufs->ldc = ldc, bufs->c_floats = nc;
  free(ha), free(hb), free(hc);
}

void clt_gemm_case_collect(clt_ctx *ctx, const clt_gemm_case *c, clt_gemm_case_buffers *bufs,
                           double *got) {
  size_t nc = bufs->c_floats, ldc = bufs->ldc;
  double *after = clt_test_alloc(nc);
  clt_test_download(ctx, bufs->c, after, nc);
  for (size_t i = 0; i < nc; i++) {
    size_t e = i - CLT_GEMM_CASE_C_OFFSET;
    int inside = i >= CLT_GEMM_CASE_C_OFFSET && e / ldc < c->m && e % ldc < c->n;
    if (inside)
      got[(e / ldc) * c->n + e % ldc] = after[i];
    else if (after[i] != JUNK_C)
      fail_msg("float %zu outside C changed to %g", i, after[i]);
  }
  free(after);
  clReleaseMemObject(bufs->a);
  clReleaseMemObject(bufs->b);
  clReleaseMemObject(bufs->c);
}
