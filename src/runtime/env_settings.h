/* The settings that cltrain's command line takes from environment variables, read through a
 * lookup the caller passes (the CLI and the tests pass getenv): the library itself reads no
 * variable, so a library user sets each of these per session instead.
 *
 *   CLTRAIN_DEVICE               device spec when none is given
 *   CLTRAIN_KERNEL_CACHE=0       no program cache
 *   CLTRAIN_KERNEL_CACHE=binaries  keep program binaries even where the driver caches its own
 *                                kernels (PoCL: faster warm starts, a slower first build)
 *   CLTRAIN_CACHE_DIR            cache folder (else $XDG_CACHE_HOME/cltrain, else
 *                                $HOME/.cache/cltrain)
 *   CLTRAIN_GEMM_TUNE=0          ignore stored GEMM tuning
 *   CLTRAIN_DEVICE_MEMORY_BYTES  lowered device memory ("512M"; runtime/device_limits.h)
 *   CLTRAIN_MAX_ALLOC_BYTES      lowered largest buffer
 *   CLTRAIN_GEMM                 GEMM kernel selection: auto, default, engine, clblast
 *   CLTRAIN_GEMM_BUDGET          seconds a first run may spend choosing GEMM kernels
 *   CLTRAIN_HOST_MEMORY_BYTES    host memory an image folder plans with ("1G"; streaming) */
#ifndef CLT_RUNTIME_ENV_SETTINGS_H
#define CLT_RUNTIME_ENV_SETTINGS_H

#include <stdint.h>

#include "runtime/context.h"
#include "runtime/device_open.h"

typedef char *(*clt_env_lookup)(const char *name);

typedef struct clt_env_settings {
  const char *device;   /* NULL when unset or empty */
  int no_kernel_cache;  /* CLTRAIN_KERNEL_CACHE=0 */
  int keep_binaries;    /* CLTRAIN_KERNEL_CACHE=binaries */
  char cache_dir[1024]; /* "" when no folder could be named (a fill then warns) */
  int no_gemm_tune;
  uint64_t memory_limit, alloc_limit; /* 0: not lowered */
  const char *gemm_mode;              /* NULL when unset */
  double gemm_budget;                 /* 0 when unset */
  uint64_t host_memory;               /* 0: not set */
} clt_env_settings;

/* Reads the variables through get; a malformed memory limit is ignored with one warning
 * (clt_warn). */
void clt_env_settings_read(clt_env_settings *s, clt_env_lookup get);

/* Fills what o leaves unset (device NULL, cache_dir NULL, limits 0) from s; no_kernel_cache
 * and no_gemm_tune are or-ed; a warning when the cache is on but s names no folder. s must
 * outlive o. */
void clt_env_settings_fill(const clt_env_settings *s, clt_device_options *o);
void clt_env_settings_fill_ctx(const clt_env_settings *s, clt_ctx_options *o);

#endif
