/* One OpenCL device in use: its context, an in-order compute queue and an
 * in-order transfer queue (events join them), and the programs built for it. */
#ifndef CLT_RUNTIME_CONTEXT_H
#define CLT_RUNTIME_CONTEXT_H

#include <CL/cl.h>

#include "cltrain/status.h"
#include "runtime/devices.h"

typedef struct clt_ctx_options {
  const char *kernel_dir; /* load cl/ sources from this folder instead of the embedded ones */
  int no_kernel_cache;    /* 1: never read or write the on-disk program cache */
  const char *cache_dir;  /* NULL: the default folder (program_cache.h) */
  int profiling;          /* 1: queues with CL_QUEUE_PROFILING_ENABLE */
} clt_ctx_options;

typedef struct clt_built_program {
  char file[64];
  char *options;
  cl_program program;
} clt_built_program;

typedef struct clt_ctx {
  clt_device_info dev;
  cl_context context;
  cl_command_queue compute;
  cl_command_queue transfer;
  char std_option[32];   /* "-cl-std=CL1.2", from CL_DEVICE_OPENCL_C_VERSION */
  char kernel_dir[1024]; /* "" = embedded sources */
  int cache_enabled;
  char cache_dir[1024];
  int cache_hits, cache_misses;  /* counted per program build request */
  int profiling;                 /* queues created with CL_QUEUE_PROFILING_ENABLE */
  int gemm_tuned;                /* stored SGEMM parameters applied (runtime/gemm_tune.h) */
  struct clt_profiler *profiler; /* non-NULL while recording (runtime/profile.h) */
  cl_mem gemm_temp;              /* CLBlast's GEMM scratch, shared by every call (gemm.c) */
  size_t gemm_temp_size;         /* its size in bytes; grows only for a larger shape */
  struct clt_gemm_state *gemm;   /* engine GEMM kernels, scratch and choices (gemm_engine.h) */
  clt_built_program *programs;
  int program_count, program_capacity;
} clt_ctx;

/* Creates the context and both queues on dev. opt may be NULL. The kernel
 * cache is also off when $CLTRAIN_KERNEL_CACHE is "0". An unusable cache folder
 * turns the cache off with one warning (clt_warn), not an error. */
clt_status clt_ctx_create(const clt_device_info *dev, const clt_ctx_options *opt, clt_ctx **out);
void clt_ctx_destroy(clt_ctx *ctx);

/* Blocks until both queues are empty. */
clt_status clt_ctx_finish(clt_ctx *ctx);

/* Warnings from library code go through this hook (default: "cltrain: warning: "
 * on stderr). */
typedef void (*clt_warning_fn)(const char *message);
void clt_set_warning_handler(clt_warning_fn fn);
void clt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
