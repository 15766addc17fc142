/* The compute queue's data wait from profiling events (definition in data_wait.h). */
#include "train/data_wait.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"

/* Loads kept before a forced collection: bounds the events held on the device. */
#define MAX_PENDING 256

static clt_status collect_oldest(clt_data_wait *w, int count);

static void release(clt_data_wait_pending *p) {
  if (p->before) clReleaseEvent(p->before);
  if (p->after) clReleaseEvent(p->after);
  if (p->upload) clReleaseEvent(p->upload);
  memset(p, 0, sizeof *p);
}

clt_status clt_data_wait_before(clt_data_wait *w, cl_command_queue queue) {
  /* The oldest half, long done by now: waiting for them does not drain the queue (which
   * would make the next load wait for its upload and count that as a data wait). */
  if (w->npending == MAX_PENDING) CLT_TRY(collect_oldest(w, MAX_PENDING / 2));
  if (w->npending == w->capacity) {
    int cap = w->capacity ? 2 * w->capacity : 32;
    clt_data_wait_pending *p = realloc(w->pending, (size_t)cap * sizeof *p);
    if (!p) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the data-wait events");
    w->pending = p;
    w->capacity = cap;
  }
  clt_data_wait_pending *p = &w->pending[w->npending];
  memset(p, 0, sizeof *p);
  CLT_CL_CHECK(clEnqueueMarkerWithWaitList(queue, 0, NULL, &p->before));
  w->npending++;
  return CLT_OK;
}

void clt_data_wait_upload(clt_data_wait *w, cl_event upload) {
  if (w->npending == 0 || w->pending[w->npending - 1].upload) return;
  clRetainEvent(upload);
  w->pending[w->npending - 1].upload = upload;
}

clt_status clt_data_wait_after(clt_data_wait *w, cl_command_queue queue) {
  if (w->npending == 0)
    return clt_fail(CLT_ERR_INTERNAL, "clt_data_wait_after without clt_data_wait_before");
  CLT_CL_CHECK(clEnqueueMarkerWithWaitList(queue, 0, NULL, &w->pending[w->npending - 1].after));
  return CLT_OK;
}

static clt_status end_of(cl_event e, cl_ulong *t) {
  CLT_CL_CHECK(clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof *t, t, NULL));
  return CLT_OK;
}

/* Collects the oldest count pending loads and keeps the rest. */
static clt_status collect_oldest(clt_data_wait *w, int count) {
  clt_status st = CLT_OK;
  for (int i = 0; i < count; i++) {
    clt_data_wait_pending *p = &w->pending[i];
    cl_ulong ready = 0, after = 0, data = 0;
    if (st == CLT_OK && p->after) {
      cl_int err = clWaitForEvents(1, &p->after);
      if (err != CL_SUCCESS) st = clt_cl_fail(err, "clWaitForEvents", __FILE__, __LINE__);
      if (st == CLT_OK) st = end_of(p->before, &ready);
      if (st == CLT_OK) st = end_of(p->after, &after);
      if (st == CLT_OK && p->upload) st = end_of(p->upload, &data);
      if (st == CLT_OK) {
        double wait = p->upload && data > ready ? (double)(data - ready) * 1e-6 : 0.0;
        w->wait_ms += wait;
        w->busy_ms += after > ready ? (double)(after - ready) * 1e-6 : 0.0;
        if (wait > w->max_ms) w->max_ms = wait;
        if (wait > 0.01) w->waited++;
        w->loads++;
      }
    }
    release(p);
  }
  memmove(w->pending, w->pending + count, (size_t)(w->npending - count) * sizeof *w->pending);
  w->npending -= count;
  return st;
}

clt_status clt_data_wait_collect(clt_data_wait *w) {
  return collect_oldest(w, w->npending);
}

clt_status clt_data_wait_reset(clt_data_wait *w) {
  clt_status st = clt_data_wait_collect(w);
  w->wait_ms = w->busy_ms = w->max_ms = 0.0;
  w->loads = w->waited = 0;
  return st;
}

void clt_data_wait_free(clt_data_wait *w) {
  for (int i = 0; i < w->npending; i++) release(&w->pending[i]);
  free(w->pending);
  memset(w, 0, sizeof *w);
}
