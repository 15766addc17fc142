#include "train/device_data.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/memory.h"

/* The set stays resident when it needs under half the device's memory and
 * fits one buffer: the rest is for the network. */
static int fits_on_device(const clt_ctx *ctx, size_t bytes) {
  return bytes <= ctx->dev.global_mem / 2 && bytes <= ctx->dev.max_alloc;
}

size_t clt_device_data_bytes(const clt_ctx *ctx, const clt_dataset *ds, int batch,
                             int force_stream) {
  size_t sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c, n = (size_t)ds->n;
  size_t images = n * sample * sizeof(float);
  if (!force_stream && fits_on_device(ctx, images))
    return images + 2 * n * sizeof(int32_t); /* images, labels, order */
  size_t b = (size_t)batch;
  return 2 * (b * sample * sizeof(float) + b * sizeof(int32_t)); /* two staging slots */
}

static clt_status create_resident(clt_device_data *dd) {
  size_t n = (size_t)dd->ds->n;
  size_t bytes = n * dd->sample * sizeof(float);
  CLT_TRY(clt_buffer_create(dd->ctx, bytes, &dd->images));
  CLT_TRY(clt_buffer_create(dd->ctx, n * sizeof(int32_t), &dd->labels));
  CLT_TRY(clt_buffer_create(dd->ctx, n * sizeof(int32_t), &dd->order));
  CLT_TRY(clt_buffer_write(dd->ctx, dd->images, 0, bytes, dd->ds->images));
  CLT_TRY(clt_buffer_write(dd->ctx, dd->labels, 0, n * sizeof(int32_t), dd->ds->labels));
  dd->bytes_uploaded += bytes + n * sizeof(int32_t);
  return clt_kernel_create(dd->ctx, "data.cl", "gather_batch", "", &dd->gather);
}

static clt_status create_streaming(clt_device_data *dd) {
  size_t B = (size_t)dd->batch;
  for (int i = 0; i < 2; i++) {
    dd->stage_x[i] = malloc(B * dd->sample * sizeof(float));
    dd->stage_y[i] = malloc(B * sizeof(int32_t));
    if (!dd->stage_x[i] || !dd->stage_y[i])
      return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the batch staging buffers");
    CLT_TRY(clt_buffer_create(dd->ctx, B * dd->sample * sizeof(float), &dd->dev_x[i]));
    CLT_TRY(clt_buffer_create(dd->ctx, B * sizeof(int32_t), &dd->dev_y[i]));
  }
  return CLT_OK;
}

clt_status clt_device_data_create(clt_ctx *ctx, const clt_dataset *ds, int batch, int force_stream,
                                  clt_device_data **out) {
  *out = NULL;
  clt_device_data *dd = calloc(1, sizeof *dd);
  if (!dd) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the data set");
  dd->ctx = ctx;
  dd->ds = ds;
  dd->batch = batch;
  dd->sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
  size_t bytes = (size_t)ds->n * dd->sample * sizeof(float);
  dd->resident = !force_stream && !ds->source && fits_on_device(ctx, bytes);
  clt_status st = dd->resident ? create_resident(dd) : create_streaming(dd);
  if (st != CLT_OK) {
    clt_device_data_destroy(dd);
    return st;
  }
  *out = dd;
  return CLT_OK;
}

void clt_device_data_destroy(clt_device_data *dd) {
  if (!dd) return;
  clFinish(dd->ctx->compute); /* compute first: see clt_ctx_finish */
  clFinish(dd->ctx->transfer);
  /* The staging slots are freed below: wait for the uploads that read them by their own
   * events as well. Under AddressSanitizer a rusticl worker was once seen still copying
   * from a slot after both clFinish calls had returned (the sanitizer suite, loaded). */
  for (int i = 0; i < 2; i++) {
    if (dd->staged_x[i]) clWaitForEvents(1, &dd->staged_x[i]);
    if (dd->uploaded[i]) clWaitForEvents(1, &dd->uploaded[i]);
  }
  clt_buffer_release(&dd->images);
  clt_buffer_release(&dd->labels);
  clt_buffer_release(&dd->order);
  clt_kernel_release(&dd->gather);
  for (int i = 0; i < 2; i++) {
    if (dd->uploaded[i]) clReleaseEvent(dd->uploaded[i]);
    if (dd->consumed[i]) clReleaseEvent(dd->consumed[i]);
    if (dd->staged_x[i]) clReleaseEvent(dd->staged_x[i]);
    clt_buffer_release(&dd->dev_x[i]);
    clt_buffer_release(&dd->dev_y[i]);
    free(dd->stage_x[i]);
    free(dd->stage_y[i]);
  }
  free(dd);
}

