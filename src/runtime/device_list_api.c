/* clt_list_devices of the public API (include/cltrain/cltrain.h). */
#include <stdio.h>
#include <string.h>

#include "cltrain/cltrain.h"
#include "runtime/devices.h"

static void describe(const clt_device_info *d, clt_device_desc *out) {
  memset(out, 0, sizeof *out);
  out->platform_index = d->platform_index;
  out->device_index = d->device_index;
  snprintf(out->platform, sizeof out->platform, "%s", d->platform_name);
  snprintf(out->name, sizeof out->name, "%s", d->name);
  snprintf(out->vendor, sizeof out->vendor, "%s", d->vendor);
  snprintf(out->driver, sizeof out->driver, "%s", d->driver_version);
  snprintf(out->kind, sizeof out->kind, "%s", clt_device_kind_name(d->kind));
  out->global_memory = d->global_mem;
  out->max_alloc = d->max_alloc;
  out->compute_units = (int)d->compute_units;
}

clt_status clt_list_devices(clt_device_desc *out, int capacity, int *count) {
  if (!count || capacity < 0 || (capacity > 0 && !out))
    return clt_fail(CLT_ERR_USAGE, "clt_list_devices: count is NULL, or capacity is set but out "
                                   "is NULL");
  *count = 0;
  clt_device_list list;
  CLT_TRY(clt_device_list_query(&list));
  for (int i = 0; i < list.device_count && i < capacity; i++) describe(&list.devices[i], &out[i]);
  *count = list.device_count;
  clt_device_list_free(&list);
  return CLT_OK;
}
