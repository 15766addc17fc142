/* Rows of a CSV table (csv_table.h) streamed from the file in chunks, parsed and standardised
 * by a reader thread while the caller uses the previous chunk: memory holds two chunks,
 * whatever the file's size.
 *
 * A stream covers rows [first, first + count) of the table, cut into pieces at the table's
 * chunk boundaries. Shuffled, an epoch visits the pieces in a permuted order (Fisher-Yates
 * from the seed and the epoch, as clt_shuffle_order) and the rows of each piece in a permuted
 * order (from the seed, the epoch and the chunk): the same seed and epoch give the same
 * order, and every row comes exactly once per epoch. Unshuffled, the rows come in file
 * order. */
#ifndef CLT_DATA_CSV_STREAM_H
#define CLT_DATA_CSV_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "data/csv_table.h"
#include "data/dataset.h"

typedef struct clt_csv_stream clt_csv_stream;

/* t is borrowed for the stream's life. */
clt_status clt_csv_stream_create(const clt_csv_table *t, long first, long count, int shuffle,
                                 clt_csv_stream **out);
void clt_csv_stream_destroy(clt_csv_stream *s);

/* The order of epoch (a no-op when unshuffled). The reader thread starts on it at once. */
clt_status clt_csv_stream_begin_epoch(clt_csv_stream *s, uint32_t seed, int epoch);

/* Rows [start, start + n) of the epoch's order into x [n, features] and labels [n]. Reads
 * in sequence are fastest; any other start restarts the reader there. */
clt_status clt_csv_stream_read(clt_csv_stream *s, long start, int n, float *x, int32_t *labels);

/* The row numbers (of the table) of the epoch's order, into rows[count] (tests). */
void clt_csv_stream_order(const clt_csv_stream *s, uint32_t seed, int epoch, long *rows);

/* Host bytes the stream holds (its chunk buffers and file reader). */
size_t clt_csv_stream_host_bytes(const clt_csv_stream *s);

/* A clt_dataset (h = w = 1, c = features) whose samples come from s; source is filled and
 * must outlive the data set. */
void clt_csv_stream_dataset(clt_csv_stream *s, clt_batch_source *source, clt_dataset *out);

#endif
