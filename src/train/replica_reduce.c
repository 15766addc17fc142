/* The gradient reduction of a data-parallel step (train/replicas.h): one read per bucket of
 * each lane's gradient arena (as the device lays it out, padding and all) into host-visible
 * staging, enqueued right after the backward of the layer that completes the bucket (the
 * network's after_backward hook, replicas.c), so that the first buckets reach the host while
 * the devices still compute the first layers' backward. Each bucket is summed tensor by
 * tensor over the lanes in lane order into the model's packed layout as soon as its reads
 * complete, and its sum over the ranks started; the sum is scattered back into each lane's
 * staging and written in one write per lane. Few commands: some drivers (rusticl) spend
 * milliseconds on each. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h> /* nanosleep */

#include "cltrain/status.h"
#include "runtime/clock.h"
#include "runtime/fail.h"
#include "train/replicas.h"

/* The tensors in backward order, their packed offsets and the buckets: a bucket closes after
 * the tensor that brings it to bucket_bytes (whole tensors; the layout depends on the model
 * and the setting only). */
clt_status clt_replicas_plan(clt_replicas *r) {
  if (r->planned) return CLT_OK;
  const clt_network *net = r->lane[0].net;
  int n = 0;
  for (int i = 0; i < net->model->layer_count; i++) n += net->layers[i].sizes.param_count;
  r->tensors = calloc((size_t)(n ? n : 1), sizeof *r->tensors);
  r->bucket_end = calloc((size_t)(n ? n : 1), sizeof *r->bucket_end);
  r->requests = calloc((size_t)(n ? n : 1), sizeof *r->requests);
  r->work = calloc(2 * (size_t)(n ? n : 1), sizeof *r->work);
  if (!r->tensors || !r->bucket_end || !r->requests || !r->work)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the gradient reduction");
  size_t packed = 0, in_bucket = 0;
  int t = 0;
  for (int i = net->model->layer_count - 1; i >= 0; i--)
    for (int k = 0; k < net->layers[i].sizes.param_count; k++) {
      size_t floats = net->layers[i].sizes.params[k].count;
      r->tensors[t] = (clt_replica_tensor){i, k, floats, packed};
      packed += floats;
      in_bucket += floats * sizeof(float);
      t++;
      if (in_bucket >= r->bucket_bytes) {
        r->bucket_end[r->buckets++] = t;
        in_bucket = 0;
      }
    }
  if (in_bucket > 0 || r->buckets == 0) r->bucket_end[r->buckets++] = t;
  r->tensor_count = n;
  r->packed_floats = packed;
  r->sum = malloc((packed ? packed : 1) * sizeof(float));
  if (!r->sum) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the gradient sum");
  for (int l = 0; l < r->lanes; l++) {
    clt_lane *ln = &r->lane[l];
    cl_int err = CL_SUCCESS;
    size_t bytes = ln->net->grads.size;
    ln->pinned = clCreateBuffer(ln->ctx->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes,
                                NULL, &err);
    if (err != CL_SUCCESS)
      return clt_fail(CLT_ERR_OUT_OF_MEMORY, "no host-visible buffer of %zu bytes on %s", bytes,
                      ln->ctx->dev.name);
    ln->host = clEnqueueMapBuffer(ln->ctx->compute, ln->pinned, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                  0, bytes, 0, NULL, NULL, &err);
    if (err != CL_SUCCESS || !ln->host)
      return clt_fail(CLT_ERR_DEVICE, "cannot map a host-visible buffer on %s", ln->ctx->dev.name);
    ln->reads = calloc((size_t)r->buckets, sizeof *ln->reads);
    if (!ln->reads) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for events");
  }
  r->planned = 1;
  return CLT_OK;
}