static clt_status stage(clt_device_data *dd, int s, int start, int n);

clt_status clt_device_data_set_order(clt_device_data *dd, const int32_t *order) {
  dd->host_order = order;
  if (!dd->resident) { /* a new order: what is staged is stale; stage the first batch */
    dd->staged_n[0] = dd->staged_n[1] = 0;
    int count = dd->ds->n < dd->batch ? dd->ds->n : dd->batch;
    return count > 0 ? stage(dd, dd->next, 0, count) : CLT_OK;
  }
  size_t bytes = (size_t)dd->ds->n * sizeof(int32_t);
  dd->bytes_uploaded += bytes;
  /* Non-blocking on the compute queue: ordered before the gathers that read it.
   * The caller keeps order alive until the queue has run (it does: one epoch). */
  CLT_CL_CHECK(
      clEnqueueWriteBuffer(dd->ctx->compute, dd->order, CL_FALSE, 0, bytes, order, 0, NULL, NULL));
  return CLT_OK;
}

static clt_status load_resident(clt_device_data *dd, int start, int n, cl_mem x, cl_mem labels) {
  clt_kernel *k = &dd->gather;
  clt_arg_mem(k, dd->images);
  clt_arg_mem(k, dd->labels);
  clt_arg_mem(k, dd->order);
  clt_arg_int(k, start);
  clt_arg_int(k, n);
  clt_arg_int(k, (int)dd->sample);
  clt_arg_mem(k, x);
  clt_arg_mem(k, labels);
  return clt_run_1d(dd->ctx, k, (size_t)n * dd->sample);
}

/* Streaming: a host gather into a staging slot and its upload on the transfer queue
 * (stage), then a copy on the compute queue that waits for the upload's events (consume).
 * Each load consumes its batch and stages the next one in order (sequential loads: training
 * steps, evaluation), so batch k+1 is gathered and travels while batch k computes, and is
 * on the device already when the compute queue drains (a metric read-back) and restarts:
 * the compute queue never waits for its data (train/data_wait.h measures it). set_order
 * stages the first batch. A load that finds another batch staged stages its own first. */

/* Gathers samples order[start, start + n) into slot s and enqueues their upload into device
 * slot s, after the compute queue's last copy out of that slot. */
static clt_status stage(clt_device_data *dd, int s, int start, int n) {
  if (dd->uploaded[s]) { /* the host slot is free once its last upload is done */
    CLT_CL_CHECK(clWaitForEvents(1, &dd->uploaded[s]));
    clReleaseEvent(dd->uploaded[s]);
    dd->uploaded[s] = NULL;
  }
  if (dd->staged_x[s]) { /* and the image upload, should the driver run them out of order */
    CLT_CL_CHECK(clWaitForEvents(1, &dd->staged_x[s]));
    clReleaseEvent(dd->staged_x[s]);
    dd->staged_x[s] = NULL;
  }
  dd->staged_n[s] = 0;
  const clt_batch_source *src = dd->ds->source;
  if (src) CLT_TRY(src->read(src->self, start, n, dd->stage_x[s], dd->stage_y[s]));
  for (int i = 0; i < n && !src; i++) {
    int32_t idx = dd->host_order[start + i];
    memcpy(dd->stage_x[s] + (size_t)i * dd->sample, dd->ds->images + (size_t)idx * dd->sample,
           dd->sample * sizeof(float));
    dd->stage_y[s][i] = dd->ds->labels[idx];
  }
  size_t xb = (size_t)n * dd->sample * sizeof(float), yb = (size_t)n * sizeof(int32_t);
  /* The device slot may still be read by the copy of the last load that consumed it. */
  cl_event prior = dd->consumed[s];
  cl_int err =
      clEnqueueWriteBuffer(dd->ctx->transfer, dd->dev_x[s], CL_FALSE, 0, xb, dd->stage_x[s],
                           prior ? 1 : 0, prior ? &prior : NULL, &dd->staged_x[s]);
  if (prior) clReleaseEvent(prior);
  dd->consumed[s] = NULL;
  if (err != CL_SUCCESS) return clt_cl_fail(err, "clEnqueueWriteBuffer", __FILE__, __LINE__);
  err = clEnqueueWriteBuffer(dd->ctx->transfer, dd->dev_y[s], CL_FALSE, 0, yb, dd->stage_y[s], 0,
                             NULL, &dd->uploaded[s]);
  if (err != CL_SUCCESS) return clt_cl_fail(err, "clEnqueueWriteBuffer", __FILE__, __LINE__);
  /* Unflushed, the uploads may never start, and the copies would wait forever. The events
   * are in dd already: released with the rest on failure. */
  CLT_CL_CHECK(clFlush(dd->ctx->transfer));
  dd->bytes_uploaded += xb + yb;
  dd->staged_start[s] = start;
  dd->staged_n[s] = n;
  return CLT_OK;
}

