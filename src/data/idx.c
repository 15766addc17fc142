/* IDX reader: raw or gzip (zlib), with strict checks of the header against the file length. */
#include "data/idx.h"

#include "data/dataset.h"
#include "runtime/file_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* One source of bytes: a plain FILE or a zlib stream. */
typedef struct reader {
  const char *path;
  FILE *f;
  gzFile gz;
  int gz_cut; /* the gzip stream ended before its end marker */
} reader;

static int under_default_dir(const char *path) {
  size_t n = strlen(CLT_DEFAULT_DATA_DIR);
  return strncmp(path, CLT_DEFAULT_DATA_DIR, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const char *clt_idx_fix_hint(const char *path) {
  if (under_default_dir(path))
    return "reinstall it with: sudo apt-get install --reinstall dataset-fashion-mnist";
  return "re-download the file";
}

static const char *missing_hint(const char *path) {
  if (under_default_dir(path))
    return "reinstall it with: sudo apt-get install --reinstall dataset-fashion-mnist";
  return "check the path";
}

static const char *type_name(unsigned t) {
  switch (t) {
  case 0x08:
    return "unsigned byte";
  case 0x09:
    return "signed byte";
  case 0x0B:
    return "16-bit integer";
  case 0x0C:
    return "32-bit integer";
  case 0x0D:
    return "float";
  case 0x0E:
    return "double";
  default:
    return "unknown type";
  }
}

void clt_idx_dims_string(const clt_idx *idx, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return;
  buf[0] = '\0';
  for (int i = 0; i < idx->ndims && used < size; i++) {
    int k = snprintf(buf + used, size - used, i ? "x%u" : "%u", (unsigned)idx->dims[i]);
    if (k < 0) break;
    used += (size_t)k;
  }
}

/* Reads up to n bytes into buf and sets *got. A short count with CLT_OK means end of data
 * (for gzip, r->gz_cut tells whether the compressed stream was cut short). */
static clt_status reader_read(reader *r, void *buf, size_t n, size_t *got) {
  *got = 0;
  if (r->f) {
    *got = fread(buf, 1, n, r->f);
    if (*got < n && ferror(r->f))
      return clt_fail(CLT_ERR_IO, "%s: read error: %s; check the disk and the file", r->path,
                      strerror(errno));
    return CLT_OK;
  }
  unsigned char *p = buf;
  while (*got < n) {
    size_t want = n - *got;
    if (want > (1u << 30)) want = 1u << 30;
    /* gzread can lose the count of a partly filled call when the stream is cut short;
     * gztell still counts every byte handed out, so measure with it. */
    z_off_t before = gztell(r->gz);
    int k = gzread(r->gz, p + *got, (unsigned)want);
    z_off_t after = gztell(r->gz);
    size_t delivered = k > 0 ? (size_t)k : 0;
    if (before >= 0 && after > before && (size_t)(after - before) > delivered)
      delivered = (size_t)(after - before);
    *got += delivered;
    if (delivered == want) continue;
    int err = Z_OK;
    const char *msg = gzerror(r->gz, &err);
    switch (err) {
    case Z_OK:
      return CLT_OK; /* clean end of the stream */
    case Z_BUF_ERROR:
      r->gz_cut = 1;
      return CLT_OK;
    case Z_ERRNO:
      return clt_fail(CLT_ERR_IO, "%s: read error: %s; check the disk and the file", r->path,
                      strerror(errno));
    case Z_MEM_ERROR:
      return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of memory while decompressing; free memory",
                      r->path);
    default:
      return clt_fail(CLT_ERR_BAD_DATA, "%s: corrupt gzip data (%s); %s", r->path, msg,
                      clt_idx_fix_hint(r->path));
    }
  }
  return CLT_OK;
}

/* Counts the bytes left in the reader, up to CLT_IDX_TRAILING_PROBE + 1: a gzip stream that
 * goes on past its data is not inflated to its end (a small file may inflate to gigabytes). */
static clt_status count_rest(reader *r, size_t *rest) {
  unsigned char scratch[65536];
  size_t got;
  *rest = 0;
  do {
    size_t want = sizeof scratch;
    if (want > CLT_IDX_TRAILING_PROBE + 1 - *rest) want = CLT_IDX_TRAILING_PROBE + 1 - *rest;
    clt_status s = reader_read(r, scratch, want, &got);
    if (s != CLT_OK) return s;
    *rest += got;
    if (got < want) break;
  } while (*rest <= CLT_IDX_TRAILING_PROBE);
  return CLT_OK;
}

static clt_status length_error(const reader *r, const clt_idx *idx, size_t holds) {
  char dims[64];
  clt_idx_dims_string(idx, dims, sizeof dims);
  if (holds < idx->count)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: truncated: header says %s = %zu bytes of data, file holds %zu%s; %s",
                    r->path, dims, idx->count, holds,
                    r->gz_cut ? " (the gzip stream ends early)" : "", clt_idx_fix_hint(r->path));
  if (holds - idx->count > CLT_IDX_TRAILING_PROBE)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: more than %u bytes of trailing data: header says %s = %zu bytes of data "
                    "and the file goes on past them; %s",
                    r->path, (unsigned)CLT_IDX_TRAILING_PROBE, dims, idx->count,
                    clt_idx_fix_hint(r->path));
  return clt_fail(CLT_ERR_BAD_DATA,
                  "%s: %zu bytes of trailing data: header says %s = %zu bytes of data, file "
                  "holds %zu; %s",
                  r->path, holds - idx->count, dims, idx->count, holds, clt_idx_fix_hint(r->path));
}

