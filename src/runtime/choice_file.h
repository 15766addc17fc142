/* The text files in which cltrain keeps kernel choices in its cache folder (GEMM variants,
 * conv algorithms): a key line naming the format and what the choices were made for
 * (device, driver, kernel sources), then one record per line; '#' lines are comments.
 * A file whose key differs, or with one unreadable record, is worth nothing: its reader
 * gets no records and the next write replaces it. Writes go to a temporary file that is
 * renamed over the old one, so a reader never sees half a file. */
#ifndef CLT_RUNTIME_CHOICE_FILE_H
#define CLT_RUNTIME_CHOICE_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "cltrain/status.h"
#include "runtime/context.h"

/* The hash that names a choice file and proves its key: the kernel sources the choices
 * were made with (files, as the program cache reads them), format, and the device, driver
 * and platform of ctx. */
void clt_choice_file_hash(clt_ctx *ctx, const char *const *files, int file_count,
                          const char *format, char hash[33]);
/* buf = CACHE_DIR/PREFIX-HASH.txt; -1 when ctx has no cache folder or buf is too small. */
int clt_choice_file_path(const clt_ctx *ctx, const char *prefix, const char *hash, char *buf,
                         size_t size);

/* Parses one record line into *slot; 0 rejects it (and so the whole file). */
typedef int (*clt_choice_parse_fn)(const char *line, void *slot);

/* Reads path's records into a new array of elem-sized slots (*out, free()d by the caller)
 * and returns their count; 0 with *out NULL for a missing, foreign or corrupt file. */
int clt_choice_file_read(const char *path, const char *key, size_t elem, clt_choice_parse_fn parse,
                         void **out);

/* Writes the key line, the comment line (without '#') and count records, each through
 * write_record(f, records + i * elem), atomically. */
clt_status clt_choice_file_write(const char *path, const char *key, const char *comment,
                                 const void *records, int count, size_t elem,
                                 void (*write_record)(FILE *f, const void *record));

#endif
