#include "runtime/bytes.h"

#include <stdlib.h>
#include <string.h>

void clt_bytes_put(clt_bytes *b, const void *data, size_t n) {
  if (b->failed) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

void clt_bytes_put_u32(clt_bytes *b, uint32_t v) {
  clt_bytes_put(b, &v, sizeof v);
}

void clt_bytes_put_u64(clt_bytes *b, uint64_t v) {
  clt_bytes_put(b, &v, sizeof v);
}

void clt_bytes_put_f64(clt_bytes *b, double v) {
  clt_bytes_put(b, &v, sizeof v);
}

void clt_bytes_put_str(clt_bytes *b, const char *s) {
  size_t len = strlen(s);
  clt_bytes_put_u32(b, (uint32_t)len);
  clt_bytes_put(b, s, len);
}

void clt_cursor_get(clt_byte_cursor *c, void *out, size_t n) {
  if (c->short_read || c->n - c->at < n) {
    c->short_read = 1;
    memset(out, 0, n);
    return;
  }
  memcpy(out, c->p + c->at, n);
  c->at += n;
}

uint32_t clt_cursor_u32(clt_byte_cursor *c) {
  uint32_t v;
  clt_cursor_get(c, &v, sizeof v);
  return v;
}

uint64_t clt_cursor_u64(clt_byte_cursor *c) {
  uint64_t v;
  clt_cursor_get(c, &v, sizeof v);
  return v;
}

double clt_cursor_f64(clt_byte_cursor *c) {
  double v;
  clt_cursor_get(c, &v, sizeof v);
  return v;
}

char *clt_cursor_str(clt_byte_cursor *c) {
  uint32_t len = clt_cursor_u32(c);
  if (c->short_read || len > c->n - c->at) {
    c->short_read = 1;
    return NULL;
  }
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  memcpy(s, c->p + c->at, len);
  s[len] = '\0';
  c->at += len;
  return s;
}
