/* OpenCL programs built from cl/ (embedded, or --kernel-dir), with the
 * on-disk cache, and the typed kernel-launch helpers used by every layer. */
#ifndef CLT_RUNTIME_PROGRAM_H
#define CLT_RUNTIME_PROGRAM_H

#include <CL/cl.h>
#include <stddef.h>

#include "runtime/context.h"

/* The kernel files a program can be built from ("conv.cl", ...), in order;
 * headers (*.clh) are not programs. Returns the count; names[i] stay valid. */
int clt_program_files(const char *const **names);

/* The full text compiled for file: cl/common.clh followed by the file. From
 * ctx->kernel_dir when set (a missing file is CLT_ERR_MISSING_INPUT). */
clt_status clt_program_source(const clt_ctx *ctx, const char *file, char **text, size_t *length);

/* Builds file with ctx->std_option plus options (e.g. "-DTILE=16"), or
 * returns the one already built in this context. Uses the on-disk cache. On a
 * build failure the message holds the device, the options and the build log. */
clt_status clt_program_get(clt_ctx *ctx, const char *file, const char *options, cl_program *out);

/* A kernel with its launch geometry and typed, sequential argument setters.
 * Setters record the first failure; the run call reports it. */
typedef struct clt_kernel {
  cl_kernel k;
  char name[64];
  size_t local_1d;    /* work-group size for 1-D launches */
  size_t local_2d[2]; /* and for 2-D launches */
  size_t max_group;   /* CL_KERNEL_WORK_GROUP_SIZE */
  cl_uint next_arg;
  cl_int arg_error;
  cl_uint arg_error_index;
} clt_kernel;

clt_status clt_kernel_create(clt_ctx *ctx, const char *file, const char *name, const char *options,
                             clt_kernel *out);
void clt_kernel_release(clt_kernel *k);

void clt_arg_mem(clt_kernel *k, cl_mem value);
void clt_arg_int(clt_kernel *k, int value);
void clt_arg_uint(clt_kernel *k, unsigned value);
void clt_arg_float(clt_kernel *k, float value);
void clt_arg_local(clt_kernel *k, size_t bytes);

/* Enqueues on the compute queue without waiting; the global size is rounded up
 * to the work-group size, so kernels guard their index. Resets the argument
 * counter for the next launch. */
clt_status clt_run_1d(clt_ctx *ctx, clt_kernel *k, size_t n);
clt_status clt_run_2d(clt_ctx *ctx, clt_kernel *k, size_t n0, size_t n1);
/* A 3-D launch with an explicit work-group shape (local[0] * local[1] * local[2] must not
 * exceed the kernel's limit); each global extent is rounded up to its local one. Put the
 * contiguous (channel) index in dimension 0: on CPU devices work-items of dimension 0 form
 * the innermost loop, so index math that depends only on dimensions 1 and 2 is hoisted. */
clt_status clt_run_3d(clt_ctx *ctx, clt_kernel *k, const size_t global[3], const size_t local[3]);
/* A work-group shape for a 3-D launch of extents global[3] whose dimension 0 is the
 * contiguous index (channels, columns): dimensions 0 and 1 are split into nearly
 * equal pieces (at most 64 in dimension 0) to waste few work-items, and dimension
 * 2 fills the group up to 256 work-items (within the kernel's limit). Put the
 * extent that grows with the batch in dimension 2: its piece then does not depend
 * on the batch size, and CPU devices that compile a kernel per work-group shape
 * (PoCL) compile fewer. */
void clt_local_3d(const clt_kernel *k, const size_t global[3], size_t local[3]);
/* The largest work-group size this kernel allows on its device. */
size_t clt_kernel_max_group(const clt_kernel *k);
/* Explicit local size (e.g. one work-group per row for reductions). */
clt_status clt_run_1d_local(clt_ctx *ctx, clt_kernel *k, size_t groups, size_t local);

#endif
