/* The decoded images of an image-folder split in one cache file, so that a later run reads
 * no image (data/image_folder.h).
 *
 * The file's name is a hash of the split folder's absolute path and the target shape, so a
 * changed folder overwrites its own stale entry. Inside, the key is a 128-bit XXH3 hash of
 * every image's path, size, modification time (ns) and label, the class names, the target
 * shape, the pixel limit and the skip setting: any change is a miss. The payload ends in an
 * XXH3-128 of all the bytes before it; a short, foreign or corrupt file is a miss too, and
 * the caller decodes and rewrites it. Written to a temporary file in the same folder and
 * renamed over the old one (atomic). Layout: docs/INTERNALS.md. */
#ifndef CLT_DATA_IMAGE_CACHE_H
#define CLT_DATA_IMAGE_CACHE_H

#include <stdint.h>

#include "data/image_list.h"

typedef struct clt_image_cache_key {
  uint8_t bytes[16];
} clt_image_cache_key;

void clt_image_cache_key_of(const clt_image_list *l, const clt_image_options *o,
                            clt_image_cache_key *key);

/* The cache file's path for root (a split folder) and o. CLT_ERR_IO when no cache folder. */
clt_status clt_image_cache_path(const char *root, const clt_image_options *o, char *path,
                                size_t size);

/* 1 and out filled (and report's skipped count and first skipped message) when path holds an
 * intact entry for key; 0 otherwise (never an error; out is then empty). */
int clt_image_cache_load(const char *path, const clt_image_cache_key *key, clt_dataset *out,
                         clt_image_report *report);

/* Writes ds (and report's skipped count and message) under key. */
clt_status clt_image_cache_write(const char *path, const clt_image_cache_key *key,
                                 const clt_dataset *ds, const clt_image_report *report);

#endif
