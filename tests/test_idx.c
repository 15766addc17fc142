/* IDX reader: good raw and gzip files, and every malformed case it must refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"

/* ---- helpers: build IDX bytes, write them raw or gzipped ---- */

typedef struct bytes {
  unsigned char *p;
  size_t n;
} bytes;

static bytes idx_bytes(unsigned type, int ndims, const uint32_t *dims, size_t data_len,
                       size_t extra) {
  bytes b;
  b.n = CLT_TEST_IDX_HEADER(ndims) + data_len + extra;
  b.p = malloc(b.n);
  assert_non_null(b.p);
  unsigned char *data = b.p + clt_test_idx_header(b.p, type, ndims, dims);
  for (size_t i = 0; i < data_len + extra; i++) data[i] = (unsigned char)(i * 7 + 3);
  return b;
}

/* A good unsigned-byte file with data_len data bytes and extra trailing bytes. */
static bytes idx_u8(int ndims, const uint32_t *dims, long delta) {
  size_t count = 1;
  for (int i = 0; i < ndims; i++) count *= dims[i];
  if (delta < 0) return idx_bytes(0x08, ndims, dims, count - (size_t)(-delta), 0);
  return idx_bytes(0x08, ndims, dims, count, (size_t)delta);
}

/* Reads path and expects status; on failure the message must name the file and contain
 * want (if non-NULL), and the output must be zeroed. */
static void expect_fail(const char *path, clt_status status, const char *want) {
  clt_idx idx;
  EXPECT_FAIL(clt_idx_read(path, &idx), status, want);
  const char *msg = clt_last_error();
  assert_true(strlen(msg) > 0);
  assert_null(strchr(msg, '\n'));
  EXPECT_MESSAGE_HAS(path);
  assert_null(idx.data);
  assert_int_equal(idx.ndims, 0);
  assert_int_equal(idx.count, 0);
  clt_idx_free(&idx); /* safe after failure */
}

static void expect_good(const char *path, int ndims, const uint32_t *dims) {
  clt_idx idx;
  OK(clt_idx_read(path, &idx));
  assert_int_equal(idx.ndims, ndims);
  size_t count = 1;
  for (int i = 0; i < ndims; i++) {
    assert_int_equal(idx.dims[i], dims[i]);
    count *= dims[i];
  }
  for (int i = ndims; i < CLT_IDX_MAX_DIMS; i++) assert_int_equal(idx.dims[i], 0);
  assert_int_equal(idx.count, count);
  assert_non_null(idx.data);
  for (size_t i = 0; i < count; i++) {
    if (idx.data[i] != (unsigned char)(i * 7 + 3))
      fail_msg("%s: element %zu is %u", path, i, idx.data[i]);
  }
  clt_idx_free(&idx);
  assert_null(idx.data);
  clt_idx_free(&idx); /* twice is fine */
}

/* ---- good files ---- */

static void test_good_raw(void **state) {
  (void)state;
  const uint32_t d3[3] = {5, 3, 4};
  bytes b = idx_u8(3, d3, 0);
  expect_good(clt_test_tmp_write("good3", b.p, b.n), 3, d3);
  free(b.p);
  const uint32_t d1[1] = {17};
  b = idx_u8(1, d1, 0);
  expect_good(clt_test_tmp_write("good1", b.p, b.n), 1, d1);
  free(b.p);
  const uint32_t d4[4] = {2, 3, 4, 5};
  b = idx_u8(4, d4, 0);
  expect_good(clt_test_tmp_write("good4", b.p, b.n), 4, d4);
  free(b.p);
}

static void test_good_gzip(void **state) {
  (void)state;
  const uint32_t d3[3] = {7, 6, 5};
  bytes b = idx_u8(3, d3, 0);
  expect_good(clt_test_tmp_write_gz("good3.gz", b.p, b.n), 3, d3);
  /* detected by magic, not by name */
  expect_good(clt_test_tmp_write_gz("gzip-without-suffix", b.p, b.n), 3, d3);
  expect_good(clt_test_tmp_write("raw-with-suffix.gz", b.p, b.n), 3, d3);
  free(b.p);
  /* large enough to span several zlib buffers and a grown read buffer */
  const uint32_t big[3] = {300, 28, 28};
  b = idx_u8(3, big, 0);
  expect_good(clt_test_tmp_write_gz("big.gz", b.p, b.n), 3, big);
  free(b.p);
}

static void test_dims_string(void **state) {
  (void)state;
  clt_idx idx = {.ndims = 3, .dims = {60000, 28, 28}};
  char buf[64];
  clt_idx_dims_string(&idx, buf, sizeof buf);
  assert_string_equal(buf, "60000x28x28");
}

/* ---- length errors ---- */

