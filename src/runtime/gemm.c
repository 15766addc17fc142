#include "runtime/gemm.h"

#include <clblast_c.h>

#include "runtime/cl_errors.h"
#include "runtime/gemm_internal.h"
#include "runtime/memory.h"
#include "runtime/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clt_status clblast_status(CLBlastStatusCode code, size_t m, size_t n, size_t k) {
  if (code == CLBlastSuccess) return CLT_OK;
  if (code > -1000) return clt_cl_fail((cl_int)code, "CLBlastSgemm", __FILE__, __LINE__);
  return clt_fail(code == CLBlastInsufficientMemoryTemp ? CLT_ERR_OUT_OF_MEMORY : CLT_ERR_DEVICE,
                  "CLBlastSgemm(m=%zu, n=%zu, k=%zu) failed with CLBlast status %d", m, n, k,
                  (int)code);
}

/* CLBlast's indirect GEMM pads and transposes into a scratch buffer. Without one it
 * allocates and frees a buffer on every call; instead one buffer per context is
 * kept and grown only when a shape needs more (the warm-up and the first step
 * meet every shape of a run, so steady state allocates nothing). */
static clt_status ensure_temp(clt_ctx *ctx, CLBlastTranspose ta, CLBlastTranspose tb, size_t m,
                              size_t n, size_t k, size_t a_off, size_t lda, size_t b_off,
                              size_t ldb, size_t c_off, size_t ldc) {
  size_t need = 0;
  CLBlastStatusCode code =
      CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, m, n, k, a_off, lda, b_off, ldb,
                                 c_off, ldc, &ctx->compute, &need);
  if (code != CLBlastSuccess) return clblast_status(code, m, n, k);
  if (ctx->gemm_temp && need <= ctx->gemm_temp_size) return CLT_OK;
  size_t size = need > ctx->gemm_temp_size ? need : ctx->gemm_temp_size;
  if (size < 4096) size = 4096;
  cl_mem grown = NULL;
  CLT_TRY(clt_buffer_create(ctx, size, &grown));
  /* Released memory stays alive until the commands already enqueued on it finish. */
  if (ctx->gemm_temp) clReleaseMemObject(ctx->gemm_temp);
  ctx->gemm_temp = grown;
  ctx->gemm_temp_size = size;
  return CLT_OK;
}

static clt_status clblast_run(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n,
                              size_t k, float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                              size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                              size_t ldc, cl_event *event) {
  CLBlastTranspose tra = ta == CLT_T ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose trb = tb == CLT_T ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLT_TRY(ensure_temp(ctx, tra, trb, m, n, k, a_off, lda, b_off, ldb, c_off, ldc));
  CLBlastStatusCode code = CLBlastSgemmWithTempBuffer(
      CLBlastLayoutRowMajor, tra, trb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
      ldc, &ctx->compute, event, ctx->gemm_temp);
  return clblast_status(code, m, n, k);
}

clt_status clt_gemm_run_variant(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta, clt_trans tb,
                                size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                                size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta,
                                cl_mem c, size_t c_off, size_t ldc) {
  if (v->kind == CLT_GEMM_CLBLAST ||
      !clt_gemm_engine_accepts(m, n, k, a_off, lda, b_off, ldb, c_off, ldc, ta, tb))
    return clblast_run(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
                       ldc, NULL);
  return clt_gemm_engine_run(ctx, v, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                             c_off, ldc, NULL);
}

/* " +bias+relu" (the epilogue, for profile names), "" without one. */
static void epi_suffix(const clt_gemm_epi *epi, char *buf, size_t size) {
  static const char *const acts[] = {"", "+relu", "+leaky_relu", "+sigmoid", "+tanh"};
  buf[0] = '\0';
  if (!epi || (!epi->bias && epi->act == 0)) return;
  snprintf(buf, size, " %s%s", epi->bias ? "+bias" : "",
           epi->act > 0 && epi->act < 5 ? acts[epi->act] : "");
}

clt_status clt_sgemm(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                     float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                     size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
  int fused = 0;
  return clt_sgemm_epi(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
                       ldc, NULL, &fused);
}