static clt_status read_header(reader *r, clt_idx *out) {
  unsigned char h[4 + 4 * CLT_IDX_MAX_DIMS];
  size_t got;
  clt_status s = reader_read(r, h, 4, &got);
  if (s != CLT_OK) return s;
  if (got < 4)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: too short for an IDX file (%zu bytes; the header alone needs at least "
                    "8); %s",
                    r->path, got, clt_idx_fix_hint(r->path));
  if (h[0] != 0 || h[1] != 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: not an IDX file: it starts with bytes %02x %02x %02x %02x, an IDX file "
                    "with 00 00; give an IDX file such as train-images-idx3-ubyte.gz",
                    r->path, h[0], h[1], h[2], h[3]);
  if (h[2] != 0x08)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: IDX element type 0x%02x (%s) is not supported; cltrain reads "
                    "unsigned-byte IDX files (type 0x08)",
                    r->path, h[2], type_name(h[2]));
  int nd = h[3];
  if (nd < 1 || nd > CLT_IDX_MAX_DIMS)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: header says %d dimensions, cltrain reads IDX files with 1 to %d; %s",
                    r->path, nd, CLT_IDX_MAX_DIMS, clt_idx_fix_hint(r->path));
  s = reader_read(r, h + 4, 4 * (size_t)nd, &got);
  if (s != CLT_OK) return s;
  if (got < 4 * (size_t)nd)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: truncated header: %d dimensions need %d header bytes, file holds %zu; %s",
                    r->path, nd, 4 + 4 * nd, 4 + got, clt_idx_fix_hint(r->path));
  out->ndims = nd;
  size_t count = 1;
  int overflow = 0;
  for (int i = 0; i < nd; i++) {
    const unsigned char *b = h + 4 + 4 * i;
    uint32_t d = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    out->dims[i] = d;
    if (d != 0 && count > SIZE_MAX / d) overflow = 1;
    count *= d;
  }
  char dims[64];
  clt_idx_dims_string(out, dims, sizeof dims);
  for (int i = 0; i < nd; i++) {
    if (out->dims[i] == 0)
      return clt_fail(CLT_ERR_BAD_DATA, "%s: dimension %d of %d is 0 (header says %s); %s", r->path,
                      i + 1, nd, dims, clt_idx_fix_hint(r->path));
  }
  if (overflow)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: header says %s elements, too many to address; %s",
                    r->path, dims, clt_idx_fix_hint(r->path));
  out->count = count;
  return CLT_OK;
}

static clt_status oom(const char *path, size_t bytes) {
  return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                  "%s: cannot allocate %zu bytes for the data; free memory or use a smaller "
                  "data set",
                  path, bytes);
}

/* Raw file: the length is known up front, so check it before allocating. */
static clt_status read_raw_data(reader *r, off_t file_size, clt_idx *out) {
  size_t header = 4 + 4 * (size_t)out->ndims;
  size_t holds = file_size > (off_t)header ? (size_t)(file_size - (off_t)header) : 0;
  if (holds != out->count) return length_error(r, out, holds);
  out->data = malloc(out->count);
  if (!out->data) return oom(r->path, out->count);
  size_t got;
  clt_status s = reader_read(r, out->data, out->count, &got);
  if (s != CLT_OK) return s;
  if (got < out->count) return length_error(r, out, got); /* shrank while reading */
  return CLT_OK;
}

/* Gzip: the decompressed length is only known by reading, so grow the buffer as data comes
 * rather than trusting a header that may promise terabytes. It starts at 1 MiB: a 40-byte
 * file that claims 10^9 elements costs no more, and growing a large block is cheap (realloc
 * moves its pages). */
