#include "data/csv_schema.h"

#include "runtime/bytes.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

clt_status clt_csv_schema_encode(const clt_csv_table *t, unsigned char **out, size_t *length) {
  clt_bytes b = {0};
  clt_bytes_put_u32(&b, 1);
  clt_bytes_put_u32(&b, (uint32_t)t->regression);
  clt_bytes_put_u32(&b, (uint32_t)t->features);
  clt_bytes_put_u32(&b, t->regression ? 0u : (uint32_t)t->classes);
  clt_bytes_put_str(&b, t->column_names[t->label_column]);
  for (int j = 0; j < t->features; j++) {
    clt_bytes_put_str(&b, t->column_names[t->feature_column[j]]);
    clt_bytes_put(&b, &t->mean[j], sizeof(double));
    clt_bytes_put(&b, &t->std[j], sizeof(double));
  }
  for (int k = 0; !t->regression && k < t->classes; k++) clt_bytes_put_str(&b, t->class_names[k]);
  if (b.failed) {
    free(b.p);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving the CSV statistics");
  }
  *out = b.p;
  *length = b.n;
  return CLT_OK;
}

clt_status clt_csv_schema_decode(const unsigned char *p, size_t n, const char *name,
                                 clt_csv_schema *s) {
  memset(s, 0, sizeof *s);
  clt_byte_cursor c = {p, n, 0, 0};
  uint32_t format = clt_cursor_u32(&c), regression = clt_cursor_u32(&c),
           features = clt_cursor_u32(&c), classes = clt_cursor_u32(&c);
  if (c.short_read || format != 1 || regression > 1 || features < 1 ||
      features > CLT_CSV_MAX_COLUMNS || classes > CLT_CSV_MAX_CLASSES ||
      (!regression && classes < 2))
    return clt_fail(CLT_ERR_BAD_DATA, "%s: the CSV statistics (section TABL) are malformed", name);
  s->regression = (int)regression;
  s->features = (int)features;
  s->classes = (int)classes;
  s->label = clt_cursor_str(&c);
  s->feature_names = calloc(features, sizeof *s->feature_names);
  s->mean = calloc(features, sizeof *s->mean);
  s->std = calloc(features, sizeof *s->std);
  s->class_names = classes ? calloc(classes, sizeof *s->class_names) : NULL;
  int oom = !s->feature_names || !s->mean || !s->std || (classes && !s->class_names);
  int bad_value = 0;
  for (uint32_t j = 0; j < features && !oom && !c.short_read && !bad_value; j++) {
    s->feature_names[j] = clt_cursor_str(&c);
    clt_cursor_get(&c, &s->mean[j], sizeof(double));
    clt_cursor_get(&c, &s->std[j], sizeof(double));
    if (!c.short_read && !s->feature_names[j]) oom = 1;
    if (!isfinite(s->mean[j]) || !(s->std[j] > 0) || !isfinite(s->std[j])) bad_value = 1;
  }
  for (uint32_t k = 0; k < classes && !oom && !c.short_read && !bad_value; k++)
    if (!(s->class_names[k] = clt_cursor_str(&c)) && !c.short_read) oom = 1;
  if (!oom && !c.short_read && !s->label) oom = 1;
  if (oom || c.short_read || bad_value || c.at != n) {
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
