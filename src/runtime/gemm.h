/* Row-major SGEMM on the compute queue (no host wait): the engine's own kernels or CLBlast,
 * whichever the chooser (gemm_choose.h) picked for the device and shape. */
#ifndef CLT_RUNTIME_GEMM_H
#define CLT_RUNTIME_GEMM_H

#include <CL/cl.h>
#include <stddef.h>

#include "runtime/context.h"

typedef enum clt_trans { CLT_N = 0, CLT_T = 1 } clt_trans;

/* C[m, n] = alpha * op(A) x op(B) + beta * C, all row-major; op(A) is [m, k]. */
clt_status clt_sgemm(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                     float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                     size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);

/* An epilogue fused into the GEMM's store (engine kernels only): bias [n] (NULL: none) added
 * to every row of C after the alpha and beta terms, then the activation act (a CLT_ACT_*
 * code of cl/common.clh, 0 linear; slope: leaky_relu's). So C = act(alpha op(A) op(B)
 * + beta C + bias); the layers call it with beta 0. */
typedef struct clt_gemm_epi {
  cl_mem bias;
  int act;
  float slope;
} clt_gemm_epi;

/* clt_sgemm with the epilogue epi fused when the variant chosen for the shape is an engine
 * one (*fused = 1). Otherwise (CLBlast) the plain product alone, *fused = 0: the caller
 * applies bias and activation itself. Which variant runs is decided for the shape exactly as
 * for clt_sgemm; the fused result equals the plain product followed by cl/bias_act.cl's
 * bias_act_forward (the same float operations; sigmoid and tanh within a few ulp). */
clt_status clt_sgemm_epi(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                         float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                         size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc,
                         const clt_gemm_epi *epi, int *fused);

/* Compiles CLBlast's SGEMM kernels now (they compile on the first call otherwise) for the
 * transpose pairs whose stored choices run CLBlast (all under $CLTRAIN_GEMM=clblast). */
clt_status clt_gemm_warm_up(clt_ctx *ctx);

#endif
