#include "data/csv_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- numbers and rows ---------------------------------------------------------------- */

/* 0: a finite number; -1: not a number; -2: NaN or infinite. Spaces around it are fine. */
static int parse_number(const char *s, double *v) {
  /* Fast path for plain decimals ("-12.345"): with at most 15 digits the mantissa and 10^k
   * (k <= 22) are exact doubles and one IEEE division rounds correctly, so the result is
   * strtod's, bit for bit. Anything else (exponents, spaces, long numbers) goes to strtod. */
  const char *p = s;
  int negative = *p == '-';
  if (*p == '-' || *p == '+') p++;
  uint64_t mantissa = 0;
  int digits = 0, decimals = 0, dot = 0;
  for (;; p++) {
    if (*p >= '0' && *p <= '9') {
      mantissa = mantissa * 10 + (uint64_t)(*p - '0');
      digits++;
      decimals += dot;
    } else if (*p == '.' && !dot) {
      dot = 1;
    } else {
      break;
    }
  }
  if (*p == '\0' && digits > 0 && digits <= 15) {
    static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    double x = (double)mantissa / pow10[decimals];
    *v = negative ? -x : x;
    return 0;
  }
  char *end;
  double x = strtod(s, &end);
  if (end == s) return -1;
  while (*end == ' ' || *end == '\t') end++;
  if (*end != '\0') return -1;
  if (!isfinite(x)) return -2;
  *v = x;
  return 0;
}

static clt_status bad_row(const clt_csv_reader *r, long column, const char *fmt, const char *a,
                          const char *b) {
  char what[400];
  snprintf(what, sizeof what, fmt, a, b);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%ld:%ld: %s; fix the row or skip bad rows", clt_csv_name(r),
                  clt_csv_record_line(r), column, what);
}

/* A field's text for a message: at most 40 bytes. */
static const char *shown(const char *s, char *buf, size_t size) {
  snprintf(buf, size, "%.40s%s", s, strlen(s) > 40 ? "..." : "");
  return buf;
}

static int class_of(const clt_csv_table *t, const char *name) {
  int lo = 0, hi = t->classes - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, k = t->class_by_name[mid];
    int c = strcmp(name, t->class_names[k]);
    if (c == 0) return k;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return -1;
}

/* Checks the record's shape and features; values[features] gets the raw numbers. */
static clt_status check_record(const clt_csv_table *t, const clt_csv_reader *r, double *values) {
  long col;
  const char *quote = clt_csv_record_error(r, &col);
  if (quote) return bad_row(r, col, "%s%s", quote, "");
  int n = clt_csv_field_count(r);
  if (n != t->columns) {
    char got[32], want[48];
    snprintf(got, sizeof got, "%d", n);
    snprintf(want, sizeof want, "%d", t->columns);
    long where = n > t->columns
                     ? clt_csv_field_column(r, t->columns)
                     : clt_csv_field_column(r, n - 1) + (long)strlen(clt_csv_field(r, n - 1));
    return bad_row(r, where, "the row has %s fields but the header has %s", got, want);
  }
  char buf[64];
  for (int j = 0; j < t->features; j++) {
    int c = t->feature_column[j];
    const char *s = clt_csv_field(r, c);
    int k = parse_number(s, &values[j]);
    if (k == -1)
      return bad_row(r, clt_csv_field_column(r, c), "\"%s\" in column \"%s\" is not a number",
                     shown(s, buf, sizeof buf), t->column_names[c]);
    if (k == -2)
      return bad_row(r, clt_csv_field_column(r, c), "\"%s\" in column \"%s\" is not finite",
                     shown(s, buf, sizeof buf), t->column_names[c]);
    if (fabs(values[j]) > CLT_CSV_MAX_FEATURE)
      return bad_row(r, clt_csv_field_column(r, c),
                     "\"%s\" in column \"%s\" is too large to standardise (beyond +-1e100: "
                     "its square overflows the statistics); rescale the column",
                     shown(s, buf, sizeof buf), t->column_names[c]);
  }
  return CLT_OK;
}