/* Bytes [*lo, *hi) of lane l's gradient arena that tensors [first, end) occupy. */
static void span(const clt_replicas *r, int l, int first, int end, size_t *lo, size_t *hi) {
  const clt_network *net = r->lane[l].net;
  *lo = (size_t)-1;
  *hi = 0;
  for (int t = first; t < end; t++) {
    const clt_replica_tensor *ts = &r->tensors[t];
    size_t a = net->layers[ts->lane_layer].param_offset[ts->param];
    size_t b = a + ts->floats * sizeof(float);
    if (a < *lo) *lo = a;
    if (b > *hi) *hi = b;
  }
  if (*hi == 0) *lo = 0;
}

/* Where tensor t lies in lane l's staging. */
static float *in_lane(const clt_replicas *r, int l, int t) {
  const clt_replica_tensor *ts = &r->tensors[t];
  const clt_network *net = r->lane[l].net;
  return r->lane[l].host + net->layers[ts->lane_layer].param_offset[ts->param] / sizeof(float);
}

/* The layer whose backward completes bucket b: that of its last tensor (backward order). */
static int bucket_layer(const clt_replicas *r, int b) {
  return r->tensors[r->bucket_end[b] - 1].lane_layer;
}

static void CL_CALLBACK lane_done(cl_event event, cl_int status, void *user) {
  (void)event, (void)status;
  clt_lane *ln = user;
  ln->done_at = clt_now_seconds();
  atomic_store(&ln->done, 1);
}

/* Timing: a marker after the lane's last read, whose callback notes when it completed. */
static clt_status mark_done(clt_lane *ln) {
  if (ln->done_marker) clReleaseEvent(ln->done_marker);
  ln->done_marker = NULL;
  ln->done_at = 0;
  atomic_store(&ln->done, 0);
  cl_int err = clEnqueueMarkerWithWaitList(ln->ctx->compute, 0, NULL, &ln->done_marker);
  if (err == CL_SUCCESS) err = clSetEventCallback(ln->done_marker, CL_COMPLETE, lane_done, ln);
  if (err != CL_SUCCESS)
    return clt_fail(CLT_ERR_DEVICE, "timing the gradients of %s failed (OpenCL error %d)",
                    ln->ctx->dev.name, err);
  return CLT_OK;
}

clt_status clt_replicas_read_through(clt_replicas *r, int l, int layer) {
  clt_lane *ln = &r->lane[l];
  int was = ln->next_read, first = was ? r->bucket_end[was - 1] : 0, any = 0;
  for (; ln->next_read < r->buckets; ln->next_read++) {
    int b = ln->next_read, end = r->bucket_end[b];
    if (layer >= 0 && bucket_layer(r, b) < layer) break;
    size_t lo, hi;
    span(r, l, first, end, &lo, &hi);
    first = end;
    if (ln->reads[b]) clReleaseEvent(ln->reads[b]);
    ln->reads[b] = NULL;
    if (hi == lo) continue;
    cl_int err = clEnqueueReadBuffer(ln->ctx->compute, ln->net->grads.mem, CL_FALSE, lo, hi - lo,
                                     (char *)ln->host + lo, 0, NULL, &ln->reads[b]);
    if (err != CL_SUCCESS)
      return clt_fail(CLT_ERR_DEVICE, "reading the gradients of %s failed (OpenCL error %d)",
                      ln->ctx->dev.name, err);
    r->times.reads++;
    if (layer > 0) r->times.early_reads++; /* layers below still to run on this queue */
    any = 1;
  }
  if (r->timing && was < r->buckets && ln->next_read == r->buckets) CLT_TRY(mark_done(ln));
  if (any) clFlush(ln->ctx->compute);
  return CLT_OK;
}

/* Waits for lane l's read of bucket b. A blocking wait: polling with MPI progress calls
 * in between (Open MPI moves a non-blocking sum on only inside MPI calls) measured no faster
 * under mpirun on PoCL (docs/SCALING.md); the sums under way progress at each bucket's
 * start (dist/peers_mpi.c) and in the final waits. */
