#include "runtime/device_limits.h"

#include <errno.h>
#include <stdlib.h>

/* Bytes from "123", "64K", "64M" or "2G"; 0 when malformed or zero. */
uint64_t clt_parse_bytes(const char *text) {
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

static void lower(uint64_t value, uint64_t *limit) {
  if (value > 0 && value < *limit) *limit = value;
}

void clt_device_limits_apply(clt_device_info *dev, uint64_t memory_limit, uint64_t alloc_limit) {
  lower(memory_limit, &dev->global_mem);
  lower(alloc_limit, &dev->max_alloc);
  if (dev->max_alloc > dev->global_mem) dev->max_alloc = dev->global_mem;
}
