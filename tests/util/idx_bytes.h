/* IDX file bytes for the data-set tests: the header (magic 0 0 TYPE NDIMS, then each dimension
 * as a big-endian uint32) in front of the element bytes; and whole IDX data sets written to
 * files. */
#ifndef CLT_TEST_IDX_BYTES_H
#define CLT_TEST_IDX_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* The size of the header of an IDX file with ndims dimensions. */
#define CLT_TEST_IDX_HEADER(ndims) (4 + 4 * (size_t)(ndims))

/* Writes the header into out (CLT_TEST_IDX_HEADER(ndims) bytes); returns its length. */
size_t clt_test_idx_header(unsigned char *out, unsigned type, int ndims, const uint32_t *dims);

/* Writes a data set of n h x w grey images as the IDX files "<dir>/<images>" (pixels: n*h*w
 * bytes) and "<dir>/<labels>" (labels: n bytes). Fails the test when a file cannot be
 * written. */
void clt_test_write_idx_set(const char *dir, const char *images, const char *labels, int n, int h,
                            int w, const unsigned char *pixels, const unsigned char *labels_data);

/* The side of the images of clt_test_write_block_idx_set(). */
#define CLT_TEST_BLOCK_SIDE 12
/* Writes a learnable data set of n 12x12 grey images, samples first to first + n - 1 of a
 * seeded stream, as clt_test_write_idx_set() does: sample s has class k = hash(s) % 10, and
 * its image lights the 4x3 block of class k (row k / 4, column k % 4) over noise. */
void clt_test_write_block_idx_set(const char *dir, const char *images, const char *labels,
                                  int first, int n);

#endif
