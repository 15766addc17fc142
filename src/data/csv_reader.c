/* Hand-written: no Debian C library streams CSV from a fixed buffer with line and column
 * positions for every field, which the error messages need. */
#include "data/csv_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/file_check.h"

struct clt_csv_reader {
  char *name;
  int fd;                   /* -1: memory */
  const unsigned char *buf; /* the read buffer, or the whole memory block */
  unsigned char *own;       /* the read buffer when reading a file */
  size_t len, pos;          /* bytes in buf, next byte */
  uint64_t buf_offset;      /* file offset of buf[0] */
  int eof;                  /* no more to read into buf */
  long line;                /* line of the next byte */
  uint64_t line_start;      /* file offset where that line starts */
  int crc_on;
  uint32_t crc;
  /* The record last read. */
  char *text; /* fields, each NUL-terminated */
  size_t text_len;
  size_t *field_start; /* [field_cap] offsets into text */
  long *field_col;
  int fields, field_cap;
  long rec_line;
  uint64_t rec_offset;
  const char *error;
  long error_col;
};

static clt_status alloc_record(clt_csv_reader *r) {
  r->text = malloc(CLT_CSV_MAX_RECORD + 1);
  r->field_cap = 64;
  r->field_start = malloc((size_t)r->field_cap * sizeof *r->field_start);
  r->field_col = malloc((size_t)r->field_cap * sizeof *r->field_col);
  r->line = 1;
  if (!r->text || !r->field_start || !r->field_col)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV reader");
  return CLT_OK;
}

clt_status clt_csv_open(const char *path, clt_csv_reader **out) {
  *out = NULL;
  int fd;
  CLT_TRY(clt_file_open_read(path, "file", "check the data path", &fd, NULL));
  clt_csv_reader *r = calloc(1, sizeof *r);
  if (!r) {
    close(fd);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV reader");
  }
  r->fd = fd;
  r->name = strdup(path);
  r->own = malloc(CLT_CSV_READ_BUFFER);
  r->buf = r->own;
  clt_status st = alloc_record(r);
  if (st == CLT_OK && (!r->name || !r->own))
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV reader");
  if (st != CLT_OK) {
    clt_csv_close(r);
    return st;
  }
  *out = r;
  return CLT_OK;
}

clt_status clt_csv_open_memory(const void *data, size_t size, const char *name,
                               clt_csv_reader **out) {
  *out = NULL;
  clt_csv_reader *r = calloc(1, sizeof *r);
  if (!r) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV reader");
  r->fd = -1;
  r->name = strdup(name ? name : "<memory>");
  r->buf = data;
  r->len = size;
  r->eof = 1;
  clt_status st = alloc_record(r);
  if (st == CLT_OK && !r->name)
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV reader");
  if (st != CLT_OK) {
    clt_csv_close(r);
    return st;
  }
  *out = r;
  return CLT_OK;
}

void clt_csv_close(clt_csv_reader *r) {
  if (!r) return;
  if (r->fd >= 0) close(r->fd);
  free(r->own);
  free(r->name);
  free(r->text);
  free(r->field_start);
  free(r->field_col);
  free(r);
}

const char *clt_csv_name(const clt_csv_reader *r) {
  return r->name;
}

/* Refills buf; returns 0 at the end of the data, -1 on a read error. */
static int refill(clt_csv_reader *r) {
  if (r->eof) return 0;
  r->buf_offset += r->len;
  r->pos = 0;
  r->len = 0;
  for (;;) {
    ssize_t n = read(r->fd, r->own, CLT_CSV_READ_BUFFER);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) {
      r->eof = 1;
      return 0;
    }
    r->len = (size_t)n;
    if (r->crc_on) r->crc = (uint32_t)crc32(r->crc, r->own, (uInt)n);
    return 1;
  }
}

/* The next byte (-1 at the end, -2 on a read error). */
static inline int get(clt_csv_reader *r) {
  if (r->pos < r->len) return r->buf[r->pos++];
  int k = refill(r);
  if (k <= 0) return k == 0 ? -1 : -2;
  return r->buf[r->pos++];
}

/* The next byte without taking it (-1 at the end, -2 on a read error). */
static inline int peek(clt_csv_reader *r) {
  if (r->pos < r->len) return r->buf[r->pos];
  int k = refill(r);
  if (k <= 0) return k == 0 ? -1 : -2;
  return r->buf[r->pos];
}

static inline uint64_t offset_now(const clt_csv_reader *r) {
  return r->buf_offset + r->pos;
}

static void new_line(clt_csv_reader *r) {
  r->line++;
  r->line_start = offset_now(r);
}

static clt_status add_field(clt_csv_reader *r, long column) {
  if (r->fields == r->field_cap) {
    int cap = r->field_cap * 2;
    size_t *s = realloc(r->field_start, (size_t)cap * sizeof *s);
    if (s) r->field_start = s;
    long *c = realloc(r->field_col, (size_t)cap * sizeof *c);
    if (c) r->field_col = c;
    if (!s || !c) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading a CSV row");
    r->field_cap = cap;
  }
  r->field_start[r->fields] = r->text_len;
  r->field_col[r->fields] = column;
  r->fields++;
  return CLT_OK;
}

static clt_status too_long(const clt_csv_reader *r) {
  return clt_fail(CLT_ERR_BAD_DATA,
                  "%s:%ld: the row is longer than %u bytes (a quote never closed?); fix the file",
                  r->name, r->rec_line, CLT_CSV_MAX_RECORD);
}

static clt_status read_error(const clt_csv_reader *r) {
  return clt_fail(CLT_ERR_IO, "%s: read failed near line %ld: %s", r->name, r->line,
                  strerror(errno));
}

