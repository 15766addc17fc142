/* How long the compute queue stands idle waiting for its data (docs/PERFORMANCE.md).
 *
 * Definition, per batch load on the compute queue (train/device_data.c), from OpenCL
 * profiling events (the context must profile):
 *   ready = END of a marker enqueued on the compute queue as the load begins, before the host
 *           gathers the batch: the moment every earlier command of the queue (the previous
 *           step) had finished;
 *   data  = END of the load's upload on the transfer queue (streamed data; resident data has
 *           none: its batch is gathered from device memory and is always there);
 *   wait  = max(0, data - ready): the time the compute queue had nothing to run because the
 *           batch had not arrived. A host that falls behind (decoding or gathering the batch
 *           late) shows here too, as a late upload.
 * Also, busy = END of a marker just after the load - ready: the device time of the load's own
 * commands (the gather kernel, or the staging copy) plus any wait.
 * Collecting waits for the events: do it between timed sections, not per step. */
#ifndef CLT_TRAIN_DATA_WAIT_H
#define CLT_TRAIN_DATA_WAIT_H

#include <CL/cl.h>

#include "cltrain/status.h"

typedef struct clt_data_wait_pending {
  cl_event before, after; /* markers on the compute queue around the load */
  cl_event upload;        /* the load's upload (streamed), or NULL */
} clt_data_wait_pending;

typedef struct clt_data_wait {
  clt_data_wait_pending *pending;
  int npending, capacity;
  double wait_ms; /* sum of wait over the collected loads */
  double busy_ms; /* sum of busy */
  double max_ms;  /* the longest single wait */
  long loads;     /* loads collected */
  long waited;    /* loads with a wait over 0.01 ms */
} clt_data_wait;

/* A load: clt_data_wait_before as it begins (a marker on queue), clt_data_wait_upload with
 * the event its data arrive with (streamed; retained here), clt_data_wait_after once its
 * commands are enqueued (a second marker). */
clt_status clt_data_wait_before(clt_data_wait *w, cl_command_queue queue);
void clt_data_wait_upload(clt_data_wait *w, cl_event upload);
clt_status clt_data_wait_after(clt_data_wait *w, cl_command_queue queue);

/* Waits for the pending events and adds them to the sums. */
clt_status clt_data_wait_collect(clt_data_wait *w);

/* Zeroes the sums (after collecting what is pending). */
clt_status clt_data_wait_reset(clt_data_wait *w);

/* Releases the events (uncollected ones are dropped) and the list; *w zeroed. */
void clt_data_wait_free(clt_data_wait *w);

#endif