clt_status clt_sgemm_epi(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                         float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                         size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc,
                         const clt_gemm_epi *epi, int *fused) {
  *fused = m == 0 || n == 0; /* nothing to store: nothing left to do */
  if (*fused) return CLT_OK;
  clt_gemm_variant v;
  CLT_TRY(clt_gemm_choose(ctx, ta, tb, m, n, k, &v));
  if (v.kind != CLT_GEMM_CLBLAST &&
      (!clt_gemm_variant_fits(ctx, &v) ||
       !clt_gemm_engine_accepts(m, n, k, a_off, lda, b_off, ldb, c_off, ldc, ta, tb)))
    memset(&v, 0, sizeof v); /* CLBlast takes what the engine cannot index */
  clt_gemm_state *s = ctx->gemm;
  s->last.ta = ta, s->last.tb = tb, s->last.m = m, s->last.n = n, s->last.k = k;
  s->last.variant = v;
  const clt_gemm_epi *fuse = v.kind == CLT_GEMM_CLBLAST ? NULL : epi;
  char name[160], vname[48], suffix[32];
  cl_event *event = NULL;
  if (ctx->profiler) {
    clt_gemm_variant_name(&v, vname, sizeof vname);
    epi_suffix(fuse, suffix, sizeof suffix);
    snprintf(name, sizeof name, "sgemm_%c%c %zux%zux%zu %s%s", ta == CLT_T ? 'T' : 'N',
             tb == CLT_T ? 'T' : 'N', m, n, k, vname, suffix);
    /* Packing kernels (engine) or CLBlast's pad/transpose kernels may run before the GEMM
     * kernel: time the call from a marker enqueued before it to one enqueued after. */
    cl_event *start = NULL;
    event = clt_profile_event_span(ctx, name, &start);
    if (start && clEnqueueMarkerWithWaitList(ctx->compute, 0, NULL, start) != CL_SUCCESS)
      *start = NULL;
  }
  clt_status st;
  if (v.kind == CLT_GEMM_CLBLAST)
    return clblast_run(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
                       ldc, event);
  /* The span covers the packing and GEMM launches: they record no events of their own. */
  struct clt_profiler *profiler = ctx->profiler;
  ctx->profiler = NULL;
  st = clt_gemm_engine_run(ctx, &v, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                           c_off, ldc, fuse);
  ctx->profiler = profiler;
  if (st == CLT_OK) *fused = 1;
  if (st == CLT_OK && event &&
      clEnqueueMarkerWithWaitList(ctx->compute, 0, NULL, event) != CL_SUCCESS)
    *event = NULL;
  return st;
}

/* CLBlast's warm-up: a small and a large product of the transpose pairs in pairs. */
static clt_status clblast_warm_up(clt_ctx *ctx, const int want[3]) {
  /* CLBlast compiles a routine's kernels on first use: a "direct" kernel for
   * small products and an "indirect" one (with copy/pad/transpose helpers)
   * above a size threshold (CLBlast's GemmRoutine parameter, which `cltrain tune`
   * may change). Warm a small and a large product for each transpose pair asked
   * (the layers use NN, NT, TN; never TT). Untuned CLBlast on PoCL sends even
   * 512^3 to the direct kernel, so there both sizes warm the same kernel. */
  const size_t sizes[2] = {16, 512}, big = 512 * 512 * sizeof(float);
  const clt_trans pairs[3][2] = {{CLT_N, CLT_N}, {CLT_N, CLT_T}, {CLT_T, CLT_N}};
  cl_mem a = NULL, b = NULL, c = NULL;
  clt_status st = clt_buffer_create(ctx, big, &a);
  if (st == CLT_OK) st = clt_buffer_create(ctx, big, &b);
  if (st == CLT_OK) st = clt_buffer_create(ctx, big, &c);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, a, 0, big);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, b, 0, big);
  for (int i = 0; i < 2 && st == CLT_OK; i++)
    for (int p = 0; p < 3 && st == CLT_OK; p++) {
      if (!want[p]) continue;
      size_t s = sizes[i];
      st = clblast_run(ctx, pairs[p][0], pairs[p][1], s, s, s, 1.0f, a, 0, s, b, 0, s, 0.0f, c, 0,
                       s, NULL);
    }
  if (st == CLT_OK) st = clt_ctx_finish(ctx);
  clt_buffer_release(&a);
  clt_buffer_release(&b);
  clt_buffer_release(&c);
  return st;
}

clt_status clt_gemm_warm_up(clt_ctx *ctx) {
  /* Only what will run: CLBlast for the transpose pairs whose stored choices name it (or
   * every pair when the context's GEMM mode is "clblast"); its first compile costs 10-20 s on PoCL.
   * The engine's kernels compile during the first call's selection. */
  int want[3] = {0, 0, 0};
  if (strcmp(ctx->gemm_mode, "clblast") == 0) {
    want[0] = want[1] = want[2] = 1;
  } else {
    const clt_gemm_choice *c = NULL;
    int n = clt_gemm_choices(ctx, &c);
    for (int i = 0; i < n; i++)
      if (c[i].variant.kind == CLT_GEMM_CLBLAST)
        want[c[i].ta == CLT_T ? 2 : c[i].tb == CLT_T ? 1 : 0] = 1;
  }
  if (!want[0] && !want[1] && !want[2]) return CLT_OK;
  return clblast_warm_up(ctx, want);
}
