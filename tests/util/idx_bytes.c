/* The IDX header of idx_bytes.h. */
#include "idx_bytes.h"

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