/* Copies staged slot s into x and labels on the compute queue, after its upload. */
static clt_status consume(clt_device_data *dd, int s, cl_mem x, cl_mem labels) {
  size_t n = (size_t)dd->staged_n[s];
  cl_event both[2] = {dd->staged_x[s], dd->uploaded[s]};
  if (dd->wait) clt_data_wait_upload(dd->wait, dd->uploaded[s]);
  dd->staged_n[s] = 0;
  cl_int err = clEnqueueCopyBuffer(dd->ctx->compute, dd->dev_x[s], x, 0, 0,
                                   n * dd->sample * sizeof(float), 2, both, NULL);
  if (err == CL_SUCCESS)
    err = clEnqueueCopyBuffer(dd->ctx->compute, dd->dev_y[s], labels, 0, 0, n * sizeof(int32_t), 0,
                              NULL, &dd->consumed[s]);
  if (err != CL_SUCCESS) return clt_cl_fail(err, "clEnqueueCopyBuffer", __FILE__, __LINE__);
  /* The next upload into this slot waits on consumed[s], an event of the compute
   * queue: that queue must be flushed, or an implementation may never submit it
   * (Mesa rusticl does not, and the run deadlocks). */
  CLT_CL_CHECK(clFlush(dd->ctx->compute));
  return CLT_OK;
}

/* Stages the batch that follows [start, start + n) in order (wrapping to 0) into slot s.
 * A batch source does not wrap: its next epoch starts with a new order (set_order). */
static clt_status stage_next(clt_device_data *dd, int s, int start, int n) {
  if (dd->ds->source && start + n >= dd->ds->n) return CLT_OK;
  int next = start + n < dd->ds->n ? start + n : 0;
  int count = dd->ds->n - next < dd->batch ? dd->ds->n - next : dd->batch;
  return count > 0 ? stage(dd, s, next, count) : CLT_OK;
}

static clt_status load_streaming(clt_device_data *dd, int start, int n, cl_mem x, cl_mem labels) {
  int s = -1;
  for (int i = 0; i < 2; i++)
    if (dd->staged_n[i] == n && dd->staged_start[i] == start) s = i;
  if (s < 0) {
    s = dd->next;
    CLT_TRY(stage(dd, s, start, n));
  }
  CLT_TRY(consume(dd, s, x, labels));
  if (dd->wait) CLT_TRY(clt_data_wait_after(dd->wait, dd->ctx->compute)); /* before staging */
  dd->next = 1 - s;
  return stage_next(dd, 1 - s, start, n);
}

clt_status clt_device_data_load(clt_device_data *dd, int start, int n, cl_mem x, cl_mem labels) {
  if (start < 0 || n < 1 || n > dd->batch || start + n > dd->ds->n)
    return clt_fail(CLT_ERR_INTERNAL, "batch [%d, %d) outside the data set of %d", start, start + n,
                    dd->ds->n);
  /* The data-wait markers (train/data_wait.h): before the host gathers, and after the
   * load's commands (load_streaming places its own, before it stages the next batch). */
  if (dd->wait) CLT_TRY(clt_data_wait_before(dd->wait, dd->ctx->compute));
  if (!dd->resident) return load_streaming(dd, start, n, x, labels);
  CLT_TRY(load_resident(dd, start, n, x, labels));
  return dd->wait ? clt_data_wait_after(dd->wait, dd->ctx->compute) : CLT_OK;
}
