/* The engine's own SGEMM kernels (cl/gemm_cpu.cl, cl/gemm_local.cl): variants, their
 * build options and their launch, including the packing of A and B into the context's
 * scratch buffer. The chooser (gemm_choose.h) decides which variant or CLBlast runs. */
#ifndef CLT_RUNTIME_GEMM_ENGINE_H
#define CLT_RUNTIME_GEMM_ENGINE_H

#include <CL/cl.h>
#include <stddef.h>

#include "runtime/context.h"
#include "runtime/gemm.h"

typedef enum clt_gemm_kind {
  CLT_GEMM_CLBLAST = 0, /* CLBlast's SGEMM (with its own tuning, gemm_tune.h) */
  CLT_GEMM_CPU = 1,     /* gemm_cpu: float16 register tile, work-group 1 */
  CLT_GEMM_LOCAL = 2    /* gemm_local: 2-D local-memory tiling */
} clt_gemm_kind;

typedef struct clt_gemm_variant {
  clt_gemm_kind kind;
  int mr, nv, ku, ap, bp; /* CPU: tile rows, float16 columns, K unroll, pack A, pack B */
  int mb, kc;             /* CPU cache blocking (mb > 1: A and B packed): tiles, K block */
  int nb;                 /* CPU cache blocking along N (nb > 1, with kc; A and B packed) */
  int ks;                 /* CPU split K (ks > 1): K pieces summed by a second kernel */
  int ts, wm, wn, kt;     /* LOCAL: group side, register tile rows x columns, K step */
} clt_gemm_variant;

/* "clblast", "cpu:8x32:k4", "cpu:8x32:k4:pa:pb", "cpu:8x32:k4:b8x256" (blocked: MB 8
 * tiles along M per work-item, KC 256, both packed), "cpu:8x32:k4:n4x512" (blocked along N:
 * NB 4 tiles, KC 512, both packed), "local:16:4x4:k16". */
void clt_gemm_variant_name(const clt_gemm_variant *v, char *buf, size_t size);
/* Parses a name as written above; 1 when valid (values in range), else 0. */
int clt_gemm_variant_parse(const char *text, clt_gemm_variant *v);
/* 1 when v's results are bitwise those of every other such variant (every engine variant
 * but split K: same order of fma per element). */
int clt_gemm_variant_same_bits(const clt_gemm_variant *v);
/* 1 when v can run on ctx's device (work-group and local-memory limits; for local-memory
 * variants this builds the kernel to ask its own work-group limit). */
int clt_gemm_variant_fits(clt_ctx *ctx, const clt_gemm_variant *v);
/* 1 when the engine can run this call: every index fits in an int. */
int clt_gemm_engine_accepts(size_t m, size_t n, size_t k, size_t a_off, size_t lda, size_t b_off,
                            size_t ldb, size_t c_off, size_t ldc, clt_trans ta, clt_trans tb);

/* Enqueues C = alpha op(A) op(B) + beta C with an engine variant (kind CPU or LOCAL), with
 * the epilogue epi fused (NULL, or no bias and linear: none; gemm.h). */
clt_status clt_gemm_engine_run(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta, clt_trans tb,
                               size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                               size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                               size_t c_off, size_t ldc, const clt_gemm_epi *epi);

/* Builds the program of v for the transposes (and creates its kernels) without running. */
clt_status clt_gemm_engine_prepare(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta,
                                   clt_trans tb, size_t n);

/* Every engine variant's state in a context: kernels, the packing scratch, the chooser's
 * table (gemm_choose.c). Freed by clt_ctx_destroy. */
struct clt_gemm_state *clt_gemm_state_get(clt_ctx *ctx);
void clt_gemm_state_free(clt_ctx *ctx);

#endif
