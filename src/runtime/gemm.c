#include "runtime/gemm.h"

#include <clblast_c.h>

#include "runtime/cl_errors.h"
#include "runtime/memory.h"

static clt_status clblast_status(CLBlastStatusCode code, size_t m, size_t n, size_t k) {
  if (code == CLBlastSuccess) return CLT_OK;
  if (code > -1000) return clt_cl_fail((cl_int)code, "CLBlastSgemm", __FILE__, __LINE__);
  return clt_fail(code == CLBlastInsufficientMemoryTemp ? CLT_ERR_OUT_OF_MEMORY : CLT_ERR_DEVICE,
                  "CLBlastSgemm(m=%zu, n=%zu, k=%zu) failed with CLBlast status %d", m, n, k,
                  (int)code);
}

clt_status clt_sgemm(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                     float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                     size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
  if (m == 0 || n == 0) return CLT_OK;
  CLBlastStatusCode code =
      CLBlastSgemm(CLBlastLayoutRowMajor, ta == CLT_T ? CLBlastTransposeYes : CLBlastTransposeNo,
                   tb == CLT_T ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, a_off,
                   lda, b, b_off, ldb, beta, c, c_off, ldc, &ctx->compute, NULL);
  return clblast_status(code, m, n, k);
}

clt_status clt_gemm_warm_up(clt_ctx *ctx) {
  /* 80x80 is above CLBlast's "direct" threshold on no device but exercises the
   * same routine; both code paths compile on their first use. */
  const size_t s = 8;
  cl_mem a = NULL, b = NULL, c = NULL;
  clt_status st = clt_buffer_create(ctx, s * s * sizeof(float), &a);
  if (st == CLT_OK) st = clt_buffer_create(ctx, s * s * sizeof(float), &b);
  if (st == CLT_OK) st = clt_buffer_create(ctx, s * s * sizeof(float), &c);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, a, 0, s * s * sizeof(float));
  if (st == CLT_OK) st = clt_buffer_zero(ctx, b, 0, s * s * sizeof(float));
  for (int ta = 0; ta < 2 && st == CLT_OK; ta++)
    for (int tb = 0; tb < 2 && st == CLT_OK; tb++)
      st = clt_sgemm(ctx, (clt_trans)ta, (clt_trans)tb, s, s, s, 1.0f, a, 0, s, b, 0, s, 0.0f, c, 0,
                     s);
  if (st == CLT_OK) st = clt_ctx_finish(ctx);
  clt_buffer_release(&a);
  clt_buffer_release(&b);
  clt_buffer_release(&c);
  return st;
}
