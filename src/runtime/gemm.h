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

/* Compiles CLBlast's SGEMM kernels now (they compile on the first call otherwise) for the
 * transpose pairs whose stored choices run CLBlast (all under $CLTRAIN_GEMM=clblast). */
clt_status clt_gemm_warm_up(clt_ctx *ctx);

#endif
