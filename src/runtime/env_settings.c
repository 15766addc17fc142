#include "runtime/env_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/device_limits.h"
#include "runtime/program_cache.h"

static const char *value(clt_env_lookup get, const char *name) {
  const char *v = get ? get(name) : NULL;
  return v && *v ? v : NULL;
}

static uint64_t limit(clt_env_lookup get, const char *name) {
  const char *text = value(get, name);
  if (!text) return 0;
  uint64_t v = clt_parse_bytes(text);
  if (v == 0) clt_warn("%s=%s ignored: give a positive number of bytes, e.g. 512M", name, text);
  return v;
}

void clt_env_settings_read(clt_env_settings *s, clt_env_lookup get) {
  memset(s, 0, sizeof *s);
  s->device = value(get, "CLTRAIN_DEVICE");
  const char *cache = value(get, "CLTRAIN_KERNEL_CACHE");
  s->no_kernel_cache = cache && strcmp(cache, "0") == 0;
  s->keep_binaries = cache && strcmp(cache, "binaries") == 0;
  const char *tune = value(get, "CLTRAIN_GEMM_TUNE");
  s->no_gemm_tune = tune && strcmp(tune, "0") == 0;
  if (clt_cache_default_dir(s->cache_dir, sizeof s->cache_dir, get) != 0) s->cache_dir[0] = '\0';
  s->memory_limit = limit(get, "CLTRAIN_DEVICE_MEMORY_BYTES");
  s->alloc_limit = limit(get, "CLTRAIN_MAX_ALLOC_BYTES");
  s->host_memory = limit(get, "CLTRAIN_HOST_MEMORY_BYTES");
  s->gemm_mode = value(get, "CLTRAIN_GEMM");
  const char *budget = value(get, "CLTRAIN_GEMM_BUDGET");
  if (budget) {
    char *end = NULL;
    double v = strtod(budget, &end);
    if (end && *end == '\0' && v >= 0)
      s->gemm_budget = v > 0 ? v : 1e-9; /* 0: choose nothing by timing */
    else
      clt_warn("CLTRAIN_GEMM_BUDGET=%s ignored: give a number of seconds, e.g. 8", budget);
  }
}

static void cache_dir(const clt_env_settings *s, int no_kernel_cache, const char **dir) {
  if (*dir) return;
  if (s->cache_dir[0])
    *dir = s->cache_dir;
  else if (!no_kernel_cache)
    clt_warn("kernel cache disabled: neither XDG_CACHE_HOME nor HOME is set");
}

void clt_env_settings_fill(const clt_env_settings *s, clt_device_options *o) {
  if (!o->device || !*o->device) o->device = s->device;
  o->no_kernel_cache |= s->no_kernel_cache;
  o->keep_binaries |= s->keep_binaries;
  cache_dir(s, o->no_kernel_cache, &o->cache_dir);
  o->no_gemm_tune |= s->no_gemm_tune;
  if (!o->memory_limit) o->memory_limit = s->memory_limit;
  if (!o->alloc_limit) o->alloc_limit = s->alloc_limit;
  if (!o->gemm_mode) o->gemm_mode = s->gemm_mode;
  if (!(o->gemm_budget > 0)) o->gemm_budget = s->gemm_budget;
  if (!o->host_memory) o->host_memory = s->host_memory;
}

void clt_env_settings_fill_ctx(const clt_env_settings *s, clt_ctx_options *o) {
  o->no_kernel_cache |= s->no_kernel_cache;
  o->keep_binaries |= s->keep_binaries;
  cache_dir(s, o->no_kernel_cache, &o->cache_dir);
  o->no_gemm_tune |= s->no_gemm_tune;
  if (!o->memory_limit) o->memory_limit = s->memory_limit;
  if (!o->alloc_limit) o->alloc_limit = s->alloc_limit;
  if (!o->gemm_mode) o->gemm_mode = s->gemm_mode;
  if (!(o->gemm_budget > 0)) o->gemm_budget = s->gemm_budget;
}
