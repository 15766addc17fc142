/* The decoded images of an image-folder split in one cache file, so that a later run reads
 * no image (data/image_folder.h).
 *
 * The file's name is a hash of the split folder's absolute path and the target shape, so a
 * changed folder overwrites its own stale entry. Inside, the key is a 128-bit XXH3 hash of
 * every image's path, size, modification time (ns) and label, the class names, the target
 * shape, the pixel limit and the skip setting: any change is a miss. The file ends in an
 * XXH3-128 of all the bytes before it; a short, foreign or corrupt file is a miss too, and
 * the caller decodes and rewrites it. Written to a temporary file in the same folder and
 * renamed over the old one (atomic). The pixels come first, at a fixed offset, so that a set
 * larger than memory can be written and read a chunk at a time. Layout: docs/INTERNALS.md. */
#ifndef CLT_DATA_IMAGE_CACHE_H
#define CLT_DATA_IMAGE_CACHE_H

#include <stdint.h>

#include "data/image_list.h"

#define CLT_IMAGE_CACHE_PIXELS_AT 88 /* byte offset of the pixels: after the fixed header */

typedef struct clt_image_cache_key {
  uint8_t bytes[16];
} clt_image_cache_key;

/* root_len: the length of the split folder's path as the list's paths begin with it; the key
 * holds the paths below it, so the same folder reached by another path gives the same key. */
void clt_image_cache_key_of(const clt_image_list *l, size_t root_len, const clt_image_options *o,
                            clt_image_cache_key *key);

/* The cache file's path for root (a split folder) and o. CLT_ERR_IO when no cache folder. */
clt_status clt_image_cache_path(const char *root, const clt_image_options *o, char *path,
                                size_t size);

/* 1 when path holds an intact entry for key (every byte read once for the checksum), with
 * out's shape, classes, names and labels set, and its pixels too when with_pixels (else
 * out->images stays NULL); report's skipped count and first skipped message. 0 otherwise
 * (never an error; out is then empty). */
int clt_image_cache_load(const char *path, const clt_image_cache_key *key, int with_pixels,
                         clt_dataset *out, clt_image_report *report);

/* A cache file written a chunk of samples at a time. */
typedef struct clt_image_cache_writer clt_image_cache_writer;

/* Starts the file for samples of shape (ds->h, ds->w, ds->c) and ds's classes and names (ds
 * holds no sample yet). */
clt_status clt_image_cache_begin(const char *path, const clt_image_cache_key *key,
                                 const clt_dataset *ds, clt_image_cache_writer **out);
/* Appends m samples: pixels [m, h, w, c] and their labels. On failure w stays (abort it). */
clt_status clt_image_cache_append(clt_image_cache_writer *w, const float *pixels,
                                  const int32_t *labels, long m);
/* Writes the labels, the report's skip count and message, the names and the checksum, then
 * renames the file into place. Frees w, also on failure (the temporary file is removed). */
clt_status clt_image_cache_finish(clt_image_cache_writer *w, const clt_image_report *report);
/* Frees w and removes its temporary file. NULL is fine. */
void clt_image_cache_abort(clt_image_cache_writer *w);

#endif
