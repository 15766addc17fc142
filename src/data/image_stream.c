/* An image cache file as a batch source (data/image_stream.h). */
#define _XOPEN_SOURCE 700 /* pread */
#include "data/image_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/file_check.h"
#include "data/image_cache.h"

typedef struct image_stream {
  clt_batch_source source;
  char path[4200];
  int fd;
  size_t per;
  long first, count;
  int32_t *labels; /* [count] */
  int32_t *order;  /* [count] or NULL: the file's order */
} image_stream;

static clt_status begin_epoch(void *self, uint32_t seed, int epoch) {
  image_stream *s = self;
  if (!s->order && !(s->order = malloc((size_t)(s->count ? s->count : 1) * sizeof *s->order)))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the epoch's order");
  clt_shuffle_order(seed, (uint32_t)epoch, (int)s->count, s->order);
  return CLT_OK;
}

static clt_status read_samples(void *self, long start, int n, float *x, int32_t *labels) {
  image_stream *s = self;
  if (start < 0 || n < 0 || start + n > s->count)
    return clt_fail(CLT_ERR_INTERNAL, "image stream: samples %ld..%ld of %ld asked", start,
                    start + n - 1, s->count);
  size_t bytes = s->per * sizeof(float);
  for (int i = 0; i < n; i++) {
    long k = s->order ? s->order[start + i] : start + i;
    off_t at = CLT_IMAGE_CACHE_PIXELS_AT + (off_t)(s->first + k) * (off_t)bytes;
    char *dst = (char *)(x + (size_t)i * s->per);
    size_t done = 0;
    while (done < bytes) {
      ssize_t got = pread(s->fd, dst + done, bytes - done, at + (off_t)done);
      if (got <= 0)
        return clt_fail(CLT_ERR_IO,
                        "%s: cannot read sample %ld of the image cache: %s; remove "
                        "the file and run again",
                        s->path, s->first + k, got == 0 ? "file shortened" : strerror(errno));
      done += (size_t)got;
    }
    labels[i] = s->labels[k];
  }
  return CLT_OK;
}

static void release(void *self) {
  image_stream *s = self;
  if (!s) return;
  if (s->fd >= 0) close(s->fd);
  free(s->labels);
  free(s->order);
  free(s);
}

static clt_status range(void *self, long first, long count, const clt_batch_source **out) {
  image_stream *s = self;
  return clt_image_stream_create(s->path, s->per, s->first + first, count, s->labels + first,
                                 s->source.data_crc, out);
}

clt_status clt_image_stream_create(const char *path, size_t per, long first, long count,
                                   const int32_t *labels, uint32_t crc,
                                   const clt_batch_source **out) {
  *out = NULL;
  image_stream *s = calloc(1, sizeof *s);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for an image stream");
  s->fd = -1;
  snprintf(s->path, sizeof s->path, "%s", path);
  s->per = per;
  s->first = first;
  s->count = count;
  s->labels = malloc((size_t)(count ? count : 1) * sizeof *s->labels);
  if (!s->labels) {
    release(s);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for an image stream");
  }
  memcpy(s->labels, labels, (size_t)count * sizeof *labels);
  clt_status st = clt_file_open_read(path, "image cache", NULL, &s->fd, NULL);
  if (st != CLT_OK) {
    s->fd = -1;
    release(s);
    return st;
  }
  s->source.self = s;
  s->source.begin_epoch = begin_epoch;
  s->source.read = read_samples;
  s->source.data_crc = crc;
  s->source.range = range;
  s->source.release = release;
  *out = &s->source;
  return CLT_OK;
}
