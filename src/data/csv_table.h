/* A CSV table of numeric features and one label column, described by one streaming pass
 * over the file (pass 1): the header, the row count, the label's classes (or a regression
 * target), per-feature mean and standard deviation of the training rows (for
 * standardisation), the byte offset of every chunk of rows (for the shuffled streaming of
 * csv_stream.h) and a CRC of the file. Memory grows with the number of columns, classes and
 * chunks, never with the rows.
 *
 * Rows: the header is row 0; data rows are counted from 0 in file order, bad rows left out.
 * The last round(rows * val_split) rows are the validation rows (as Keras' validation_split),
 * the rows before them the training rows; the statistics come from the training rows only. */
#ifndef CLT_DATA_CSV_TABLE_H
#define CLT_DATA_CSV_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"
#include "data/csv_reader.h"

#define CLT_CSV_MAX_CLASSES 1000
#define CLT_CSV_MAX_COLUMNS 100000
#define CLT_CSV_CHUNK_ROWS  32768 /* default rows per chunk */
#define CLT_CSV_MAX_ROWS    2147483647L
/* Larger magnitudes are bad rows: a feature's square must not overflow the double
 * statistics (Welford's sums over up to CLT_CSV_MAX_ROWS rows), a regression target's squared
 * error must not overflow the float loss. */
#define CLT_CSV_MAX_FEATURE 1e100
#define CLT_CSV_MAX_TARGET  1e18

/* Fixed statistics and classes (from a checkpoint): the file must have these feature columns
 * and label column, and its rows are standardised with these statistics. */
typedef struct clt_csv_schema {
  int features;
  char **feature_names; /* [features] */
  char *label;
  int regression;
  int classes;
  char **class_names; /* [classes]; regression: NULL */
  double *mean, *std; /* [features] */
} clt_csv_schema;

typedef struct clt_csv_options {
  const char *label;           /* the label column's name; NULL: the last column */
  int regression;              /* 1: the label is a numeric target (else class names) */
  int skip_bad_rows;           /* 1: skip and count malformed rows; 0: stop at the first */
  double val_split;            /* fraction of rows at the end held out, in [0, 1) */
  int chunk_rows;              /* rows per chunk (0: CLT_CSV_CHUNK_ROWS) */
  const clt_csv_schema *fixed; /* NULL, or the schema the file must match (eval) */
} clt_csv_options;

typedef struct clt_csv_table {
  char *path;
  int columns;
  char **column_names; /* [columns] */
  int label_column;
  int features;        /* columns - 1 */
  int *feature_column; /* [features]: the file column of each feature */
  int regression;
  int classes;         /* regression: 1 */
  char **class_names;  /* [classes] in class order; NULL for regression */
  int *class_by_name;  /* [classes]: class indices sorted by name (strcmp), for lookup */
  long rows, bad_rows; /* good rows; rows skipped (--skip-bad-rows) */
  char first_bad[512]; /* the message of the first skipped row */
  long train_rows, val_rows;
  double *mean, *std;    /* [features] of the training rows; std 0 is stored as 1 */
  int constant_features; /* features with std 0 */
  uint32_t crc;          /* CRC32 of the whole file */
  uint64_t bytes;        /* file size */
  int chunk_rows;
  long chunks;            /* ceil(rows / chunk_rows) */
  uint64_t *chunk_offset; /* [chunks]: byte offset of row k * chunk_rows */
  long *chunk_line;       /* [chunks]: its line */
  int skip_bad_rows;
} clt_csv_table;

/* Pass 1 over path (or over size bytes at data, named name). *t is zeroed first;
 * clt_csv_table_free is safe after a failure. CLT_ERR_BAD_DATA: an empty file, a header
 * without rows, a malformed row (without skip_bad_rows) "FILE:LINE:COLUMN: what; fix the
 * row or pass --skip-bad-rows", too many classes; CLT_ERR_USAGE: an unknown label column
 * (the message lists the header's columns) or a val_split that leaves no training row. */
clt_status clt_csv_scan(const char *path, const clt_csv_options *o, clt_csv_table *t);
clt_status clt_csv_scan_memory(const void *data, size_t size, const char *name,
                               const clt_csv_options *o, clt_csv_table *t);
void clt_csv_table_free(clt_csv_table *t);

/* Parses the record last read by r into x[features] (standardised) and *label (a class
 * index, or the target's float bits for regression). Returns CLT_OK, or CLT_ERR_BAD_DATA
 * with the message of a bad row (the caller skips it when t->skip_bad_rows). */
clt_status clt_csv_parse_record(const clt_csv_table *t, const clt_csv_reader *r, float *x,
                                int32_t *label);

/* Reads the next good row of r into x and label (*got = 0 at the end), skipping bad rows
 * when t->skip_bad_rows. */
clt_status clt_csv_read_row(const clt_csv_table *t, clt_csv_reader *r, float *x, int32_t *label,
                            int *got);

#endif