static void test_truncated(void **state) {
  (void)state;
  const uint32_t d[3] = {10, 4, 4};
  bytes b = idx_u8(3, d, -5);
  expect_fail(clt_test_tmp_write("trunc", b.p, b.n), CLT_ERR_BAD_DATA, "truncated");
  expect_fail(clt_test_tmp_write("trunc", b.p, b.n), CLT_ERR_BAD_DATA, "10x4x4 = 160 bytes");
  expect_fail(clt_test_tmp_write("trunc", b.p, b.n), CLT_ERR_BAD_DATA, "holds 155");
  expect_fail(clt_test_tmp_write_gz("trunc.gz", b.p, b.n), CLT_ERR_BAD_DATA, "holds 155");
  free(b.p);
  /* header only */
  b = idx_u8(3, d, -160);
  expect_fail(clt_test_tmp_write("hdronly", b.p, b.n), CLT_ERR_BAD_DATA, "truncated");
  expect_fail(clt_test_tmp_write_gz("hdronly.gz", b.p, b.n), CLT_ERR_BAD_DATA, "truncated");
  free(b.p);
}

static void test_truncated_header(void **state) {
  (void)state;
  const uint32_t d[3] = {10, 4, 4};
  bytes b = idx_u8(3, d, 0);
  expect_fail(clt_test_tmp_write("empty", b.p, 0), CLT_ERR_BAD_DATA, "too short");
  expect_fail(clt_test_tmp_write("three", b.p, 3), CLT_ERR_BAD_DATA, "too short");
  expect_fail(clt_test_tmp_write("hdr10", b.p, 10), CLT_ERR_BAD_DATA, "truncated header");
  expect_fail(clt_test_tmp_write_gz("hdr10.gz", b.p, 10), CLT_ERR_BAD_DATA, "truncated header");
  expect_fail(clt_test_tmp_write_gz("empty.gz", b.p, 0), CLT_ERR_BAD_DATA, "too short");
  free(b.p);
}

static void test_trailing(void **state) {
  (void)state;
  const uint32_t d[2] = {6, 5};
  bytes b = idx_u8(2, d, 3);
  expect_fail(clt_test_tmp_write("trail", b.p, b.n), CLT_ERR_BAD_DATA, "3 bytes of trailing data");
  expect_fail(clt_test_tmp_write_gz("trail.gz", b.p, b.n), CLT_ERR_BAD_DATA,
              "3 bytes of trailing data");
  free(b.p);
  b = idx_u8(2, d, 100000); /* more than one scratch buffer */
  expect_fail(clt_test_tmp_write_gz("trail_big.gz", b.p, b.n), CLT_ERR_BAD_DATA,
              "100000 bytes of trailing data");
  free(b.p);
}

/* ---- header errors ---- */

static void test_wrong_magic(void **state) {
  (void)state;
  const uint32_t d[1] = {4};
  bytes b = idx_u8(1, d, 0);
  b.p[0] = 0x01;
  b.p[1] = 0x02;
  expect_fail(clt_test_tmp_write("magic", b.p, b.n), CLT_ERR_BAD_DATA, "not an IDX file");
  expect_fail(clt_test_tmp_write_gz("magic.gz", b.p, b.n), CLT_ERR_BAD_DATA, "not an IDX file");
  b.p[0] = 0;
  expect_fail(clt_test_tmp_write("magic2", b.p, b.n), CLT_ERR_BAD_DATA, "not an IDX file");
  free(b.p);
  expect_fail(clt_test_tmp_write("text", "hello world\n", 12), CLT_ERR_BAD_DATA, "not an IDX file");
}

static void test_wrong_type(void **state) {
  (void)state;
  const uint32_t d[1] = {4};
  bytes b = idx_bytes(0x0D, 1, d, 16, 0);
  expect_fail(clt_test_tmp_write("float", b.p, b.n), CLT_ERR_BAD_DATA, "0x0d (float)");
  expect_fail(clt_test_tmp_write_gz("float.gz", b.p, b.n), CLT_ERR_BAD_DATA, "0x0d (float)");
  free(b.p);
  b = idx_bytes(0x42, 1, d, 4, 0);
  expect_fail(clt_test_tmp_write("type42", b.p, b.n), CLT_ERR_BAD_DATA, "0x42");
  free(b.p);
}

static void test_bad_ndims(void **state) {
  (void)state;
  const uint32_t d[5] = {1, 1, 1, 1, 1};
  bytes b = idx_u8(0, d, 4);
  expect_fail(clt_test_tmp_write("nd0", b.p, b.n), CLT_ERR_BAD_DATA, "0 dimensions");
  free(b.p);
  b = idx_u8(5, d, 0);
  expect_fail(clt_test_tmp_write("nd5", b.p, b.n), CLT_ERR_BAD_DATA, "5 dimensions");
  free(b.p);
}

