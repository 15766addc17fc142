#include "data/csv_schema.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct out_bytes {
  unsigned char *p;
  size_t n, cap;
  int failed;
} out_bytes;

static void put(out_bytes *b, const void *data, size_t n) {
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

static void put_u32(out_bytes *b, uint32_t v) {
  put(b, &v, sizeof v);
}

static void put_str(out_bytes *b, const char *s) {
  put_u32(b, (uint32_t)strlen(s));
  put(b, s, strlen(s));
}

clt_status clt_csv_schema_encode(const clt_csv_table *t, unsigned char **out, size_t *length) {
  out_bytes b = {0};
  put_u32(&b, 1);
  put_u32(&b, (uint32_t)t->regression);
  put_u32(&b, (uint32_t)t->features);
  put_u32(&b, t->regression ? 0u : (uint32_t)t->classes);
  put_str(&b, t->column_names[t->label_column]);
  for (int j = 0; j < t->features; j++) {
    put_str(&b, t->column_names[t->feature_column[j]]);
    put(&b, &t->mean[j], sizeof(double));
    put(&b, &t->std[j], sizeof(double));
  }
  for (int k = 0; !t->regression && k < t->classes; k++) put_str(&b, t->class_names[k]);
  if (b.failed) {
    free(b.p);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving the CSV statistics");
  }
  *out = b.p;
  *length = b.n;
  return CLT_OK;
}

typedef struct cursor {
  const unsigned char *p;
  size_t n, at;
  int bad;
} cursor;

static void get(cursor *c, void *out, size_t n) {
  if (c->bad || n > c->n - c->at) {
    c->bad = 1;
    memset(out, 0, n);
    return;
  }
  memcpy(out, c->p + c->at, n);
  c->at += n;
}

static uint32_t get_u32(cursor *c) {
  uint32_t v;
  get(c, &v, sizeof v);
  return v;
}

static char *get_str(cursor *c) {
  uint32_t len = get_u32(c);
  if (c->bad || len > c->n - c->at) {
    c->bad = 1;
    return NULL;
  }
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  memcpy(s, c->p + c->at, len);
  s[len] = '\0';
  c->at += len;
  return s;
}

clt_status clt_csv_schema_decode(const unsigned char *p, size_t n, const char *name,
                                 clt_csv_schema *s) {
  memset(s, 0, sizeof *s);
  cursor c = {p, n, 0, 0};
  uint32_t format = get_u32(&c), regression = get_u32(&c), features = get_u32(&c),
           classes = get_u32(&c);
  if (c.bad || format != 1 || regression > 1 || features < 1 || features > CLT_CSV_MAX_COLUMNS ||
      classes > CLT_CSV_MAX_CLASSES || (!regression && classes < 2))
    return clt_fail(CLT_ERR_BAD_DATA, "%s: the CSV statistics (section TABL) are malformed", name);
  s->regression = (int)regression;
  s->features = (int)features;
  s->classes = (int)classes;
  s->label = get_str(&c);
  s->feature_names = calloc(features, sizeof *s->feature_names);
  s->mean = calloc(features, sizeof *s->mean);
  s->std = calloc(features, sizeof *s->std);
  s->class_names = classes ? calloc(classes, sizeof *s->class_names) : NULL;
  int oom = !s->feature_names || !s->mean || !s->std || (classes && !s->class_names);
  for (uint32_t j = 0; j < features && !oom && !c.bad; j++) {
    s->feature_names[j] = get_str(&c);
    get(&c, &s->mean[j], sizeof(double));
    get(&c, &s->std[j], sizeof(double));
    if (!c.bad && !s->feature_names[j]) oom = 1;
    if (!isfinite(s->mean[j]) || !(s->std[j] > 0) || !isfinite(s->std[j])) c.bad = 1;
  }
  for (uint32_t k = 0; k < classes && !oom && !c.bad; k++)
    if (!(s->class_names[k] = get_str(&c)) && !c.bad) oom = 1;
  if (!oom && !c.bad && !s->label) oom = 1;
  if (oom || c.bad || c.at != n) {
    clt_csv_schema_free(s);
    if (oom) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s", name);
    return clt_fail(CLT_ERR_BAD_DATA, "%s: the CSV statistics (section TABL) are malformed", name);
  }
  return CLT_OK;
}

void clt_csv_schema_free(clt_csv_schema *s) {
  if (!s) return;
  for (int j = 0; s->feature_names && j < s->features; j++) free(s->feature_names[j]);
  for (int k = 0; s->class_names && k < s->classes; k++) free(s->class_names[k]);
  free(s->feature_names);
  free(s->class_names);
  free(s->label);
  free(s->mean);
  free(s->std);
  memset(s, 0, sizeof *s);
}
