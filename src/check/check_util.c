/* The helpers every check group uses (check_internal.h): adding a check, results and
 * comparisons, host and device buffers. Moved from check.c, unchanged, so that the groups
 * depend on these and check.c on the groups, not both ways. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "runtime/memory.h"
#include "runtime/rng.h"

clt_status clt_check_add(clt_check_list *list, const char *name, const char *tolerance,
                         clt_check_fn run, const void *arg, int index) {
  if (list->count == list->capacity) {
    int cap = list->capacity ? 2 * list->capacity : 64;
    clt_check *items = realloc(list->items, (size_t)cap * sizeof *items);
    if (!items) return clt_check_oom();
    list->items = items;
    list->capacity = cap;
  }
  clt_check *c = &list->items[list->count++];
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  snprintf(c->tolerance, sizeof c->tolerance, "%s", tolerance);
  c->run = run;
  c->arg = arg;
  c->index = index;
  return CLT_OK;
}

const char *clt_check_outcome_name(clt_check_outcome outcome) {
  switch (outcome) {
  case CLT_CHECK_PASS:
    return "PASS";
  case CLT_CHECK_FAIL:
    return "FAIL";
  default:
    return "SKIP";
  }
}

void clt_check_result_clear(clt_check_result *r) {
  free(r->detail);
  memset(r, 0, sizeof *r);
  r->error = -1.0;
}

static void append_detail(clt_check_result *r, const char *fmt, va_list ap) {
  char line[4096];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t old = r->detail ? strlen(r->detail) : 0, add = strlen(line);
  char *d = realloc(r->detail, old + add + 2);
  if (!d) return; /* the outcome is recorded; only the text is lost */
  if (old) d[old++] = '\n';
  memcpy(d + old, line, add + 1);
  r->detail = d;
}

void clt_check_failf(clt_check_result *r, const char *fmt, ...) {
  r->outcome = CLT_CHECK_FAIL;
  va_list ap;
  va_start(ap, fmt);
  append_detail(r, fmt, ap);
  va_end(ap);
}

void clt_check_skipf(clt_check_result *r, const char *fmt, ...) {
  if (r->outcome != CLT_CHECK_FAIL) r->outcome = CLT_CHECK_SKIP;
  va_list ap;
  va_start(ap, fmt);
  append_detail(r, fmt, ap);
  va_end(ap);
}

/* Ratio of error to tolerance; a tolerance of 0 asks for exact equality. */
static double ratio(double error, double tol) {
  if (tol > 0.0) return error / tol;
  return error > 0.0 ? INFINITY : 0.0;
}

double clt_check_compare(clt_check_result *r, const char *what, const double *got,
                         const double *want, size_t n, double floor, double tol) {
  double scale = floor, worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  for (size_t i = 0; i < n; i++) {
    double e = fabs(got[i] - want[i]);
    if (!(e <= worst)) { /* also catches NaN */
      worst = isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  double error = scale > 0.0 ? worst / scale : worst;
  if (r->error < 0.0 || ratio(error, tol) > ratio(r->error, r->tolerance)) {
    r->error = error;
    r->tolerance = tol;
    snprintf(r->what, sizeof r->what, "%s", what);
  }
  if (!(error <= tol))
    clt_check_failf(r,
                    "%s: relative error %.3g > %.3g at [%zu] of %zu: got %.9g, want %.9g "
                    "(scale %.3g)",
                    what, error, tol, at, n, got[at], want[at], scale);
  return error;
}

/* ---- host and device buffers ---- */

clt_status clt_check_oom(void) {
  return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory in the check");
}

double *clt_check_alloc(size_t n) {
  return calloc(n ? n : 1, sizeof(double));
}

void clt_check_fill(double *a, size_t n, double lo, double hi, uint32_t seed, uint32_t stream) {
  for (size_t i = 0; i < n; i++)
    a[i] = (double)(float)(lo + (hi - lo) * (double)clt_uniform(seed, stream, (uint32_t)i));
}

clt_status clt_check_upload(clt_ctx *ctx, const double *a, size_t n, size_t pad, cl_mem *out) {
  *out = NULL;
  size_t total = n + pad;
  float *f = malloc((total ? total : 1) * sizeof *f);
  if (!f) return clt_check_oom();
  for (size_t i = 0; i < n; i++) f[i] = a ? (float)a[i] : (float)CHECK_SENTINEL;
  for (size_t i = n; i < total; i++) f[i] = (float)CHECK_SENTINEL;
  clt_status st = clt_buffer_create(ctx, (total ? total : 1) * sizeof(float), out);
  if (st == CLT_OK && total) st = clt_buffer_write(ctx, *out, 0, total * sizeof(float), f);
  free(f);
  if (st != CLT_OK) clt_buffer_release(out);
  return st;
}

clt_status clt_check_spoil(clt_ctx *ctx, cl_mem mem, size_t n) {
  float *junk = malloc((n ? n : 1) * sizeof *junk);
  if (!junk) return clt_check_oom();
  for (size_t i = 0; i < n; i++) junk[i] = -3e7f;
  clt_status st = clt_buffer_write(ctx, mem, 0, n * sizeof *junk, junk);
  free(junk);
  return st;
}

clt_status clt_check_download(clt_ctx *ctx, cl_mem mem, size_t n, double *out) {
  if (n == 0) return CLT_OK;
  float *f = malloc(n * sizeof *f);
  if (!f) return clt_check_oom();
  clt_status st = clt_buffer_read(ctx, mem, 0, n * sizeof(float), f);
  for (size_t i = 0; st == CLT_OK && i < n; i++) out[i] = f[i];
  free(f);
  return st;
}

clt_status clt_check_tail(clt_ctx *ctx, cl_mem mem, size_t n, size_t pad, const char *what,
                          clt_check_result *r) {
  if (pad == 0) return CLT_OK;
  float *f = malloc(pad * sizeof *f);
  if (!f) return clt_check_oom();
  clt_status st = clt_buffer_read(ctx, mem, n * sizeof(float), pad * sizeof(float), f);
  for (size_t i = 0; st == CLT_OK && i < pad; i++)
    if (f[i] != (float)CHECK_SENTINEL) {
      clt_check_failf(r,
                      "%s: a kernel wrote past its end: element [%zu] of %zu is %.9g (an "
                      "unguarded global index?)",
                      what, n + i, n, f[i]);
      break;
    }
  free(f);
  return st;
}