/* The label of a checked record: a class (classification, classes known) or a target. */
static clt_status record_label(const clt_csv_table *t, const clt_csv_reader *r, int32_t *label) {
  const char *s = clt_csv_field(r, t->label_column);
  long col = clt_csv_field_column(r, t->label_column);
  char buf[64];
  if (t->regression) {
    double v;
    if (parse_number(s, &v) != 0)
      return bad_row(r, col, "the target \"%s\" in column \"%s\" is not a finite number",
                     shown(s, buf, sizeof buf), t->column_names[t->label_column]);
    if (fabs(v) > CLT_CSV_MAX_TARGET)
      return bad_row(r, col,
                     "the target \"%s\" in column \"%s\" is too large (beyond +-1e18: its "
                     "squared error overflows a float); rescale the column",
                     shown(s, buf, sizeof buf), t->column_names[t->label_column]);
    float f = (float)v;
    memcpy(label, &f, sizeof f);
    return CLT_OK;
  }
  int k = class_of(t, s);
  if (k < 0)
    return bad_row(r, col, "the label \"%s\" is not one of the known classes (column \"%s\")",
                   shown(s, buf, sizeof buf), t->column_names[t->label_column]);
  *label = k;
  return CLT_OK;
}

clt_status clt_csv_parse_record(const clt_csv_table *t, const clt_csv_reader *r, float *x,
                                int32_t *label) {
  double v[64];
  double *values = t->features <= 64 ? v : malloc((size_t)t->features * sizeof *values);
  if (!values) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading a CSV row");
  clt_status st = check_record(t, r, values);
  if (st == CLT_OK) st = record_label(t, r, label);
  if (st == CLT_OK)
    for (int j = 0; j < t->features; j++) x[j] = (float)((values[j] - t->mean[j]) / t->std[j]);
  if (values != v) free(values);
  return st;
}

clt_status clt_csv_read_row(const clt_csv_table *t, clt_csv_reader *r, float *x, int32_t *label,
                            int *got) {
  for (;;) {
    CLT_TRY(clt_csv_next(r, got));
    if (!*got) return CLT_OK;
    clt_status st = clt_csv_parse_record(t, r, x, label);
    if (st == CLT_OK || !t->skip_bad_rows) return st;
  }
}

/* ---- the header ---------------------------------------------------------------------- */

static clt_status unknown_label(const clt_csv_table *t, const char *label) {
  size_t size = 64;
  for (int i = 0; i < t->columns; i++) size += strlen(t->column_names[i]) + 4;
  char *list = malloc(size);
  if (!list) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  list[0] = '\0';
  for (int i = 0; i < t->columns && i < 200; i++) {
    strcat(list, i ? ", " : "");
    strcat(list, t->column_names[i]);
  }
  if (t->columns > 200) strcat(list, ", ...");
  clt_status st =
      clt_fail(CLT_ERR_USAGE, "label column %s: %s has no such column; its columns are: %s", label,
               t->path, list);
  free(list);
  return st;
}

static int column_named(const clt_csv_table *t, const char *name) {
  for (int i = 0; i < t->columns; i++)
    if (strcmp(t->column_names[i], name) == 0) return i;
  return -1;
}

