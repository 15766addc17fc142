/* Kernel objects, typed argument setters and launches. */
#include <stdio.h>
#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/profile.h"
#include "runtime/program.h"

clt_status clt_kernel_create(clt_ctx *ctx, const char *file, const char *name, const char *options,
                             clt_kernel *out) {
  memset(out, 0, sizeof *out);
  cl_program prog;
  CLT_TRY(clt_program_get(ctx, file, options, &prog));
  cl_int err;
  out->k = clCreateKernel(prog, name, &err);
  if (err == CL_INVALID_KERNEL_NAME)
    return clt_fail(clt_cl_status(err), "kernel %s not found in %s: %s", name, file,
                    clt_cl_error_name(err));
  if (err != CL_SUCCESS) /* the kernel exists: the device is out of resources or broken */
    return clt_fail(clt_cl_status(err), "cannot create kernel %s of %s on %s: %s", name, file,
                    ctx->dev.name, clt_cl_error_name(err));
  snprintf(out->name, sizeof out->name, "%s", name);
  size_t max = 0, multiple = 1;
  CLT_CL_CHECK(clGetKernelWorkGroupInfo(out->k, ctx->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof max,
                                        &max, NULL));
  CLT_CL_CHECK(clGetKernelWorkGroupInfo(out->k, ctx->dev.id,
                                        CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                        sizeof multiple, &multiple, NULL));
  if (max == 0) max = 1;
  out->max_group = max;
  if (multiple == 0 || multiple > max) multiple = 1;
  /* The largest multiple of the preferred size up to 256 and the kernel's limit. */
  size_t cap = max < 256 ? max : 256;
  out->local_1d = cap / multiple * multiple;
  if (out->local_1d == 0) out->local_1d = 1;
  size_t side = 1;
  while ((side * 2) * (side * 2) <= cap && side < 16) side *= 2;
  out->local_2d[0] = side;
  out->local_2d[1] = side;
  return CLT_OK;
}

void clt_kernel_release(clt_kernel *k) {
  if (k->k) clReleaseKernel(k->k);
  memset(k, 0, sizeof *k);
}

static void set_arg(clt_kernel *k, size_t size, const void *value) {
  cl_int err = clSetKernelArg(k->k, k->next_arg, size, value);
  if (err != CL_SUCCESS && k->arg_error == CL_SUCCESS) {
    k->arg_error = err;
    k->arg_error_index = k->next_arg;
  }
  k->next_arg++;
}

void clt_arg_mem(clt_kernel *k, cl_mem value) {
  set_arg(k, sizeof value, &value);
}
void clt_arg_int(clt_kernel *k, int value) {
  cl_int v = value;
  set_arg(k, sizeof v, &v);
}
void clt_arg_uint(clt_kernel *k, unsigned value) {
  cl_uint v = value;
  set_arg(k, sizeof v, &v);
}
void clt_arg_float(clt_kernel *k, float value) {
  cl_float v = value;
  set_arg(k, sizeof v, &v);
}
void clt_arg_local(clt_kernel *k, size_t bytes) {
  set_arg(k, bytes, NULL);
}

static clt_status check_args(clt_kernel *k) {
  k->next_arg = 0;
  if (k->arg_error == CL_SUCCESS) return CLT_OK;
  cl_int err = k->arg_error;
  k->arg_error = CL_SUCCESS;
  return clt_fail(clt_cl_status(err), "setting argument %u of kernel %s failed: %s",
                  k->arg_error_index, k->name, clt_cl_error_name(err));
}

static size_t round_up(size_t n, size_t m) {
  return (n + m - 1) / m * m;
}

static clt_status enqueue(clt_ctx *ctx, clt_kernel *k, cl_uint dims, const size_t *global,
                          const size_t *local) {
  cl_int err = clEnqueueNDRangeKernel(ctx->compute, k->k, dims, NULL, global, local, 0, NULL,
                                      clt_profile_event(ctx, k->name));
  if (err != CL_SUCCESS) {
    clt_status st = clt_cl_fail(err, "clEnqueueNDRangeKernel", __FILE__, __LINE__);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", clt_last_error());
    return clt_fail(st, "%s (kernel %s)", msg, k->name);
  }
  return CLT_OK;
}

clt_status clt_run_1d(clt_ctx *ctx, clt_kernel *k, size_t n) {
  CLT_TRY(check_args(k));
  if (n == 0) return CLT_OK;
  size_t local = k->local_1d;
  size_t global = round_up(n, local);
  return enqueue(ctx, k, 1, &global, &local);
}

clt_status clt_run_2d(clt_ctx *ctx, clt_kernel *k, size_t n0, size_t n1) {
  CLT_TRY(check_args(k));
  if (n0 == 0 || n1 == 0) return CLT_OK;
  size_t global[2] = {round_up(n0, k->local_2d[0]), round_up(n1, k->local_2d[1])};
  return enqueue(ctx, k, 2, global, k->local_2d);
}

clt_status clt_run_1d_local(clt_ctx *ctx, clt_kernel *k, size_t groups, size_t local) {
  CLT_TRY(check_args(k));
  if (groups == 0) return CLT_OK;
  size_t global = groups * local;
  return enqueue(ctx, k, 1, &global, &local);
}

size_t clt_kernel_max_group(const clt_kernel *k) {
  return k->max_group;
}

clt_status clt_run_3d(clt_ctx *ctx, clt_kernel *k, const size_t global[3], const size_t local[3]) {
  CLT_TRY(check_args(k));
  if (global[0] == 0 || global[1] == 0 || global[2] == 0) return CLT_OK;
  size_t l[3], g[3];
  for (int d = 0; d < 3; d++) {
    l[d] = local[d] ? local[d] : 1;
    g[d] = round_up(global[d], l[d]);
  }
  if (l[0] * l[1] * l[2] > k->max_group)
    return clt_fail(CLT_ERR_INTERNAL, "kernel %s: work-group %zux%zux%zu exceeds its limit %zu",
                    k->name, l[0], l[1], l[2], k->max_group);
  return enqueue(ctx, k, 3, g, l);
}

/* The size of the pieces that split n into ceil(n / most) nearly equal ones. */
static size_t even_piece(size_t n, size_t most) {
  if (most < 1) most = 1;
  if (n <= 1) return 1;
  size_t pieces = (n + most - 1) / most;
  return (n + pieces - 1) / pieces;
}

void clt_local_3d(const clt_kernel *k, const size_t global[3], size_t local[3]) {
  size_t cap = clt_kernel_max_group(k);
  if (cap > 256) cap = 256;
  if (cap < 1) cap = 1;
  local[0] = even_piece(global[0], cap < 64 ? cap : 64);
  local[1] = even_piece(global[1], cap / local[0]);
  local[2] = cap / (local[0] * local[1]); /* not split evenly: see program.h */
  if (local[2] > global[2]) local[2] = global[2] ? global[2] : 1;
}