static clt_status read_gz_data(reader *r, clt_idx *out) {
  size_t cap = out->count < ((size_t)1 << 20) ? out->count : ((size_t)1 << 20);
  size_t have = 0;
  out->data = malloc(cap);
  if (!out->data) return oom(r->path, cap);
  for (;;) {
    size_t got;
    clt_status s = reader_read(r, out->data + have, cap - have, &got);
    if (s != CLT_OK) return s;
    have += got;
    if (have < cap) return length_error(r, out, have);
    if (have == out->count) return CLT_OK;
    size_t ncap = cap > out->count / 2 ? out->count : cap * 2;
    uint8_t *p = realloc(out->data, ncap);
    if (!p) return oom(r->path, ncap);
    out->data = p;
    cap = ncap;
  }
}

struct clt_idx_file {
  reader r;
  off_t file_size;
};

/* A gzip file of compressed bytes cannot inflate to more than this (deflate's stored and
 * best ratios: at most about 1032:1, plus the header and trailer). */
static uint64_t gzip_most(off_t compressed) {
  return (uint64_t)compressed * 1032u + 4096u;
}

clt_status clt_idx_read_data(clt_idx_file *f, clt_idx *out) {
  reader *r = &f->r;
  clt_status s = r->gz ? read_gz_data(r, out) : read_raw_data(r, f->file_size, out);
  if (s != CLT_OK) return s;
  /* Anything after the data is an error; reading on also makes zlib check the CRC. */
  size_t rest;
  s = count_rest(r, &rest);
  if (s != CLT_OK) return s;
  if (rest) return length_error(r, out, out->count + rest);
  if (r->gz_cut)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: the gzip stream ends early (the data is complete but the stream's end "
                    "marker is missing); %s",
                    r->path, clt_idx_fix_hint(r->path));
  return CLT_OK;
}

void clt_idx_close(clt_idx_file *f) {
  if (!f) return;
  if (f->r.gz) gzclose_r(f->r.gz);
  if (f->r.f) fclose(f->r.f);
  free(f);
}

clt_status clt_idx_open(const char *path, clt_idx_file **out, clt_idx *header) {
  *out = NULL;
  memset(header, 0, sizeof *header);
  /* Type-checked before it is opened: a FIFO, device or folder is refused, never read. */
  FILE *f;
  uint64_t file_size;
  CLT_TRY(clt_file_fopen_read(path, "file", missing_hint(path), &f, &file_size));
  unsigned char magic[2];
  size_t k = fread(magic, 1, 2, f);
  if (k < 2 && ferror(f)) {
    int e = errno;
    fclose(f);
    return clt_fail(CLT_ERR_IO, "%s: read error: %s; check the disk and the file", path,
                    strerror(e));
  }
  clt_idx_file *x = calloc(1, sizeof *x);
  if (!x) {
    fclose(f);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of host memory", path);
  }
  x->r.path = path;
  x->file_size = (off_t)file_size;
  if (k == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    /* zlib reads the file already opened (and checked), from its start. */
    int fd = dup(fileno(f));
    fclose(f);
    errno = 0;
    x->r.gz = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? gzdopen(fd, "rb") : NULL;
    if (!x->r.gz && fd >= 0) close(fd);
    if (!x->r.gz) {
      free(x);
      if (errno == 0)
        return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of memory opening the gzip stream", path);
      return clt_fail(CLT_ERR_IO, "%s: cannot open: %s; check the file's permissions", path,
                      strerror(errno));
    }
    gzbuffer(x->r.gz, 1u << 18);
  } else {
    rewind(f);
    x->r.f = f;
  }
  clt_status s = read_header(&x->r, header);
  if (s == CLT_OK && x->r.gz && (uint64_t)header->count > gzip_most((off_t)file_size)) {
    char dims[64];
    clt_idx_dims_string(header, dims, sizeof dims);
    s = clt_fail(CLT_ERR_BAD_DATA,
                 "%s: header says %s = %zu bytes of data, more than a gzip file of %lld bytes "
                 "can hold; the header is damaged or the file truncated: %s",
                 path, dims, header->count, (long long)file_size, clt_idx_fix_hint(path));
  }
  if (s != CLT_OK) {
    clt_idx_close(x);
    memset(header, 0, sizeof *header);
    return s;
  }
  *out = x;
  return CLT_OK;
}

clt_status clt_idx_read(const char *path, clt_idx *out) {
  clt_idx_file *f;
  CLT_TRY(clt_idx_open(path, &f, out));
  clt_status s = clt_idx_read_data(f, out);
  clt_idx_close(f);
  if (s != CLT_OK) clt_idx_free(out);
  return s;
}

void clt_idx_free(clt_idx *idx) {
  if (!idx) return;
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}
