/* `cltrain bench`'s profile of a step, grouped by layer and pass, with the SGEMM calls of
 * each (shape, kernel, time, FLOPs) for the per-layer share of the ceiling. */
#ifndef CLT_CLI_BENCH_PROFILE_H
#define CLT_CLI_BENCH_PROFILE_H

#include <stddef.h>

#include "nn/model.h"
#include "runtime/profile.h"

#define MAX_GROUPS 64

typedef struct group {
  char name[CLT_PROFILE_NAME]; /* "3 conv", or "optimizer", "data", "zero gradients" */
  double ms[3];                /* forward, backward, other (per step) */
  double gemm_ms;              /* of which SGEMM */
  double flops;                /* SGEMM FLOPs per step */
  double launches;             /* per step */
} group;

#define MAX_GEMM_ROWS 96

/* One SGEMM of one layer and pass: "sgemm_NT 7744x64x288 cpu:8x32:k4" (runtime/gemm.c). */
typedef struct gemm_row {
  char layer[CLT_PROFILE_NAME];
  int pass;
  char shape[48], kernel[48];
  double ms, flops; /* per step */
} gemm_row;

typedef struct profile_summary {
  group g[MAX_GROUPS];
  int n;
  gemm_row rows[MAX_GEMM_ROWS];
  int nrows;
  double total_ms, gemm_ms, flops, launches;
} profile_summary;

void clt_bench_profile_summarise(const clt_profiler *pr, long steps, profile_summary *out);

/* "1 conv direct (measured), 3 conv forward implicit backward implicit-dw (measured)": the
 * algorithm each conv layer of m ran (known after its first step), into buf. */
void clt_bench_conv_algorithms(const clt_model *m, char *buf, size_t size);

#endif