static clt_status read_header(clt_csv_table *t, clt_csv_reader *r, const clt_csv_options *o) {
  int got;
  CLT_TRY(clt_csv_next(r, &got));
  if (!got)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is empty: a CSV data file starts with a header row naming the columns, "
                    "then one row per sample",
                    t->path);
  long col;
  const char *quote = clt_csv_record_error(r, &col);
  if (quote) return clt_fail(CLT_ERR_BAD_DATA, "%s:1:%ld: header row: %s", t->path, col, quote);
  int n = clt_csv_field_count(r);
  if (n < 2)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: the header names %d column; a CSV data file needs at least one feature "
                    "column and a label column",
                    t->path, n);
  if (n > CLT_CSV_MAX_COLUMNS)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: %d columns, more than the %d supported", t->path, n,
                    CLT_CSV_MAX_COLUMNS);
  t->column_names = calloc((size_t)n, sizeof *t->column_names);
  if (!t->column_names) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  t->columns = n;
  for (int i = 0; i < n; i++) {
    const char *name = clt_csv_field(r, i);
    if (i == 0 && strncmp(name, "\xEF\xBB\xBF", 3) == 0) name += 3; /* a UTF-8 byte-order mark */
    t->column_names[i] = strdup(name);
    if (!t->column_names[i]) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int k = 0; k < i; k++)
      if (strcmp(t->column_names[k], t->column_names[i]) == 0)
        return clt_fail(CLT_ERR_BAD_DATA,
                        "%s:1:%ld: the column name \"%s\" appears twice (columns %d and %d); "
                        "give every column its own name",
                        t->path, clt_csv_field_column(r, i), t->column_names[i], k + 1, i + 1);
  }
  const char *label = o->fixed ? o->fixed->label : o->label;
  t->label_column = label ? column_named(t, label) : n - 1;
  if (t->label_column < 0) return unknown_label(t, label);
  t->features = n - 1;
  t->feature_column = malloc((size_t)t->features * sizeof *t->feature_column);
  if (!t->feature_column) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  if (!o->fixed) {
    for (int i = 0, j = 0; i < n; i++)
      if (i != t->label_column) t->feature_column[j++] = i;
    return CLT_OK;
  }
  const clt_csv_schema *s = o->fixed;
  if (s->features != t->features)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s has %d feature columns besides \"%s\" but the model was trained on %d; "
                    "use a file with the training file's columns",
                    t->path, t->features, s->label, s->features);
  for (int j = 0; j < s->features; j++) {
    int c = column_named(t, s->feature_names[j]);
    if (c < 0 || c == t->label_column)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s has no column \"%s\", a feature the model was trained on; use a file "
                      "with the training file's columns",
                      t->path, s->feature_names[j]);
    t->feature_column[j] = c;
  }
  return CLT_OK;
}

/* ---- pass 1 -------------------------------------------------------------------------- */

typedef struct welford {
  long n;
  double *mean, *m2; /* [features] */
} welford;

typedef struct scan_state {
  clt_csv_table *t;
  double *values; /* [features] */
  welford *chunk; /* [chunk_cap] */
  long chunk_cap;
  char **labels; /* distinct label texts, sorted by strcmp */
  int label_count;
} scan_state;

static void welford_add(welford *w, const double *x, int features) {
  w->n++;
  double inv = 1.0 / (double)w->n;
  for (int j = 0; j < features; j++) {
    double d = x[j] - w->mean[j];
    w->mean[j] += d * inv;
    w->m2[j] += d * (x[j] - w->mean[j]);
  }
}

/* Chan et al.'s merge of two partial results into a. */
static void welford_merge(welford *a, const welford *b, int features) {
  if (b->n == 0) return;
  double n = (double)(a->n + b->n);
  for (int j = 0; j < features; j++) {
    double d = b->mean[j] - a->mean[j];
    a->mean[j] += d * (double)b->n / n;
    a->m2[j] += b->m2[j] + d * d * (double)a->n * (double)b->n / n;
  }
  a->n += b->n;
}

static clt_status welford_init(welford *w, int features) {
  w->n = 0;
  w->mean = calloc((size_t)features, sizeof *w->mean);
  w->m2 = calloc((size_t)features, sizeof *w->m2);
  if (!w->mean || !w->m2) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  return CLT_OK;
}

static void welford_free(welford *w) {
  free(w->mean);
  free(w->m2);
}

