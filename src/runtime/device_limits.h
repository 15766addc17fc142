/* Lowered device memory limits for tests and rehearsals: $CLTRAIN_DEVICE_MEMORY_BYTES and
 * $CLTRAIN_MAX_ALLOC_BYTES (decimal bytes, or with a K, M or G suffix: "64M") replace the
 * device's global memory and largest single buffer as the memory planner sees them. They
 * only ever lower a limit, never raise it (the device would then fail later instead). */
#ifndef CLT_RUNTIME_DEVICE_LIMITS_H
#define CLT_RUNTIME_DEVICE_LIMITS_H

#include "runtime/devices.h"

/* Applies the variables to dev->global_mem and dev->max_alloc (max_alloc is kept at most
 * global_mem). A malformed value is ignored with one warning. */
void clt_device_limits_from_env(clt_device_info *dev);

#endif
