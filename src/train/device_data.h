/* A labelled data set feeding a network's input: uploaded once and gathered on
 * the device when it fits, otherwise streamed batch by batch through the
 * transfer queue so that uploads overlap compute. */
#ifndef CLT_TRAIN_DEVICE_DATA_H
#define CLT_TRAIN_DEVICE_DATA_H

#include <CL/cl.h>
#include <stdint.h>

#include "data/dataset.h"
#include "runtime/context.h"
#include "runtime/program.h"
#include "train/data_wait.h"

typedef struct clt_device_data {
  clt_ctx *ctx;          /* borrowed */
  const clt_dataset *ds; /* borrowed */
  int batch;             /* most samples per load */
  size_t sample;         /* floats per sample */
  int resident;          /* 1: whole set on the device */
  cl_mem images, labels; /* resident: [n, sample] and [n] */
  cl_mem order;          /* resident: [n] sample order of the epoch */
  clt_kernel gather;
  const int32_t *host_order; /* streaming: borrowed order of the epoch */
  float *stage_x[2];         /* streaming: host staging, double-buffered */
  int32_t *stage_y[2];
  cl_mem dev_x[2], dev_y[2]; /* streaming: device staging */
  cl_event uploaded[2];      /* streaming: host staging slot free again after this */
  cl_event staged_x[2];      /* streaming: the upload of slot i's images, until consumed */
  int staged_start[2];       /* streaming: slot i holds samples order[start, start + n) */
  int staged_n[2];           /* (0: nothing staged) */
  cl_event consumed[2];      /* streaming: device slot read by the compute queue */
  int next;                  /* streaming: which staging slot is next */
  uint64_t bytes_uploaded;   /* host-to-device bytes, for reports */
  clt_data_wait *wait;       /* borrowed, or NULL: when set (profiling context), each load
                                records its data wait there (train/data_wait.h) */
} clt_device_data;

/* force_stream: 1 to stream even when the set would fit (for tests and bench). */
clt_status clt_device_data_create(clt_ctx *ctx, const clt_dataset *ds, int batch, int force_stream,
                                  clt_device_data **out);
void clt_device_data_destroy(clt_device_data *dd);

/* Device bytes clt_device_data_create would allocate for ds (for the memory plan). */
size_t clt_device_data_bytes(const clt_ctx *ctx, const clt_dataset *ds, int batch,
                             int force_stream);

/* The order of samples for the coming loads ([ds->n], borrowed until the next call). */
clt_status clt_device_data_set_order(clt_device_data *dd, const int32_t *order);

/* Fills x [n, sample] and labels [n] with samples order[start .. start + n), enqueued on the
 * compute queue after any upload it needs (no host wait in the resident case). Streaming
 * stages the next batch in order ahead of time: load batches in order for the best overlap. */
clt_status clt_device_data_load(clt_device_data *dd, int start, int n, cl_mem x, cl_mem labels);

#endif