/* A new chunk starts at the record r holds. */
static clt_status start_chunk(scan_state *s, const clt_csv_reader *r) {
  clt_csv_table *t = s->t;
  if (t->chunks == s->chunk_cap) {
    long cap = s->chunk_cap ? s->chunk_cap * 2 : 64;
    uint64_t *off = realloc(t->chunk_offset, (size_t)cap * sizeof *off);
    if (off) t->chunk_offset = off;
    long *line = realloc(t->chunk_line, (size_t)cap * sizeof *line);
    if (line) t->chunk_line = line;
    welford *w = realloc(s->chunk, (size_t)cap * sizeof *w);
    if (w) s->chunk = w;
    if (!off || !line || !w) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
    s->chunk_cap = cap;
  }
  t->chunk_offset[t->chunks] = clt_csv_record_offset(r);
  t->chunk_line[t->chunks] = clt_csv_record_line(r);
  welford *w = &s->chunk[t->chunks];
  memset(w, 0, sizeof *w);
  t->chunks++;
  if (t->mean) return CLT_OK; /* fixed statistics: none to gather */
  return welford_init(w, t->features);
}

static clt_status add_label(scan_state *s, const clt_csv_reader *r) {
  const char *text = clt_csv_field(r, s->t->label_column);
  int lo = 0, hi = s->label_count - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(text, s->labels[mid]);
    if (c == 0) return CLT_OK;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  if (text[0] == '\0')
    return bad_row(r, clt_csv_field_column(r, s->t->label_column), "the label is empty%s%s", "",
                   "");
  if (s->label_count == CLT_CSV_MAX_CLASSES)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s:%ld: the label column \"%s\" has more than %d distinct values; for a "
                    "numeric target set the task to regression, or pick another label column",
                    s->t->path, clt_csv_record_line(r), s->t->column_names[s->t->label_column],
                    CLT_CSV_MAX_CLASSES);
  char *copy = strdup(text);
  if (!copy) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  memmove(s->labels + lo + 1, s->labels + lo, (size_t)(s->label_count - lo) * sizeof *s->labels);
  s->labels[lo] = copy;
  s->label_count++;
  return CLT_OK;
}

/* One good or bad record of pass 1. */
static clt_status scan_record(scan_state *s, const clt_csv_reader *r) {
  clt_csv_table *t = s->t;
  clt_status st = check_record(t, r, s->values);
  if (st == CLT_OK) {
    int32_t label;
    if (t->regression || t->class_names)
      st = record_label(t, r, &label);
    else
      st = add_label(s, r);
  }
  if (st == CLT_ERR_BAD_DATA && t->skip_bad_rows && strstr(clt_last_error(), "skip bad rows")) {
    if (t->bad_rows++ == 0) snprintf(t->first_bad, sizeof t->first_bad, "%s", clt_last_error());
    return CLT_OK;
  }
  CLT_TRY(st);
  if (t->rows == CLT_CSV_MAX_ROWS)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: more than %ld rows; split the file", t->path,
                    CLT_CSV_MAX_ROWS);
  if (t->rows % t->chunk_rows == 0) CLT_TRY(start_chunk(s, r));
  if (!t->mean) welford_add(&s->chunk[t->chunks - 1], s->values, t->features);
  t->rows++;
  return CLT_OK;
}

/* Class order: by value when every label is a number, else by bytes (strcmp). */
static double label_value(const char *s) {
  double v = 0;
  parse_number(s, &v);
  return v;
}
static int by_value(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  double u = label_value(x), v = label_value(y);
  if (u != v) return u < v ? -1 : 1;
  return strcmp(x, y);
}

