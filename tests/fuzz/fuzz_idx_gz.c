/* Fuzz harness: the gzip path of the IDX reader (clt_idx_read) with the fuzzer shaping the IDX
 * file inside the stream. The input is one mode byte, one amount byte and the uncompressed IDX
 * bytes; the harness gzips them and then, by mode:
 *   0  the stream as is                     -> read iff the IDX bytes are a good file
 *   1  the stream cut short by 1..32 bytes  -> must fail (the data or the end marker is lost)
 *   2  the IDX bytes split into two members -> as mode 0 (gzip allows concatenated members)
 *   3  the stream, then garbage bytes       -> must not return other data than the IDX bytes
 * On success the data must equal the IDX bytes after the header: nothing lost or invented. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/idx.h"
#include "fuzz_util.h"

#define H "fuzz_idx_gz"

/* Appends the gzip member of n bytes to out (capacity checked by the caller's bound). */
static size_t gzip_member(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
  size_t made = cap - z.avail_out;
  deflateEnd(&z);
  return made;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > (1u << 20)) return 0;
  int mode = data[0] & 3, amount = data[1];
  const uint8_t *idx_bytes = data + 2;
  size_t n = size - 2;
  size_t cap = 2 * (compressBound((uLong)n) + 64) + 256;
  uint8_t *gz = malloc(cap);
  if (!gz) abort();
  size_t len;
  if (mode == 2) {
    size_t split = n ? (size_t)amount % (n + 1) : 0;
    len = gzip_member(idx_bytes, split, gz, cap);
    len += gzip_member(idx_bytes + split, n - split, gz + len, cap - len);
  } else {
    len = gzip_member(idx_bytes, n, gz, cap);
  }
  if (mode == 1) len -= 1 + (size_t)amount % 32 < len ? 1 + (size_t)amount % 32 : len;
  if (mode == 3)
    for (int i = 0; i <= amount % 64; i++) gz[len++] = (uint8_t)(amount * 31 + i);

  clt_clear_error();
  const char *path = fuzz_scratch_file(".idx.gz", gz, len);
  clt_idx idx;
  clt_status st = clt_idx_read(path, &idx);
  free(gz);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, idx.data == NULL && idx.ndims == 0 && idx.count == 0);
    return 0;
  }
  FUZZ_CHECK(H, mode != 1); /* a cut stream never reads as good */
  FUZZ_CHECK(H, idx.ndims >= 1 && idx.ndims <= CLT_IDX_MAX_DIMS && idx.data);
  size_t header = 4 + 4 * (size_t)idx.ndims;
  FUZZ_CHECK(H, n == header + idx.count);
  FUZZ_CHECK(H, memcmp(idx.data, idx_bytes + header, idx.count) == 0);
  clt_idx_free(&idx);
  return 0;
}
