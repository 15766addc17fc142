/* A CSV file as the trainer's data: pass 1 (csv_table.h), then a shuffled stream over the
 * training rows and a file-order stream over the validation rows (csv_stream.h), each behind
 * a clt_dataset whose samples come from its stream (clt_batch_source). */
#ifndef CLT_DATA_CSV_DATA_H
#define CLT_DATA_CSV_DATA_H

#include <stdio.h>

#include "data/csv_stream.h"
#include "data/csv_table.h"
#include "data/dataset.h"

typedef struct clt_csv_data {
  clt_csv_table table;
  clt_csv_stream *train_stream, *val_stream; /* val_stream: NULL without validation rows */
  clt_batch_source train_source, val_source;
  clt_dataset train, val; /* val.n == 0 without validation rows */
  double scan_seconds;    /* pass 1 */
} clt_csv_data;

/* 1 when path names a CSV file: a regular file, or a name ending in ".csv". */
int clt_csv_data_path(const char *path);

/* Scans path and opens the streams. *out is NULL on failure. */
clt_status clt_csv_data_open(const char *path, const clt_csv_options *o, clt_csv_data **out);
void clt_csv_data_close(clt_csv_data *d);

/* Host bytes the streams hold. */
size_t clt_csv_data_host_bytes(const clt_csv_data *d);

/* What pass 1 found and how the data stream, a few lines for the run's summary. */
void clt_csv_data_describe(const clt_csv_data *d, const clt_csv_options *o, FILE *out);

#endif
