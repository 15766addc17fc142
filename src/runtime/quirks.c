/* The device quirks table (runtime/quirks.h). */
#include "runtime/quirks.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* `cltrain check` passes on PoCL 3.1, Mesa 22.3.6 rusticl (llvmpipe) and Oclgrind 21.10
 * with no work-around for results; one row is for Oclgrind's --uninitialized reports
 * (docs/PORTABILITY.md, Oclgrind point 4), one for PoCL's start-up time. The one
 * portability problem found so far in results (rusticl needs a flush before another queue
 * waits on an event) is fixed for every device in src/train/device_data.c, since flushing
 * is correct OpenCL everywhere. A row reads:
 *   {"NVIDIA CUDA", "NVIDIA", "GeForce", "535.", CLT_QUIRK_..., "what breaks, where seen"},
 * The sentinel row keeps the array non-empty in C. */
static const clt_quirk table[] = {
    {"Oclgrind", NULL, NULL, NULL, CLT_QUIRK_HOST_INIT_SCRATCH,
     "Oclgrind 21.10 keeps a released buffer's shadow memory for the next buffer given its "
     "index: a device-only scratch reads as uninitialised past the old buffer's size until "
     "the host writes it whole (GEMM packing scratch)"},
    {"Portable Computing Language", NULL, NULL, NULL, CLT_QUIRK_OWN_PROGRAM_CACHE,
     "PoCL 3.1 caches its compiled kernels itself (POCL_CACHE_DIR); asking it for a program's "
     "binary (CL_PROGRAM_BINARY_SIZES) first compiles every kernel of the program for any "
     "work-group size: 6.7 of the 13.8 s to fashion_cnn's first step on a fresh machine"},
    {NULL, NULL, NULL, NULL, CLT_QUIRK_NONE, NULL},
};

static const int table_count = (int)(sizeof table / sizeof table[0]) - 1;

const clt_quirk *clt_quirk_table(int *count) {
  *count = table_count;
  return table;
}

/* Case-insensitive substring test; a NULL needle matches anything. */
static int contains(const char *hay, const char *needle) {
  if (!needle) return 1;
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static int matches(const clt_quirk *q, const clt_device_info *dev) {
  return contains(dev->platform_name, q->platform) && contains(dev->vendor, q->vendor) &&
         contains(dev->name, q->device) && contains(dev->driver_version, q->driver);
}

unsigned clt_device_quirks(const clt_device_info *dev) {
  unsigned flags = CLT_QUIRK_NONE;
  for (int i = 0; i < table_count; i++)
    if (matches(&table[i], dev)) flags |= table[i].flags;
  return flags;
}

void clt_device_quirks_describe(const clt_device_info *dev, char *buf, size_t size) {
  size_t len = 0;
  if (size) buf[0] = '\0';
  for (int i = 0; i < table_count; i++) {
    if (!matches(&table[i], dev) || len >= size) continue;
    int w = snprintf(buf + len, size - len, "%s%s", len ? "; " : "", table[i].reason);
    if (w > 0) len += (size_t)w;
  }
}
