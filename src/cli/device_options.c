#include "cli/device_options.h"

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

clt_status clt_open_device(const clt_device_options *o, int profiling, clt_ctx **ctx) {
  clt_device_list list;
  clt_status st = clt_device_list_query(&list);
  if (st != CLT_OK) return st;
  int index = 0;
  st = clt_device_select(&list, o->device, &index);
  if (st == CLT_OK) {
    clt_ctx_options copt = {o->kernel_dir, o->no_kernel_cache, NULL, profiling};
    st = clt_ctx_create(&list.devices[index], &copt, ctx);
  }
  clt_device_list_free(&list);
  return st;
}