static void test_zero_dim(void **state) {
  (void)state;
  const uint32_t d[3] = {10, 0, 28};
  bytes b = idx_bytes(0x08, 3, d, 0, 0);
  expect_fail(clt_test_tmp_write("zero", b.p, b.n), CLT_ERR_BAD_DATA, "dimension 2 of 3 is 0");
  expect_fail(clt_test_tmp_write_gz("zero.gz", b.p, b.n), CLT_ERR_BAD_DATA,
              "dimension 2 of 3 is 0");
  free(b.p);
}

static void test_overflow(void **state) {
  (void)state;
  const uint32_t d[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
  bytes b = idx_bytes(0x08, 4, d, 0, 8);
  expect_fail(clt_test_tmp_write("overflow", b.p, b.n), CLT_ERR_BAD_DATA, "too many");
  free(b.p);
  /* a gzip header promising far more than the stream can inflate to: refused from the header
   * (before any inflating), not out of memory */
  const uint32_t huge[3] = {0xFFFFFFFFu, 0xFFFFu, 0xFFu};
  b = idx_bytes(0x08, 3, huge, 1000, 0);
  expect_fail(clt_test_tmp_write_gz("huge.gz", b.p, b.n), CLT_ERR_BAD_DATA,
              "more than a gzip file of");
  expect_fail(clt_test_tmp_write("huge", b.p, b.n), CLT_ERR_BAD_DATA, "holds 1000");
  free(b.p);
}

/* ---- gzip stream errors ---- */

static void test_gzip_damage(void **state) {
  (void)state;
  const uint32_t d[3] = {20, 28, 28};
  bytes b = idx_u8(3, d, 0);
  const char *good = clt_test_tmp_write_gz("dmg.gz", b.p, b.n);
  free(b.p);
  bytes z;
  z.p = clt_test_read_file(good, &z.n);
  assert_true(z.n > 40);
  /* compressed stream cut in the middle */
  expect_fail(clt_test_tmp_write("cut.gz", z.p, z.n / 2), CLT_ERR_BAD_DATA, "truncated");
  expect_fail(clt_test_tmp_write("cut.gz", z.p, z.n / 2), CLT_ERR_BAD_DATA,
              "gzip stream ends early");
  /* only the 8-byte trailer (CRC, size) missing: data complete, stream not */
  expect_fail(clt_test_tmp_write("notrailer.gz", z.p, z.n - 8), CLT_ERR_BAD_DATA, "ends early");
  /* wrong CRC */
  z.p[z.n - 8] ^= 0xFF;
  expect_fail(clt_test_tmp_write("crc.gz", z.p, z.n), CLT_ERR_BAD_DATA, "corrupt gzip");
  z.p[z.n - 8] ^= 0xFF;
  /* garbage in the deflate data */
  memset(z.p + 12, 0xFF, 16);
  expect_fail(clt_test_tmp_write("garbage.gz", z.p, z.n), CLT_ERR_BAD_DATA, NULL);
  free(z.p);
}

/* ---- missing input ---- */

static void test_missing(void **state) {
  (void)state;
  expect_fail(clt_test_tmp_path("no-such-file.gz"), CLT_ERR_MISSING_INPUT, "no such file");
  expect_fail(clt_test_tmp_path("no-such-dir/file"), CLT_ERR_MISSING_INPUT, "no such file");
  expect_fail(clt_test_tmpdir(), CLT_ERR_MISSING_INPUT, "folder");
  clt_idx idx;
  EXPECT_FAIL(clt_idx_read("/usr/share/datasets/fashion-mnist/no-such-file", &idx),
              CLT_ERR_MISSING_INPUT, "apt-get install --reinstall dataset-fashion-mnist");
}

static void test_hint(void **state) {
  (void)state;
  assert_non_null(strstr(clt_idx_fix_hint("/usr/share/datasets/fashion-mnist/x.gz"),
                         "apt-get install --reinstall dataset-fashion-mnist"));
  assert_null(strstr(clt_idx_fix_hint("/usr/share/datasets/fashion-mnist-other/x.gz"),
                     "dataset-fashion-mnist"));
  assert_null(strstr(clt_idx_fix_hint("/tmp/x.gz"), "dataset-fashion-mnist"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_raw),         cmocka_unit_test(test_good_gzip),
      cmocka_unit_test(test_dims_string),      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_truncated_header), cmocka_unit_test(test_trailing),
      cmocka_unit_test(test_wrong_magic),      cmocka_unit_test(test_wrong_type),
      cmocka_unit_test(test_bad_ndims),        cmocka_unit_test(test_zero_dim),
      cmocka_unit_test(test_overflow),         cmocka_unit_test(test_gzip_damage),
      cmocka_unit_test(test_missing),          cmocka_unit_test(test_hint),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