static clt_status set_classes(scan_state *s) {
  clt_csv_table *t = s->t;
  t->classes = s->label_count;
  t->class_names = s->labels; /* taken over */
  s->labels = NULL;
  t->class_by_name = malloc((size_t)t->classes * sizeof *t->class_by_name);
  if (!t->class_by_name) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  int numeric = 1;
  for (int k = 0; k < t->classes && numeric; k++) {
    double v;
    numeric = parse_number(t->class_names[k], &v) == 0;
  }
  if (numeric) qsort(t->class_names, (size_t)t->classes, sizeof *t->class_names, by_value);
  for (int k = 0; k < t->classes; k++) t->class_by_name[k] = k;
  /* class_by_name: class indices in strcmp order of their names (insertion sort: few). */
  for (int i = 1; i < t->classes; i++) {
    int k = t->class_by_name[i], j = i - 1;
    while (j >= 0 && strcmp(t->class_names[t->class_by_name[j]], t->class_names[k]) > 0) {
      t->class_by_name[j + 1] = t->class_by_name[j];
      j--;
    }
    t->class_by_name[j + 1] = k;
  }
  if (t->classes < 2)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: the label column \"%s\" holds one value only (\"%s\"); a classifier needs "
                    "at least two classes (for a numeric target set the task to regression)",
                    t->path, t->column_names[t->label_column], t->class_names[0]);
  return CLT_OK;
}

/* Statistics of the training rows: whole chunks from pass 1, and the training part of the
 * chunk where the validation rows begin read again. */
static clt_status training_statistics(scan_state *s, clt_csv_reader *r) {
  clt_csv_table *t = s->t;
  welford all;
  CLT_TRY(welford_init(&all, t->features));
  long full = t->train_rows / t->chunk_rows, part = t->train_rows % t->chunk_rows;
  for (long k = 0; k < full; k++) welford_merge(&all, &s->chunk[k], t->features);
  clt_status st = CLT_OK;
  if (part > 0) {
    welford w;
    st = welford_init(&w, t->features);
    if (st == CLT_OK) st = clt_csv_seek(r, t->chunk_offset[full], t->chunk_line[full]);
    for (long i = 0; i < part && st == CLT_OK;) {
      int got;
      st = clt_csv_next(r, &got);
      if (st == CLT_OK && !got)
        st = clt_fail(CLT_ERR_IO, "%s changed while it was read; read it again", t->path);
      if (st != CLT_OK) break;
      if (check_record(t, r, s->values) != CLT_OK) continue; /* a bad row counted in pass 1 */
      welford_add(&w, s->values, t->features);
      i++;
    }
    if (st == CLT_OK) welford_merge(&all, &w, t->features);
    welford_free(&w);
  }
  t->mean = malloc((size_t)t->features * sizeof *t->mean);
  t->std = malloc((size_t)t->features * sizeof *t->std);
  if (st == CLT_OK && (!t->mean || !t->std))
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (int j = 0; j < t->features && st == CLT_OK; j++) {
    t->mean[j] = all.mean[j];
    double sd = sqrt(all.m2[j] / (double)all.n);
    if (!(sd > 1e-12 * (fabs(all.mean[j]) + 1e-300))) {
      sd = 1.0; /* a constant column: centred only */
      t->constant_features++;
    }
    t->std[j] = sd;
  }
  welford_free(&all);
  clt_clear_error();
  return st;
}

static clt_status use_schema(clt_csv_table *t, const clt_csv_schema *s) {
  t->regression = s->regression;
  t->mean = malloc((size_t)t->features * sizeof *t->mean);
  t->std = malloc((size_t)t->features * sizeof *t->std);
  if (!t->mean || !t->std) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  memcpy(t->mean, s->mean, (size_t)t->features * sizeof *t->mean);
  memcpy(t->std, s->std, (size_t)t->features * sizeof *t->std);
  if (s->regression) return CLT_OK;
  t->classes = s->classes;
  t->class_names = calloc((size_t)s->classes, sizeof *t->class_names);
  t->class_by_name = malloc((size_t)s->classes * sizeof *t->class_by_name);
  if (!t->class_names || !t->class_by_name)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (int k = 0; k < s->classes; k++) {
    t->class_names[k] = strdup(s->class_names[k]);
    if (!t->class_names[k]) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
    int j = k - 1;
    while (j >= 0 && strcmp(t->class_names[t->class_by_name[j]], s->class_names[k]) > 0) {
      t->class_by_name[j + 1] = t->class_by_name[j];
      j--;
    }
    t->class_by_name[j + 1] = k;
  }
  return CLT_OK;
}

