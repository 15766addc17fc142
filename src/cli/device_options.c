#include "cli/device_options.h"

#include <stdlib.h>

#include "runtime/env_settings.h"

int clt_device_option(clt_device_options *o, int opt, const char *arg) {
  switch (opt) {
  case CLT_OPT_DEVICE:
    o->device = arg;
    return 1;
  case CLT_OPT_KERNEL_DIR:
    o->kernel_dir = arg;
    return 1;
  case CLT_OPT_NO_KERNEL_CACHE:
    o->no_kernel_cache = 1;
    return 1;
  default:
    return 0;
  }
}

void clt_cli_device_env(clt_device_options *o, int with_device) {
  static clt_env_settings env; /* read once: filled options point into it */
  static int read;
  if (!read) clt_env_settings_read(&env, getenv);
  read = 1;
  const char *device = o->device;
  clt_env_settings_fill(&env, o);
  if (!with_device) o->device = device;
}

void clt_cli_session_config(const clt_device_options *o, clt_config *c) {
  clt_config_init(c);
  c->device = o->device;
  c->cache_dir = o->cache_dir;
  c->kernel_cache = o->no_kernel_cache ? 0 : o->keep_binaries ? 2 : 1;
  c->gemm_tuning = !o->no_gemm_tune;
  c->memory_limit = o->memory_limit;
  c->host_memory_limit = o->host_memory;
  c->alloc_limit = o->alloc_limit;
  c->gemm_selection = o->gemm_mode;
  c->gemm_budget = o->gemm_budget;
  c->kernel_dir = o->kernel_dir;
}
