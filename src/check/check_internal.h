/* Shared by the check groups in src/check (not used outside it): the helpers of
 * check_util.c. The groups' registration functions are in check_groups.h. */
#ifndef CLT_CHECK_CHECK_INTERNAL_H
#define CLT_CHECK_CHECK_INTERNAL_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "check/check.h"
#include "nn/ini.h"
#include "nn/layer.h"

/* Every output buffer gets this many floats past its end, filled with CHECK_SENTINEL and
 * checked afterwards: launches round the global size up to the work-group size (at most
 * 256 here), so a kernel that forgets its index guard writes there. */
#define CHECK_PAD      256
#define CHECK_SENTINEL 7.25

/* Appends a check; name and tolerance are copied (truncated to their fields). */
clt_status clt_check_add(clt_check_list *list, const char *name, const char *tolerance,
                         clt_check_fn run, const void *arg, int index);

/* n doubles (zeroed), or NULL; callers report CLT_ERR_OUT_OF_MEMORY through check_oom. */
double *clt_check_alloc(size_t n);
clt_status clt_check_oom(void);

/* Uniform values in [lo, hi) from (seed, stream), rounded to float so that the reference
 * sees exactly the device's inputs. */
void clt_check_fill(double *a, size_t n, double lo, double hi, uint32_t seed, uint32_t stream);

/* A buffer of n + pad floats: a (converted to float; NULL: sentinels, i.e. junk) followed by
 * pad sentinels. */
clt_status clt_check_upload(clt_ctx *ctx, const double *a, size_t n, size_t pad, cl_mem *out);
/* Reads n floats (blocking) into doubles. */
/* Overwrites all n floats of mem with junk (-3e7): a workspace that must not survive. All
 * of it, never a part: Oclgrind 21.10 takes a buffer the host wrote in part for
 * uninitialised outside that part from then on (docs/PORTABILITY.md). */
clt_status clt_check_spoil(clt_ctx *ctx, cl_mem mem, size_t n);
clt_status clt_check_download(clt_ctx *ctx, cl_mem mem, size_t n, double *out);
/* Reads the pad floats after the first n and fails r if any is not the sentinel. */
clt_status clt_check_tail(clt_ctx *ctx, cl_mem mem, size_t n, size_t pad, const char *what,
                          clt_check_result *r);

/* Compares got with want: error = max |got - want| / max(max |want|, floor) (NaN counts as
 * infinite). Keeps the comparison with the largest error / tol in r, and fails r with the
 * worst element when error > tol (tol 0: exact). Returns the error. */
double clt_check_compare(clt_check_result *r, const char *what, const double *got,
                         const double *want, size_t n, double floor, double tol);

/* Fails r (or marks it skipped) and appends a line to its detail. */
void clt_check_failf(clt_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void clt_check_skipf(clt_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* check_layers.c's reference adapters (check_layer_refs.c): a layer case's inputs and the
 * reference outputs, in double. */
typedef struct clt_check_layer_io {
  const clt_ini_section *sec;
  int n;
  clt_shape in, out;
  int training;
  uint32_t seed, step;
  int layer_index;
  const double *x, *dy;
  int param_count;
  size_t param_floats[CLT_MAX_PARAMS];
  const double *params[CLT_MAX_PARAMS];
  double *grads[CLT_MAX_PARAMS]; /* starting values; the reference adds */
  double *state;                 /* in, then out; NULL when the layer has none */
  size_t state_floats;
  const int32_t *labels; /* the head */
  double *y, *dx;        /* the reference's outputs */
  double loss;           /* the head: mean loss */
  int correct;
  /* Tolerances, set by the adapter (relative to the largest magnitude of the reference
   * tensor, or the floor when larger). */
  double tol_y, tol_dx, tol_params, tol_state, tol_loss, floor_dx;
} clt_check_layer_io;

/* Reads the keys as docs/INTERNALS.md defines them and computes the reference outputs.
 * Returns NULL, or why the layer's buffers do not match what the reference expects. */
typedef const char *(*clt_check_layer_ref_fn)(clt_check_layer_io *io);

typedef struct clt_check_layer_ref {
  const char *layer;
  clt_check_layer_ref_fn run;
  const char *tolerance; /* for --list */
} clt_check_layer_ref;

/* The reference adapter of a registry layer type, or NULL when it has none. */
const clt_check_layer_ref *clt_check_layer_ref_find(const char *layer);

#endif
