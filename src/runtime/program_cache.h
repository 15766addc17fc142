/* On-disk cache of built OpenCL programs (device binaries).
 *
 * Key: XXH3-128 over the cache-format version, the full program source, the
 * build options, the device name, the driver version and the platform version.
 * Entry file "<dir>/<key>.bin": magic "CLTPCACH", format version (u32), binary
 * size (u64), CRC32 of the binary and the full key (u32), the binary, then the full
 * key it was built for: its length (u64) and every part, each a u64 length and the
 * bytes (source, options, device, driver, platform). An entry proves its key: one
 * whose stored full key differs from the one asked for is never used (rebuilt, as a
 * missing one). Written to a temporary file in the same folder and renamed, so a
 * reader never sees half an entry. */
#ifndef CLT_RUNTIME_PROGRAM_CACHE_H
#define CLT_RUNTIME_PROGRAM_CACHE_H

#include <stddef.h>

#include "cltrain/status.h"

#define CLT_PROGRAM_CACHE_FORMAT 2u /* 2: the full key stored in the entry */

typedef struct clt_cache_key_parts {
  const char *source;
  size_t source_length;
  const char *options;
  const char *device_name;
  const char *driver_version;
  const char *platform_version;
} clt_cache_key_parts;

/* 32 lower-case hex digits and a NUL. */
void clt_cache_key(const clt_cache_key_parts *parts, char key[33]);

/* The cache folder: $CLTRAIN_CACHE_DIR, else $XDG_CACHE_HOME/cltrain, else
 * $HOME/.cache/cltrain, the variables read through get (the CLI passes getenv). Returns 0 on
 * success. */
int clt_cache_default_dir(char *buf, size_t size, char *(*get)(const char *name));

/* Creates dir (and parents) and checks that a file can be written there.
 * CLT_ERR_IO with a message when it cannot. */
clt_status clt_cache_prepare_dir(const char *dir);

/* Loads the entry of key (clt_cache_key of parts); returns 1 with a malloc'd binary when
 * present, intact and built for exactly parts, 0 when missing, corrupt, of another format
 * or of another full key (never an error). parts NULL: the entry proves key alone (tests). */
int clt_cache_load(const char *dir, const char key[33], const clt_cache_key_parts *parts,
                   unsigned char **binary, size_t *size);

/* Stores an entry with its full key (parts; NULL: key alone) atomically (temporary file,
 * then rename). */
clt_status clt_cache_store(const char *dir, const char key[33], const clt_cache_key_parts *parts,
                           const unsigned char *binary, size_t size);

#endif
