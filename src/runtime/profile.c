#include "runtime/profile.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"

clt_status clt_profiler_start(clt_ctx *ctx) {
  if (!ctx->profiling)
    return clt_fail(CLT_ERR_INTERNAL, "profiling needs a context created with profiling on");
  if (!ctx->profiler) {
    ctx->profiler = calloc(1, sizeof *ctx->profiler);
    if (!ctx->profiler) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (profiler)");
  }
  return CLT_OK;
}

void clt_profiler_stop(clt_ctx *ctx) {
  clt_profiler *p = ctx->profiler;
  if (!p) return;
  for (int i = 0; i < p->npending; i++) {
    clReleaseEvent(p->pending[i]);
    if (p->pending_start[i]) clReleaseEvent(p->pending_start[i]);
  }
  free(p->pending);
  free(p->pending_start);
  free(p->pending_entry);
  free(p->entries);
  free(p);
  ctx->profiler = NULL;
}

void clt_profiler_scope(clt_ctx *ctx, const char *scope) {
  if (ctx->profiler) snprintf(ctx->profiler->scope, sizeof ctx->profiler->scope, "%s", scope);
}

static int entry_for(clt_profiler *p, const char *name) {
  for (int i = 0; i < p->count; i++)
    if (strcmp(p->entries[i].name, name) == 0) return i;
  if (p->count == p->capacity) {
    int cap = p->capacity ? 2 * p->capacity : 64;
    clt_profile_entry *grown = realloc(p->entries, (size_t)cap * sizeof *grown);
    if (!grown) return -1;
    p->entries = grown;
    p->capacity = cap;
  }
  clt_profile_entry *e = &p->entries[p->count];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  return p->count++;
}

clt_status clt_profiler_collect(clt_ctx *ctx) {
  clt_profiler *p = ctx->profiler;
  if (!p || p->npending == 0) return CLT_OK;
  cl_int err = clWaitForEvents((cl_uint)p->npending, p->pending);
  for (int i = 0; i < p->npending; i++) {
    cl_ulong start = 0, end = 0;
    cl_event from = p->pending_start[i] ? p->pending_start[i] : p->pending[i];
    cl_profiling_info from_info =
        p->pending_start[i] ? CL_PROFILING_COMMAND_END : CL_PROFILING_COMMAND_START;
    if (err == CL_SUCCESS &&
        clGetEventProfilingInfo(from, from_info, sizeof start, &start, NULL) == CL_SUCCESS &&
        clGetEventProfilingInfo(p->pending[i], CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
            CL_SUCCESS &&
        p->pending_entry[i] >= 0) {
      p->entries[p->pending_entry[i]].total_ms += (double)(end - start) * 1e-6;
      p->entries[p->pending_entry[i]].count++;
    }
    clReleaseEvent(p->pending[i]);
    if (p->pending_start[i]) clReleaseEvent(p->pending_start[i]);
    p->pending_start[i] = NULL;
  }
  p->npending = 0;
  CLT_CL_CHECK_ERR(err, "clWaitForEvents");
  return CLT_OK;
}

cl_event *clt_profile_event(clt_ctx *ctx, const char *name) {
  clt_profiler *p = ctx->profiler;
  if (!p) return NULL;
  if (p->npending == p->pending_capacity) {
    if (p->pending_capacity >= 4096) {
      if (clt_profiler_collect(ctx) != CLT_OK) return NULL;
    } else {
      int cap = p->pending_capacity ? 2 * p->pending_capacity : 256;
      cl_event *ev = realloc(p->pending, (size_t)cap * sizeof *ev);
      if (ev) p->pending = ev;
      cl_event *sv = realloc(p->pending_start, (size_t)cap * sizeof *sv);
      if (sv) p->pending_start = sv;
      int *en = realloc(p->pending_entry, (size_t)cap * sizeof *en);
      if (en) p->pending_entry = en;
      if (!ev || !sv || !en) return NULL;
      p->pending_capacity = cap;
    }
  }
  char full[CLT_PROFILE_NAME];
  snprintf(full, sizeof full, "%s%s%s", p->scope, p->scope[0] ? "/" : "", name);
  p->pending_entry[p->npending] = entry_for(p, full);
  p->pending_start[p->npending] = NULL;
  return &p->pending[p->npending++];
}

cl_event *clt_profile_event_span(clt_ctx *ctx, const char *name, cl_event **start) {
  *start = NULL;
  cl_event *end = clt_profile_event(ctx, name);
  if (end) *start = &ctx->profiler->pending_start[end - ctx->profiler->pending];
  return end;
}

static int by_time(const void *a, const void *b) {
  double x = ((const clt_profile_entry *)a)->total_ms, y = ((const clt_profile_entry *)b)->total_ms;
  return (x < y) - (x > y);
}

void clt_profiler_print(const clt_ctx *ctx, FILE *out, long per_steps) {
  clt_profiler *p = ctx->profiler;
  if (!p) return;
  qsort(p->entries, (size_t)p->count, sizeof *p->entries, by_time);
  double total = 0;
  for (int i = 0; i < p->count; i++) total += p->entries[i].total_ms;
  long d = per_steps > 0 ? per_steps : 1;
  fprintf(out, "%-60s %10s %8s %6s\n", "kernel", "ms/step", "calls", "share");
  for (int i = 0; i < p->count; i++)
    fprintf(out, "%-60s %10.3f %8ld %5.1f%%\n", p->entries[i].name, p->entries[i].total_ms / d,
            p->entries[i].count / d, total > 0 ? 100 * p->entries[i].total_ms / total : 0.0);
  fprintf(out, "%-60s %10.3f\n", "total device time", total / d);
}
