/* The IDX header and data-set files of idx_bytes.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx_bytes.h"
#include "runtime/rng.h"
#include "temp_files.h"

size_t clt_test_idx_header(unsigned char *out, unsigned type, int ndims, const uint32_t *dims) {
  out[0] = 0;
  out[1] = 0;
  out[2] = (unsigned char)type;
  out[3] = (unsigned char)ndims;
  for (int i = 0; i < ndims; i++) {
    unsigned char *q = out + 4 + 4 * i;
    q[0] = (unsigned char)(dims[i] >> 24);
    q[1] = (unsigned char)(dims[i] >> 16);
    q[2] = (unsigned char)(dims[i] >> 8);
    q[3] = (unsigned char)dims[i];
  }
  return CLT_TEST_IDX_HEADER(ndims);
}

/* The header and then n * item bytes of data into "<dir>/<name>". */
static void write_idx(const char *dir, const char *name, int ndims, const uint32_t *dims,
                      const unsigned char *data, size_t bytes) {
  size_t head = CLT_TEST_IDX_HEADER(ndims);
  unsigned char *buf = malloc(head + bytes);
  assert_non_null(buf);
  clt_test_idx_header(buf, 0x08, ndims, dims);
  if (bytes) memcpy(buf + head, data, bytes);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  clt_test_write_file(path, buf, head + bytes);
  free(buf);
}

void clt_test_write_idx_set(const char *dir, const char *images, const char *labels, int n, int h,
                            int w, const unsigned char *pixels, const unsigned char *labels_data) {
  const uint32_t image_dims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
  const uint32_t label_dims[1] = {(uint32_t)n};
  write_idx(dir, images, 3, image_dims, pixels, (size_t)n * (size_t)h * (size_t)w);
  write_idx(dir, labels, 1, label_dims, labels_data, (size_t)n);
}

void clt_test_write_block_idx_set(const char *dir, const char *images, const char *labels,
                                  int first, int n) {
  enum { SIDE = CLT_TEST_BLOCK_SIDE };
  size_t px = (size_t)n * SIDE * SIDE;
  unsigned char *img = malloc(px), *lab = malloc((size_t)n);
  assert_non_null(img);
  assert_non_null(lab);
  for (int s = 0; s < n; s++) {
    int k = (int)(clt_hash(21, 1, (uint32_t)(first + s)) % 10u);
    lab[s] = (unsigned char)k;
    int top = (k / 4) * 4, left = (k % 4) * 3;
    for (int i = 0; i < SIDE * SIDE; i++) {
      int h = i / SIDE, w = i % SIDE;
      int v = (int)(120.0f * clt_uniform(22, 2, (uint32_t)((first + s) * SIDE * SIDE + i)));
      if (h >= top && h < top + 4 && w >= left && w < left + 3) v += 130;
      img[(size_t)s * SIDE * SIDE + i] = (unsigned char)v;
    }
  }
  clt_test_write_idx_set(dir, images, labels, n, SIDE, SIDE, img, lab);
  free(img);
  free(lab);
}
