/* Device quirks: the one table of work-arounds keyed by vendor and device, so that
 * no code elsewhere tests a vendor or device name. docs/PORTABILITY.md lists them. */
#ifndef CLT_RUNTIME_QUIRKS_H
#define CLT_RUNTIME_QUIRKS_H

#include "runtime/devices.h"

/* What a quirk changes (bit flags); add a flag here, handle it where the work-around
 * belongs, and give the row of the table its reason. */
typedef enum clt_quirk_flag {
  CLT_QUIRK_NONE = 0,
  /* Write a device-only scratch buffer whole from the host when it is created (the GEMM
   * engine's packing scratch): a simulator's uninitialised-memory tracking needs it. */
  CLT_QUIRK_HOST_INIT_SCRATCH = 1,
  /* The driver keeps compiled kernels in a cache of its own, and asking it for a program's
   * binary compiles every kernel of the program once more: store no binaries in cltrain's
   * program cache (runtime/program.c). */
  CLT_QUIRK_OWN_PROGRAM_CACHE = 2
} clt_quirk_flag;

typedef struct clt_quirk {
  const char *platform; /* case-insensitive substring of the platform name, or NULL for any */
  const char *vendor;   /* of the device vendor, or NULL for any */
  const char *device;   /* of the device name, or NULL for any */
  const char *driver;   /* of the driver version, or NULL for any */
  unsigned flags;       /* clt_quirk_flag bits */
  const char *reason;   /* what goes wrong without it, and where it was seen */
} clt_quirk;

/* The whole table (count in *count), for documentation and `cltrain check`. */
const clt_quirk *clt_quirk_table(int *count);

/* The flags of every row that matches dev, or-ed together (CLT_QUIRK_NONE when none). */
unsigned clt_device_quirks(const clt_device_info *dev);

/* The reasons of the rows that match dev, "; "-separated, into buf ("" when none). */
void clt_device_quirks_describe(const clt_device_info *dev, char *buf, size_t size);

#endif