static clt_status wait_read(clt_replicas *r, int l, int b) {
  cl_int err = clWaitForEvents(1, &r->lane[l].reads[b]);
  if (err != CL_SUCCESS)
    return clt_fail(CLT_ERR_DEVICE, "device %s failed computing its gradients (OpenCL error %d)",
                    r->lane[l].ctx->dev.name, err);
  return CLT_OK;
}

/* Timing: when lane l's gradients were all read (its marker's callback; the host's own
 * clock if the callback is late by more than a second). */
static double lane_done_at(clt_lane *ln) {
  double now = clt_now_seconds(), give_up = now + 1.0;
  while (!atomic_load(&ln->done) && clt_now_seconds() < give_up) {
    struct timespec pause = {0, 20000};
    nanosleep(&pause, NULL);
  }
  return atomic_load(&ln->done) ? ln->done_at : now;
}

/* Timing: compute, hidden reduction and wait of this step (train/replicas.h); the compute
 * ended when the last lane's gradients were all read. */
static void note_times(clt_replicas *r) {
  double done[CLT_REPLICAS_MAX], last = r->step_start, idle = 0, hidden = 0;
  for (int l = 0; l < r->lanes; l++) {
    done[l] = lane_done_at(&r->lane[l]);
    if (done[l] > last) last = done[l];
  }
  for (int l = 0; l < r->lanes; l++) idle += last - done[l];
  for (int b = 0; b < r->buckets; b++) {
    double a = r->work[2 * b], e = r->work[2 * b + 1] < last ? r->work[2 * b + 1] : last;
    if (e > a) hidden += e - a;
  }
  r->times.compute += last - r->step_start;
  r->times.wait += idle / r->lanes;
  r->times.hidden += hidden;
  r->compute_end = last;
}

clt_status clt_replicas_reduce(clt_replicas *r) {
  int first = 0;
  for (int b = 0; b < r->buckets; b++) {
    int end = r->bucket_end[b];
    for (int l = 0; l < r->lanes; l++)
      if (r->lane[l].reads[b]) CLT_TRY(wait_read(r, l, b));
    if (r->timing) r->work[2 * b] = clt_now_seconds();
    /* Lane order, fixed: the same bits on every run. */
    for (int t = first; t < end; t++) {
      float *sum = r->sum + r->tensors[t].packed;
      size_t n = r->tensors[t].floats;
      memcpy(sum, in_lane(r, 0, t), n * sizeof(float));
      for (int l = 1; l < r->lanes; l++) {
        const float *h = in_lane(r, l, t);
        for (size_t i = 0; i < n; i++) sum[i] += h[i];
      }
    }
    size_t lo = r->tensors[first].packed;
    size_t hi = r->tensors[end - 1].packed + r->tensors[end - 1].floats;
    CLT_TRY(clt_peers_sum_start(r->peers, r->sum + lo, hi - lo, &r->requests[b]));
    if (r->timing) r->work[2 * b + 1] = clt_now_seconds();
    first = end;
  }
  if (r->timing) note_times(r);
  for (int b = 0; b < r->buckets; b++) CLT_TRY(clt_peers_sum_wait(r->peers, r->requests[b]));
  /* The next step's reads into a lane's staging follow this write on its in-order queue. */
  for (int l = 0; l < r->lanes; l++) {
    clt_lane *ln = &r->lane[l];
    for (int t = 0; t < r->tensor_count; t++)
      memcpy(in_lane(r, l, t), r->sum + r->tensors[t].packed, r->tensors[t].floats * sizeof(float));
    size_t lo, hi;
    span(r, l, 0, r->tensor_count, &lo, &hi);
    if (hi == lo) continue;
    cl_int err = clEnqueueWriteBuffer(ln->ctx->compute, ln->net->grads.mem, CL_FALSE, lo, hi - lo,
                                      (char *)ln->host + lo, 0, NULL, NULL);
    if (err != CL_SUCCESS)
      return clt_fail(CLT_ERR_DEVICE, "writing the summed gradients to %s failed (OpenCL error %d)",
                      ln->ctx->dev.name, err);
  }
  return CLT_OK;
}
