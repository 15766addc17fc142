/* State shared by gemm_engine.c and gemm_choose.c (one per context, ctx->gemm). */
#ifndef CLT_RUNTIME_GEMM_INTERNAL_H
#define CLT_RUNTIME_GEMM_INTERNAL_H

#include "runtime/gemm_choose.h"
#include "runtime/gemm_engine.h"
#include "runtime/program.h"

typedef struct clt_gemm_kernel_entry {
  char options[160];
  char name[24];
  clt_kernel kernel;
} clt_gemm_kernel_entry;

typedef struct clt_gemm_state {
  clt_gemm_kernel_entry **kernels; /* each allocated once: pointers stay valid */
  int kernel_count, kernel_capacity;
  cl_mem pack; /* packed A and B panels, grown only when a call needs more */
  size_t pack_size;
  /* chooser */
  int loaded;               /* the stored table has been read (or found absent) */
  clt_gemm_choice *choices; /* decided shapes */
  int choice_count, choice_capacity;
  int forced; /* clt_gemm_force: every call runs `force` */
  clt_gemm_variant force;
  clt_gemm_choice last;  /* the decision of the latest clt_sgemm call */
  double select_seconds; /* spent timing candidates in this context */
  int timed_shapes;
  cl_mem tbuf[3]; /* the timing operands A, B, C */
  size_t tbuf_size[3];
} clt_gemm_state;

/* Enqueues the call with v: an engine variant or CLBlast (gemm.c). */
clt_status clt_gemm_run_variant(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta, clt_trans tb,
                                size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                                size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta,
                                cl_mem c, size_t c_off, size_t ldc);

#endif
