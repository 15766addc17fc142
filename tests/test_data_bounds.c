/* Resource bombs in data files (issue 12, family 4): what a reader allocates or inflates is
 * bounded by what the file declares and is checked before it is spent.
 *   - a gzip IDX file whose stream goes on for megabytes past its declared data: refused
 *     after at most CLT_IDX_TRAILING_PROBE bytes more, not inflated to its end;
 *   - an image file and a label file whose headers disagree: refused from the headers, before
 *     the images are inflated (a damaged image stream is never reached);
 *   - a CSV table with a wide header and two rows: its streams hold two rows, not a chunk of
 *     32768 rows of that width. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_data.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"

/* An IDX file of ndims dims with data_len data bytes (a pattern) and extra zero bytes. */
static unsigned char *idx_file(int ndims, const uint32_t *dims, size_t data_len, size_t extra,
                               size_t *n) {
  *n = CLT_TEST_IDX_HEADER(ndims) + data_len + extra;
  unsigned char *b = calloc(*n, 1);
  assert_non_null(b);
  size_t h = clt_test_idx_header(b, 0x08, ndims, dims);
  uint32_t x = 12345; /* noise: the gzip stream is about as long as the data */
  for (size_t i = 0; i < data_len; i++) {
    x = x * 1664525u + 1013904223u;
    b[h + i] = (unsigned char)(x >> 24);
  }
  return b;
}

static void test_gzip_trailing_bomb_bounded(void **state) {
  (void)state;
  const uint32_t d[2] = {6, 5};
  size_t n;
  unsigned char *b = idx_file(2, d, 30, (size_t)64 << 20, &n); /* 64 MiB of zeros after */
  const char *path = clt_test_tmp_write_gz("bomb.gz", b, n);
  free(b);
  clt_idx idx;
  EXPECT_FAIL(clt_idx_read(path, &idx), CLT_ERR_BAD_DATA, "more than 1048576 bytes of trailing");
  assert_null(idx.data);
}

static void test_headers_checked_before_images_inflated(void **state) {
  (void)state;
  /* 100 images of 12x12, the gzip stream cut in its middle, and a label file of 8. */
  const uint32_t di[3] = {100, 12, 12}, dl[1] = {8};
  size_t n;
  unsigned char *b = idx_file(3, di, 100 * 144, 0, &n);
  const char *gz = clt_test_tmp_write_gz("full.gz", b, n);
  free(b);
  size_t gz_size = 0;
  unsigned char *packed = clt_test_read_file(gz, &gz_size);
  char images[600];
  snprintf(images, sizeof images, "%s", clt_test_tmp_path("cut-images.gz"));
  clt_test_write_file(images, packed, gz_size / 2);
  free(packed);
  b = idx_file(1, dl, 8, 0, &n);
  const char *labels = clt_test_tmp_write("eight-labels", b, n);
  free(b);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_idx(images, labels, &ds), CLT_ERR_BAD_DATA, "holds 100 images but");
  assert_null(ds.images);
}

static void test_wide_csv_streams_hold_its_rows(void **state) {
  (void)state;
  enum { COLUMNS = 3000 };
  size_t size = (size_t)COLUMNS * 16 + 64;
  char *text = malloc(size), *p = text;
  assert_non_null(text);
  for (int j = 0; j < COLUMNS; j++) p += sprintf(p, "f%d,", j);
  p += sprintf(p, "y\n");
  for (int r = 0; r < 2; r++) {
    for (int j = 0; j < COLUMNS; j++) p += sprintf(p, "%d,", (j + r) % 3);
    p += sprintf(p, "%s\n", r ? "a" : "b");
  }
  const char *path = clt_test_tmp_write("wide.csv", text, (size_t)(p - text));
  free(text);
  clt_csv_options o;
  memset(&o, 0, sizeof o);
  clt_csv_data *d = NULL;
  OK(clt_csv_data_open(path, &o, &d));
  /* Two rows of 3000 floats per slot, and the reader's buffers: a few MiB, not the 750 MiB
   * of two 32768-row chunks of that width. */
  size_t bytes = clt_csv_data_host_bytes(d);
  if (bytes > ((size_t)16 << 20)) fail_msg("the CSV streams hold %zu bytes for 2 rows", bytes);
  clt_csv_data_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gzip_trailing_bomb_bounded),
      cmocka_unit_test(test_headers_checked_before_images_inflated),
      cmocka_unit_test(test_wide_csv_streams_hold_its_rows),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
