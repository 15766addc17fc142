/* Samples of an image cache file (data/image_cache.h) read on demand: the batch source of an
 * image folder whose decoded set does not fit in host memory. Each read is one pread per
 * sample from the pixels block; the labels of the range are held (4 bytes a sample). The
 * order is the file's until the trainer's begin_epoch shuffles it (clt_shuffle_order from
 * the seed and the epoch). */
#ifndef CLT_DATA_IMAGE_STREAM_H
#define CLT_DATA_IMAGE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

/* A source over samples [first, first + count) of the cache file at path, whose samples are
 * per floats; labels are those of the range (copied). The source owns itself: release. */
clt_status clt_image_stream_create(const char *path, size_t per, long first, long count,
                                   const int32_t *labels, uint32_t crc,
                                   const clt_batch_source **out);

#endif
