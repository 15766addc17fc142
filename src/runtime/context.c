#include "runtime/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/device_limits.h"
#include "runtime/program.h"
#include "runtime/program_cache.h"
#include "runtime/profile.h"
#include "runtime/quirks.h"

/* "-cl-std=CL1.2" when the device's OpenCL C is 1.2 or newer (never taken from
 * the platform version, which can be 3.0 on a device with OpenCL C 1.2). */
static clt_status choose_std(clt_ctx *ctx) {
  int major = 0, minor = 0;
  if (sscanf(ctx->dev.opencl_c_version, "OpenCL C %d.%d", &major, &minor) != 2)
    return clt_fail(CLT_ERR_UNSUPPORTED, "device %s reports no OpenCL C version ('%s')",
                    ctx->dev.name, ctx->dev.opencl_c_version);
  if (major > 1 || (major == 1 && minor >= 2)) {
    snprintf(ctx->std_option, sizeof ctx->std_option, "-cl-std=CL1.2");
    return CLT_OK;
  }
  return clt_fail(CLT_ERR_UNSUPPORTED,
                  "device %s supports OpenCL C %d.%d; cltrain needs OpenCL C 1.2 or newer",
                  ctx->dev.name, major, minor);
}

/* The folder is kept even with the cache off: stored GEMM tuning lives there too. */
static void setup_cache(clt_ctx *ctx, const clt_ctx_options *opt) {
  if (opt && opt->cache_dir) snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", opt->cache_dir);
  ctx->cache_enabled = !(opt && opt->no_kernel_cache) && ctx->cache_dir[0];
  if (!ctx->cache_enabled) return;
  if (clt_cache_prepare_dir(ctx->cache_dir) != CLT_OK) {
    clt_warn("kernel cache disabled: %s", clt_last_error());
    clt_clear_error();
    ctx->cache_enabled = 0;
  }
}

clt_status clt_ctx_create(const clt_device_info *dev, const clt_ctx_options *opt, clt_ctx **out) {
  *out = NULL;
  clt_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory creating a context");
  ctx->dev = *dev;
  if (opt) /* lowered limits for tests (device_limits.h) */
    clt_device_limits_apply(&ctx->dev, opt->memory_limit, opt->alloc_limit);
  ctx->no_gemm_tune = opt && opt->no_gemm_tune;
  snprintf(ctx->gemm_mode, sizeof ctx->gemm_mode, "%s",
           opt && opt->gemm_mode && *opt->gemm_mode ? opt->gemm_mode : "auto");
  ctx->gemm_budget = opt && opt->gemm_budget > 0 ? opt->gemm_budget : 8.0;
  clt_status st = choose_std(ctx);
  if (st != CLT_OK) {
    free(ctx);
    return st;
  }
  if (opt && opt->kernel_dir)
    snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", opt->kernel_dir);
  setup_cache(ctx, opt);
  ctx->program_binaries =
      ctx->cache_enabled && ((opt && opt->keep_binaries) ||
                             !(clt_device_quirks(&ctx->dev) & CLT_QUIRK_OWN_PROGRAM_CACHE));

  cl_int err;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
  ctx->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &err);
  if (err != CL_SUCCESS) {
    free(ctx);
    return clt_cl_fail(err, "clCreateContext", __FILE__, __LINE__);
  }
  ctx->profiling = opt && opt->profiling;
  cl_command_queue_properties qp = ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
  ctx->compute = clCreateCommandQueue(ctx->context, dev->id, qp, &err);
  if (err == CL_SUCCESS) ctx->transfer = clCreateCommandQueue(ctx->context, dev->id, qp, &err);
  if (err != CL_SUCCESS) {
    st = clt_cl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__);
    clt_ctx_destroy(ctx);
    return st;
  }
  *out = ctx;
  return CLT_OK;
}

clt_status clt_ctx_finish(clt_ctx *ctx) {
  /* Compute first: its commands wait only on uploads already flushed, and once it is done
   * every event the transfer queue waits on is complete before that queue is flushed here
   * (an upload left unflushed by a failed clFlush never races a finishing dependency). */
  CLT_CL_CHECK(clFinish(ctx->compute));
  CLT_CL_CHECK(clFinish(ctx->transfer));
  return CLT_OK;
}

void clt_ctx_destroy(clt_ctx *ctx) {
  if (!ctx) return;
  if (ctx->compute) clFinish(ctx->compute); /* compute first: see clt_ctx_finish */
  if (ctx->transfer) clFinish(ctx->transfer);
  clt_profiler_stop(ctx);
  if (ctx->gemm_temp) clReleaseMemObject(ctx->gemm_temp);
  if (ctx->gemm_free) ctx->gemm_free(ctx);
  for (int i = 0; i < ctx->program_count; i++) {
    clReleaseProgram(ctx->programs[i].program);
    free(ctx->programs[i].options);
  }
  free(ctx->programs);
  if (ctx->transfer) clReleaseCommandQueue(ctx->transfer);
  if (ctx->compute) clReleaseCommandQueue(ctx->compute);
  if (ctx->context) clReleaseContext(ctx->context);
  free(ctx);
}
