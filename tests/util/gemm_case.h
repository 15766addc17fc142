/* One SGEMM test case for the engine GEMM tests (test_gemm_engine, test_gemm_engine_epilogue):
 * its shape and transposes, the float64 reference product, and its operands on the device
 * laid out as the layers never do, so that offsets and leading dimensions are exercised:
 * A and B at offsets 3 and 5 with leading dimensions 2 and 1 larger than dense, C at offset
 * 4 with ldc n + 3, every float outside the operands junk (A, B: 1e6; C: 9.0, which no
 * kernel may change). */
#ifndef CLT_TEST_GEMM_CASE_H
#define CLT_TEST_GEMM_CASE_H

#include <CL/cl.h>
#include <stddef.h>

#include "runtime/context.h"
#include "runtime/gemm.h"

typedef struct clt_gemm_case {
  clt_trans ta, tb;
  size_t m, n, k;
} clt_gemm_case;

#define CLT_GEMM_CASE_A_OFFSET 3
#define CLT_GEMM_CASE_B_OFFSET 5
#define CLT_GEMM_CASE_C_OFFSET 4

/* The operands of one run on the device. */
typedef struct clt_gemm_case_buffers {
  cl_mem a, b, c;
  size_t lda, ldb, ldc;
  size_t c_floats; /* the whole of buffer c, junk included */
} clt_gemm_case_buffers;

/* out (m x n) = op(a) op(b) in double; a and b dense ([m, k] or [k, m]; [k, n] or [n, k]). */
void clt_gemm_case_reference(const clt_gemm_case *c, const double *a, const double *b, double *out);

/* Uploads dense a and b into the padded layout above, C's m x n values set to c_init. */
void clt_gemm_case_upload(clt_ctx *ctx, const clt_gemm_case *c, const double *a, const double *b,
                          double c_init, clt_gemm_case_buffers *bufs);

/* C's m x n values into got (dense); fails the test when a float outside them changed;
 * releases the buffers. */
void clt_gemm_case_collect(clt_ctx *ctx, const clt_gemm_case *c, clt_gemm_case_buffers *bufs,
                           double *got);

#endif
