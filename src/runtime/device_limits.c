#include "runtime/device_limits.h"

#include <errno.h>
#include <stdlib.h>

#include "runtime/context.h"

/* Bytes from "123", "64K", "64M" or "2G"; 0 when malformed or zero. */
static uint64_t parse_bytes(const char *text) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text || text[0] == '-') return 0;
  int shift = 0;
  switch (*end) {
  case 'K':
  case 'k':
    shift = 10;
    break;
  case 'M':
  case 'm':
    shift = 20;
    break;
  case 'G':
  case 'g':
    shift = 30;
    break;
  case '\0':
    break;
  default:
    return 0;
  }
  if (shift && end[1] != '\0') return 0;
  if (v > (UINT64_MAX >> shift)) return 0;
  return (uint64_t)v << shift;
}

static void lower(const char *name, uint64_t *limit) {
  const char *text = getenv(name);
  if (!text || !text[0]) return;
  uint64_t v = parse_bytes(text);
  if (v == 0) {
    clt_warn("%s=%s ignored: give a positive number of bytes, e.g. 512M", name, text);
    return;
  }
  if (v < *limit) *limit = v;
}

void clt_device_limits_from_env(clt_device_info *dev) {
  lower("CLTRAIN_DEVICE_MEMORY_BYTES", &dev->global_mem);
  lower("CLTRAIN_MAX_ALLOC_BYTES", &dev->max_alloc);
  if (dev->max_alloc > dev->global_mem) dev->max_alloc = dev->global_mem;
}