static void set_error(clt_csv_reader *r, const char *what, long column) {
  if (r->error) return;
  r->error = what;
  r->error_col = column;
}

/* A field's text is a C string: a NUL byte in it would cut the field short unseen. */
static const char nul_byte[] = "a NUL byte (\\0) in a field: the file is binary or damaged";

/* Skips to the end of the line after a quoting error. */
static int skip_line(clt_csv_reader *r) {
  for (;;) {
    int c = get(r);
    if (c < 0) return c;
    if (c == '\n') {
      new_line(r);
      return '\n';
    }
  }
}

/* One quoted field, after its opening quote; returns the byte that ended it. */
static int quoted_field(clt_csv_reader *r, long column) {
  for (;;) {
    int c = get(r);
    if (c == -2) return c;
    if (c == -1) {
      set_error(r, "a quoted field is not closed before the end of the file", column);
      return -1;
    }
    if (c == '"') {
      int d = peek(r);
      if (d == '"') {
        get(r);
      } else {
        c = get(r);
        if (c == '\r' && peek(r) == '\n') c = get(r);
        if (c == ',' || c < 0) return c;
        if (c == '\n') {
          new_line(r);
          return c;
        }
        set_error(r, "text after the closing quote of a field",
                  (long)(offset_now(r) - r->line_start));
        return skip_line(r);
      }
    } else if (c == '\n') {
      new_line(r);
    } else if (c == '\0') {
      set_error(r, nul_byte, (long)(offset_now(r) - r->line_start));
    }
    if (r->text_len >= CLT_CSV_MAX_RECORD) return -3;
    r->text[r->text_len++] = (char)c;
  }
}

/* One unquoted field; returns the byte that ended it (',', '\n', or < 0). */
static int plain_field(clt_csv_reader *r) {
  for (;;) {
    /* Fast path over the buffer. */
    while (r->pos < r->len) {
      unsigned char c = r->buf[r->pos++];
      if (c == ',') return c;
      if (c == '\0') set_error(r, nul_byte, (long)(offset_now(r) - r->line_start));
      if (c == '\n') {
        if (r->text_len > 0 && r->text[r->text_len - 1] == '\r') r->text_len--;
        new_line(r);
        return c;
      }
      if (r->text_len >= CLT_CSV_MAX_RECORD) return -3;
      r->text[r->text_len++] = (char)c;
    }
    int k = refill(r);
    if (k < 0) return -2;
    if (k == 0) {
      if (r->text_len > 0 && r->text[r->text_len - 1] == '\r') r->text_len--;
      return -1;
    }
  }
}

clt_status clt_csv_next(clt_csv_reader *r, int *got) {
  *got = 0;
  for (;;) {
    r->fields = 0;
    r->text_len = 0;
    r->error = NULL;
    r->error_col = 0;
    int c = peek(r);
    if (c == -2) return read_error(r);
    if (c == -1) return CLT_OK;
    r->rec_line = r->line;
    r->rec_offset = offset_now(r);
    int end, quoted_any = 0;
    do {
      long column = (long)(offset_now(r) - r->line_start) + 1;
      CLT_TRY(add_field(r, column));
      if (peek(r) == '"') {
        get(r);
        quoted_any = 1;
        end = quoted_field(r, column);
      } else {
        end = plain_field(r);
      }
      if (end == -3) return too_long(r);
      if (end == -2) return read_error(r);
      r->text[r->text_len++] = '\0';
      /* The +1 above reserves room: a record holds at most CLT_CSV_MAX_RECORD bytes. */
      if (r->text_len > CLT_CSV_MAX_RECORD) return too_long(r);
    } while (end == ',');
    if (r->fields == 1 && r->text_len == 1 && !quoted_any) continue; /* blank line */
    *got = 1;
    return CLT_OK;
  }
}

int clt_csv_field_count(const clt_csv_reader *r) {
  return r->fields;
}

const char *clt_csv_field(const clt_csv_reader *r, int i) {
  return r->text + r->field_start[i];
}

long clt_csv_field_column(const clt_csv_reader *r, int i) {
  return r->field_col[i];
}

long clt_csv_record_line(const clt_csv_reader *r) {
  return r->rec_line;
}

uint64_t clt_csv_record_offset(const clt_csv_reader *r) {
  return r->rec_offset;
}

const char *clt_csv_record_error(const clt_csv_reader *r, long *column) {
  if (column) *column = r->error_col;
  return r->error;
}

clt_status clt_csv_seek(clt_csv_reader *r, uint64_t offset, long line) {
  r->crc_on = 0;
  if (r->fd < 0) {
    if (offset > r->len) return clt_fail(CLT_ERR_INTERNAL, "CSV seek past the end");
    r->pos = (size_t)offset;
  } else {
    if (lseek(r->fd, (off_t)offset, SEEK_SET) == (off_t)-1)
      return clt_fail(CLT_ERR_IO, "%s: cannot seek: %s", r->name, strerror(errno));
    r->buf_offset = offset;
    r->len = r->pos = 0;
    r->eof = 0;
  }
  r->line = line;
  r->line_start = offset;
  return CLT_OK;
}

void clt_csv_crc_enable(clt_csv_reader *r) {
  r->crc_on = 1;
  r->crc = (uint32_t)crc32(0L, Z_NULL, 0);
  if (r->fd < 0) r->crc = (uint32_t)crc32(r->crc, r->buf, (uInt)r->len);
}

uint32_t clt_csv_crc(const clt_csv_reader *r) {
  return r->crc;
}