static clt_status scan(clt_csv_reader *r, const clt_csv_options *o, clt_csv_table *t) {
  scan_state s;
  memset(&s, 0, sizeof s);
  s.t = t;
  t->chunk_rows = o->chunk_rows > 0 ? o->chunk_rows : CLT_CSV_CHUNK_ROWS;
  t->skip_bad_rows = o->skip_bad_rows;
  t->regression = o->regression;
  t->path = strdup(clt_csv_name(r));
  if (!t->path) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  clt_csv_crc_enable(r);
  clt_status st = read_header(t, r, o);
  if (st == CLT_OK && o->fixed) st = use_schema(t, o->fixed);
  if (st == CLT_OK) {
    s.values = malloc((size_t)t->features * sizeof *s.values);
    s.labels = calloc(CLT_CSV_MAX_CLASSES, sizeof *s.labels);
    if (!s.values || !s.labels) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  for (int got = 1; st == CLT_OK;) {
    st = clt_csv_next(r, &got);
    if (st != CLT_OK || !got) break;
    st = scan_record(&s, r);
  }
  t->crc = clt_csv_crc(r);
  if (st == CLT_OK && t->rows == 0)
    st = clt_fail(CLT_ERR_BAD_DATA, "%s has a header but no data rows%s", t->path,
                  t->bad_rows ? " that could be read (every row was bad)" : "");
  if (st == CLT_OK) {
    t->val_rows = (long)floor((double)t->rows * o->val_split + 0.5);
    t->train_rows = t->rows - t->val_rows;
    if (t->train_rows < 1)
      st = clt_fail(
          CLT_ERR_USAGE,
          "validation split %g leaves no training row of the %ld in %s; use a smaller split",
          o->val_split, t->rows, t->path);
  }
  if (st == CLT_OK && !t->regression && !t->class_names) st = set_classes(&s);
  if (st == CLT_OK && !o->fixed) st = training_statistics(&s, r);
  if (st == CLT_OK && t->regression) t->classes = 1;
  for (long k = 0; k < t->chunks && s.chunk; k++) welford_free(&s.chunk[k]);
  free(s.chunk);
  for (int k = 0; s.labels && k < s.label_count; k++) free(s.labels[k]);
  free(s.labels);
  free(s.values);
  return st;
}

clt_status clt_csv_scan(const char *path, const clt_csv_options *o, clt_csv_table *t) {
  memset(t, 0, sizeof *t);
  clt_csv_reader *r = NULL;
  CLT_TRY(clt_csv_open(path, &r));
  clt_status st = scan(r, o, t);
  struct stat sb;
  if (stat(path, &sb) == 0) t->bytes = (uint64_t)sb.st_size;
  clt_csv_close(r);
  return st;
}

clt_status clt_csv_scan_memory(const void *data, size_t size, const char *name,
                               const clt_csv_options *o, clt_csv_table *t) {
  memset(t, 0, sizeof *t);
  clt_csv_reader *r = NULL;
  CLT_TRY(clt_csv_open_memory(data, size, name, &r));
  clt_status st = scan(r, o, t);
  t->bytes = size;
  clt_csv_close(r);
  return st;
}

void clt_csv_table_free(clt_csv_table *t) {
  if (!t) return;
  for (int i = 0; t->column_names && i < t->columns; i++) free(t->column_names[i]);
  for (int k = 0; t->class_names && k < t->classes; k++) free(t->class_names[k]);
  free(t->column_names);
  free(t->class_names);
  free(t->class_by_name);
  free(t->feature_column);
  free(t->mean);
  free(t->std);
  free(t->chunk_offset);
  free(t->chunk_line);
  free(t->path);
  memset(t, 0, sizeof *t);
}
