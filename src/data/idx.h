/* Reader for IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
 *
 * Format: 2 zero bytes, a type byte (only 0x08 = unsigned byte is supported), a byte with
 * the number of dimensions (1..4), then one big-endian uint32 per dimension, then the
 * elements in row-major order. The file must hold exactly the bytes the header promises:
 * a short file and trailing bytes are both errors. Gzip is recognised by its magic bytes
 * (1f 8b), not by the file name, and decompressed with zlib. */
#ifndef CLT_DATA_IDX_H
#define CLT_DATA_IDX_H

#include "cltrain/status.h"

#include <stddef.h>
#include <stdint.h>

#define CLT_IDX_MAX_DIMS 4

typedef struct clt_idx {
  int ndims;                       /* 1..4 */
  uint32_t dims[CLT_IDX_MAX_DIMS]; /* dims[0] is the outermost; unused entries are 0 */
  uint8_t *data;                   /* [dims[0], ..., dims[ndims-1]], owned */
  size_t count;                    /* product of the dims */
} clt_idx;

/* Reads the IDX file at path into *out (zeroed first, so clt_idx_free is safe even after a
 * failure). Fails with CLT_ERR_MISSING_INPUT (no such file), CLT_ERR_BAD_DATA (malformed
 * header, unsupported type, truncated or over-long file, corrupt gzip stream), CLT_ERR_IO
 * (read error) or CLT_ERR_OUT_OF_MEMORY, and records a one-line message that names the
 * file. */
clt_status clt_idx_read(const char *path, clt_idx *out);

/* Bytes read past the declared data to tell how much trailing data a file holds; beyond
 * this the message says "more than" (a gzip stream is never inflated to its end). */
#define CLT_IDX_TRAILING_PROBE (1u << 20)

/* The same in two steps, so that the headers of an image file and its label file can be
 * checked against each other (and against a model and the host's memory) before anything
 * large is inflated or allocated. clt_idx_open reads only the header into *header (data
 * NULL); for a gzip file, a header that declares more data than its compressed size can
 * inflate to is CLT_ERR_BAD_DATA. clt_idx_read_data then reads exactly the declared bytes
 * (at most CLT_IDX_TRAILING_PROBE more to tell trailing data) into header->data. */
typedef struct clt_idx_file clt_idx_file;
clt_status clt_idx_open(const char *path, clt_idx_file **out, clt_idx *header);
clt_status clt_idx_read_data(clt_idx_file *f, clt_idx *idx);
void clt_idx_close(clt_idx_file *f);

/* Frees the data and zeroes *idx. NULL and already-freed structs are fine. */
void clt_idx_free(clt_idx *idx);

/* Writes "60000x28x28" (the dims joined by 'x') into buf. */
void clt_idx_dims_string(const clt_idx *idx, char *buf, size_t size);

/* What to tell the user to do about a broken data file at path: reinstall the Debian
 * package for files under CLT_DEFAULT_DATA_DIR, otherwise re-download the file. */
const char *clt_idx_fix_hint(const char *path);

#endif
