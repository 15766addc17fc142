#include "runtime/device_open.h"

#include "runtime/devices.h"
#include "runtime/gemm_tune.h"

clt_status clt_ctx_open(const clt_device_info *dev, const clt_ctx_options *opt, clt_ctx **out) {
  CLT_TRY(clt_ctx_create(dev, opt, out));
  clt_gemm_tune_apply_stored(*out);
  return CLT_OK;
}

clt_status clt_open_device(const clt_device_options *o, int profiling, clt_ctx **ctx) {
  clt_device_list list;
  clt_status st = clt_device_list_query(&list);
  if (st != CLT_OK) return st;
  int index = 0;
  st = clt_device_select(&list, o->device, &index);
  if (st == CLT_OK) {
    clt_ctx_options copt = {o->kernel_dir,   o->no_kernel_cache, o->cache_dir,   profiling,
                            o->no_gemm_tune, o->memory_limit,    o->alloc_limit, o->gemm_mode,
                            o->gemm_budget,  o->keep_binaries};
    st = clt_ctx_open(&list.devices[index], &copt, ctx);
  }
  clt_device_list_free(&list);
  return st;
}
