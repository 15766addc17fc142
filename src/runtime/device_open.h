/* Opening the device a run asked for: its spec, where the kernels come from and the
 * settings of the program cache, GEMM tuning and lowered memory limits. The CLI fills this
 * from its flags and the environment (cli/env_settings.c); the library reads no variable. */
#ifndef CLT_RUNTIME_DEVICE_OPEN_H
#define CLT_RUNTIME_DEVICE_OPEN_H

#include "runtime/context.h"
#include "runtime/devices.h"

typedef struct clt_device_options {
  const char *device;     /* spec (NULL or "": the first GPU, else the first device) */
  const char *kernel_dir; /* load the cl/ sources from this folder */
  int no_kernel_cache;    /* never read or write the program cache */
  const char *cache_dir;  /* the cache folder (NULL: no folder known, the cache is off) */
  int no_gemm_tune;       /* ignore stored GEMM tuning */
  uint64_t memory_limit;  /* > 0: the device's memory as the planner sees it (lowered only) */
  uint64_t alloc_limit;   /* > 0: the largest single buffer (lowered only) */
  const char *gemm_mode;  /* GEMM kernel selection (clt_ctx_options); NULL: "auto" */
  double gemm_budget;     /* > 0: seconds for choosing GEMM kernels on a first run */
  uint64_t host_memory;   /* > 0: the host memory an image folder plans with (streaming or
                             not); 0: MemAvailable */
  int keep_binaries;      /* clt_ctx_options.keep_binaries */
} clt_device_options;

/* clt_ctx_create, then the GEMM tuning stored in opt->cache_dir for this device applied
 * (runtime/gemm_tune.h) unless opt->no_gemm_tune. */
clt_status clt_ctx_open(const clt_device_info *dev, const clt_ctx_options *opt, clt_ctx **out);

/* Lists devices, selects one by o->device and opens its context (clt_ctx_open). */
clt_status clt_open_device(const clt_device_options *o, int profiling, clt_ctx **ctx);

#endif
