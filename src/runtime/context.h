/* One OpenCL device in use: its context, an in-order compute queue and an
 * in-order transfer queue (events join them), and the programs built for it. */
#ifndef CLT_RUNTIME_CONTEXT_H
#define CLT_RUNTIME_CONTEXT_H

#include <CL/cl.h>

#include "cltrain/status.h"
#include "runtime/devices.h"

/* Every setting is a field: the library reads no environment variable (the CLI reads them
 * into these: runtime/env_settings.h). */
typedef struct clt_ctx_options {
  const char *kernel_dir; /* load cl/ sources from this folder instead of the embedded ones */
  int no_kernel_cache;    /* 1: never read or write the on-disk program cache */
  const char *cache_dir;  /* the program cache and GEMM tuning folder; NULL: none (cache off) */
  int profiling;          /* 1: queues with CL_QUEUE_PROFILING_ENABLE */
  int no_gemm_tune;       /* 1: ignore the GEMM tuning stored in cache_dir */
  uint64_t memory_limit;  /* > 0: lowered device memory (runtime/device_limits.h) */
  uint64_t alloc_limit;   /* > 0: lowered largest single buffer */
  const char *gemm_mode;  /* GEMM kernel selection (runtime/gemm_choose.h): "auto" (NULL),
                             "default", "engine", "clblast" */
  double gemm_budget;     /* > 0: seconds the first run may spend choosing GEMM kernels */
  int keep_binaries;      /* 1: keep program binaries in cache_dir even where the driver caches
                             its own kernels (CLT_QUIRK_OWN_PROGRAM_CACHE): warm starts load
                             faster, the first build of each program costs more */
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
  int program_binaries; /* 1: built programs' binaries kept in cache_dir (0 with the cache off or
                           where the driver keeps its own: CLT_QUIRK_OWN_PROGRAM_CACHE) */
  char cache_dir[1024];
  int cache_hits, cache_misses;  /* counted per program build request */
  int profiling;                 /* queues created with CL_QUEUE_PROFILING_ENABLE */
  int no_gemm_tune;              /* stored tuning ignored (clt_ctx_options) */
  int gemm_tuned;                /* stored SGEMM parameters applied (runtime/gemm_tune.h) */
  struct clt_profiler *profiler; /* non-NULL while recording (runtime/profile.h) */
  cl_mem gemm_temp;              /* CLBlast's GEMM scratch, shared by every call (gemm.c) */
  size_t gemm_temp_size;         /* its size in bytes; grows only for a larger shape */
  struct clt_gemm_state *gemm;   /* engine GEMM kernels, scratch and choices (gemm_engine.h) */
  char gemm_mode[16];            /* clt_ctx_options.gemm_mode ("auto" when not given) */
  double gemm_budget;            /* clt_ctx_options.gemm_budget (8 s when not given) */
  double conv_select_seconds;    /* spent timing conv algorithms (nn/layers/conv_choose.h) */
  void (*gemm_free)(struct clt_ctx *ctx); /* frees gemm; set with it (no include upwards) */
  clt_built_program *programs;
  int program_count, program_capacity;
} clt_ctx;

/* Creates the context and both queues on dev. opt may be NULL (no cache, no stored tuning,
 * the device's own limits). Stored GEMM tuning is applied one level up (clt_ctx_open in
 * runtime/device_open.h), so that the context does not depend on the GEMM code. An unusable cache
 * folder turns the cache off with one warning (clt_warn), not an error. */
clt_status clt_ctx_create(const clt_device_info *dev, const clt_ctx_options *opt, clt_ctx **out);
void clt_ctx_destroy(clt_ctx *ctx);

/* Blocks until both queues are empty. */
clt_status clt_ctx_finish(clt_ctx *ctx);

/* Warnings from library code go through this hook (default: "cltrain: warning: "
 * on stderr). */
typedef void (*clt_warning_fn)(const char *message);
void clt_set_warning_handler(clt_warning_fn fn);
void clt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* While active on this thread, warnings go to fn (NULL: dropped) instead of the hook above:
 * the public API routes them to the session's callback. Returns the route it replaces. */
typedef struct clt_warning_route {
  int active;
  void (*fn)(const char *text, void *user);
  void *user;
} clt_warning_route;
clt_warning_route clt_warning_route_set(clt_warning_route r);

#endif
