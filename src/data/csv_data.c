#include "data/csv_data.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "runtime/clock.h"

int clt_csv_data_path(const char *path) {
  struct stat sb;
  if (stat(path, &sb) == 0) return S_ISREG(sb.st_mode);
  size_t n = strlen(path);
  return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

clt_status clt_csv_data_open(const char *path, const clt_csv_options *o, clt_csv_data **out) {
  *out = NULL;
  clt_csv_data *d = calloc(1, sizeof *d);
  if (!d) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV data");
  double t0 = clt_now_seconds();
  clt_status st = clt_csv_scan(path, o, &d->table);
  d->scan_seconds = clt_now_seconds() - t0;
  const clt_csv_table *t = &d->table;
  if (st == CLT_OK) st = clt_csv_stream_create(t, 0, t->train_rows, 1, &d->train_stream);
  if (st == CLT_OK && t->val_rows > 0)
    st = clt_csv_stream_create(t, t->train_rows, t->val_rows, 0, &d->val_stream);
  if (st != CLT_OK) {
    clt_csv_data_close(d);
    return st;
  }
  clt_csv_stream_dataset(d->train_stream, &d->train_source, &d->train);
  if (d->val_stream) clt_csv_stream_dataset(d->val_stream, &d->val_source, &d->val);
  *out = d;
  return CLT_OK;
}

void clt_csv_data_close(clt_csv_data *d) {
  if (!d) return;
  clt_csv_stream_destroy(d->train_stream);
  clt_csv_stream_destroy(d->val_stream);
  clt_csv_table_free(&d->table);
  free(d);
}

size_t clt_csv_data_host_bytes(const clt_csv_data *d) {
  size_t b = d->train_stream ? clt_csv_stream_host_bytes(d->train_stream) : 0;
  return b + (d->val_stream ? clt_csv_stream_host_bytes(d->val_stream) : 0);
}

void clt_csv_data_describe(const clt_csv_data *d, const clt_csv_options *o, FILE *out) {
  const clt_csv_table *t = &d->table;
  const char *label = t->column_names[t->label_column];
  if (!o->label && !o->fixed)
    fprintf(out, "No label column given: the label is the last column, \"%s\"\n", label);
  fprintf(out, "CSV: %s, %.1f MB, %ld rows of %d features; pass 1 took %.1f s\n", t->path,
          (double)t->bytes / 1e6, t->rows, t->features, d->scan_seconds);
  if (t->regression) {
    fprintf(out, "  label \"%s\": a regression target (mean squared error)\n", label);
  } else {
    fprintf(out, "  label \"%s\": %d classes (", label, t->classes);
    for (int k = 0; k < t->classes && k < 12; k++)
      fprintf(out, "%s%s", k ? ", " : "", t->class_names[k]);
    fprintf(out, "%s)\n", t->classes > 12 ? ", ..." : "");
  }
  if (t->bad_rows)
    fprintf(out, "  skipped %ld bad rows (as asked: skip bad rows); the first: %s\n", t->bad_rows,
            t->first_bad);
  fprintf(out,
          "  features standardised with the mean and standard deviation of the %ld "
          "training rows",
          t->train_rows);
  if (t->constant_features)
    fprintf(out, "; %d constant feature%s only centred (standard deviation 0)",
            t->constant_features, t->constant_features > 1 ? "s" : "");
  fprintf(out,
          "\n  streamed in %ld chunks of %d rows, shuffled per epoch; host memory for the "
          "streams: %.1f MiB\n",
          t->chunks, t->chunk_rows, (double)clt_csv_data_host_bytes(d) / 1048576.0);
}
