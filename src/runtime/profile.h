/* Optional per-kernel timing from OpenCL profiling events. Off by default: a
 * context created with profiling records one event per launch under a name
 * "SCOPE/KERNEL" (the scope is set by the network: "3 conv forward"). */
#ifndef CLT_RUNTIME_PROFILE_H
#define CLT_RUNTIME_PROFILE_H

#include <CL/cl.h>
#include <stdio.h>

#include "runtime/context.h"

#define CLT_PROFILE_NAME 96

typedef struct clt_profile_entry {
  char name[CLT_PROFILE_NAME];
  double total_ms;
  long count;
} clt_profile_entry;

typedef struct clt_profiler {
  char scope[48];
  clt_profile_entry *entries;
  int count, capacity;
  cl_event *pending;
  cl_event *pending_start; /* a marker enqueued before, or NULL (clt_profile_event_span) */
  int *pending_entry;
  int npending, pending_capacity;
} clt_profiler;

/* Turns recording on (ctx must have been created with profiling = 1). */
clt_status clt_profiler_start(clt_ctx *ctx);
void clt_profiler_stop(clt_ctx *ctx);
void clt_profiler_scope(clt_ctx *ctx, const char *scope);

/* Where the next launch named name stores its event, or NULL when not recording.
 * Collects pending events when the list is full. */
cl_event *clt_profile_event(clt_ctx *ctx, const char *name);

/* As clt_profile_event, for a call that enqueues several commands (CLBlast): *start is where
 * a marker enqueued just before them stores its event; the time recorded runs from the
 * marker's end to the end of the returned event (the call's last command). */
cl_event *clt_profile_event_span(clt_ctx *ctx, const char *name, cl_event **start);

/* Waits for and accumulates every pending event. */
clt_status clt_profiler_collect(clt_ctx *ctx);

/* Prints entries sorted by total time, with their share; per_steps divides the totals. */
void clt_profiler_print(const clt_ctx *ctx, FILE *out, long per_steps);

#endif
