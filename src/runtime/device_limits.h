/* Lowered device memory limits for tests and rehearsals (the CLI takes them from
 * $CLTRAIN_DEVICE_MEMORY_BYTES and $CLTRAIN_MAX_ALLOC_BYTES: runtime/env_settings.h) replace
 * the device's global memory and largest single buffer as the memory planner sees them. They
 * only ever lower a limit, never raise it (the device would then fail later instead). */
#ifndef CLT_RUNTIME_DEVICE_LIMITS_H
#define CLT_RUNTIME_DEVICE_LIMITS_H

#include "runtime/devices.h"

/* Bytes from "123", "64K", "64M" or "2G"; 0 when malformed or zero. */
uint64_t clt_parse_bytes(const char *text);

/* Lowers dev->global_mem and dev->max_alloc to the limits that are > 0 (max_alloc is kept at
 * most global_mem). */
void clt_device_limits_apply(clt_device_info *dev, uint64_t memory_limit, uint64_t alloc_limit);

#endif
