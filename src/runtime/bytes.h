/* Little binary encodings in host byte order: a growing output buffer and a bounded read
 * cursor. Used for the small checkpoint sections (POSN, SHAP, TABL). Errors are sticky:
 * a failed append sets failed, a read past the end sets short_read and yields zeros, so a
 * caller checks once at the end. */
#ifndef CLT_RUNTIME_BYTES_H
#define CLT_RUNTIME_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct clt_bytes {
  unsigned char *p; /* malloc'd; the caller frees it */
  size_t n, cap;
  int failed; /* out of memory: the contents are incomplete */
} clt_bytes;

void clt_bytes_put(clt_bytes *b, const void *data, size_t n);
void clt_bytes_put_u32(clt_bytes *b, uint32_t v);
void clt_bytes_put_u64(clt_bytes *b, uint64_t v);
void clt_bytes_put_f64(clt_bytes *b, double v);
/* A 32-bit length, then the bytes (no terminator). */
void clt_bytes_put_str(clt_bytes *b, const char *s);

typedef struct clt_byte_cursor {
  const unsigned char *p;
  size_t n, at;
  int short_read; /* a read went past the end */
} clt_byte_cursor;

void clt_cursor_get(clt_byte_cursor *c, void *out, size_t n);
uint32_t clt_cursor_u32(clt_byte_cursor *c);
uint64_t clt_cursor_u64(clt_byte_cursor *c);
double clt_cursor_f64(clt_byte_cursor *c);
/* A string written by clt_bytes_put_str, malloc'd and terminated; NULL when the payload is
 * short (short_read set) or memory ran out (short_read clear). */
char *clt_cursor_str(clt_byte_cursor *c);

#endif
