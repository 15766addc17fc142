/* Fuzz harness: the IDX reader (clt_idx_read) on the bytes of a file, raw or gzip (the reader
 * tells them apart by the gzip magic). The bytes go through a scratch file in RAM rather than
 * an in-memory entry point: zlib's gzFile reads files only, and this way the fuzzer runs the
 * very code `cltrain train` runs. On success the data must be what the file holds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/idx.h"
#include "fuzz_util.h"

#define H "fuzz_idx"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clt_clear_error();
  const char *path = fuzz_scratch_file(".idx", data, size);
  clt_idx idx;
  clt_status st = clt_idx_read(path, &idx);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, idx.data == NULL && idx.ndims == 0 && idx.count == 0);
    return 0;
  }
  FUZZ_CHECK(H, idx.ndims >= 1 && idx.ndims <= CLT_IDX_MAX_DIMS && idx.data);
  size_t count = 1;
  for (int i = 0; i < idx.ndims; i++) {
    FUZZ_CHECK(H, idx.dims[i] > 0);
    count *= idx.dims[i];
  }
  FUZZ_CHECK(H, count == idx.count);
  size_t header = 4 + 4 * (size_t)idx.ndims;
  int gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (!gzip) {
    /* A raw file is exactly its header and its data. */
    FUZZ_CHECK(H, size == header + count && memcmp(idx.data, data + header, count) == 0);
  } else {
    /* Touch every byte: the sanitizers check the buffer's extent. */
    unsigned sum = 0;
    for (size_t i = 0; i < count; i++) sum += idx.data[i];
    fuzz_sink_unsigned = sum;
  }
  clt_idx_free(&idx);
  return 0;
}
