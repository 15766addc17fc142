#include "runtime/memory.h"

#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/profile.h"

clt_status clt_buffer_create(clt_ctx *ctx, size_t bytes, cl_mem *out) {
  cl_int err;
  *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
  if (err != CL_SUCCESS) {
    *out = NULL;
    return clt_fail(clt_cl_status(err),
                    "cannot allocate %zu bytes on %s: %s; the device has %llu MiB, at most %llu "
                    "MiB per buffer: try a smaller --batch",
                    bytes, ctx->dev.name, clt_cl_error_name(err),
                    (unsigned long long)(ctx->dev.global_mem >> 20),
                    (unsigned long long)(ctx->dev.max_alloc >> 20));
  }
  return CLT_OK;
}

void clt_buffer_release(cl_mem *mem) {
  if (*mem) clReleaseMemObject(*mem);
  *mem = NULL;
}

clt_status clt_buffer_write(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes,
                            const void *host) {
  if (bytes == 0) return CLT_OK;
  CLT_CL_CHECK(
      clEnqueueWriteBuffer(ctx->compute, mem, CL_TRUE, offset, bytes, host, 0, NULL, NULL));
  return CLT_OK;
}

clt_status clt_buffer_read(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *host) {
  if (bytes == 0) return CLT_OK;
  CLT_CL_CHECK(clEnqueueReadBuffer(ctx->compute, mem, CL_TRUE, offset, bytes, host, 0, NULL, NULL));
  return CLT_OK;
}

clt_status clt_buffer_zero(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes) {
  if (bytes == 0) return CLT_OK;
  const cl_float zero = 0.0f;
  if (offset % sizeof zero || bytes % sizeof zero)
    return clt_fail(CLT_ERR_INTERNAL, "clt_buffer_zero: range not a multiple of 4 bytes");
  CLT_CL_CHECK(clEnqueueFillBuffer(ctx->compute, mem, &zero, sizeof zero, offset, bytes, 0, NULL,
                                   clt_profile_event(ctx, "fill_zero")));
  return CLT_OK;
}

void clt_arena_init(clt_arena *arena, const clt_ctx *ctx, const char *name) {
  memset(arena, 0, sizeof *arena);
  arena->name = name;
  cl_uint bits = 0;
  clGetDeviceInfo(ctx->dev.id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL);
  arena->align = bits >= 8 ? bits / 8 : 128;
  if (arena->align < 64) arena->align = 64;
}

size_t clt_arena_reserve(clt_arena *arena, size_t bytes) {
  size_t offset = arena->size;
  size_t rounded = (bytes + arena->align - 1) / arena->align * arena->align;
  arena->size += rounded;
  return offset;
}

clt_status clt_arena_allocate(clt_ctx *ctx, clt_arena *arena) {
  if (arena->size == 0) return CLT_OK;
  if (arena->size > ctx->dev.max_alloc)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "the %s need %zu MiB in one buffer but %s allows at most %llu MiB per "
                    "buffer: try a smaller --batch",
                    arena->name, arena->size >> 20, ctx->dev.name,
                    (unsigned long long)(ctx->dev.max_alloc >> 20));
  CLT_TRY(clt_buffer_create(ctx, arena->size, &arena->mem));
  /* Touch it now so that a lazy allocator fails here, not at step 900. */
  CLT_TRY(clt_buffer_zero(ctx, arena->mem, 0, arena->size));
  CLT_CL_CHECK(clFinish(ctx->compute));
  return CLT_OK;
}

clt_status clt_arena_view(clt_arena *arena, size_t offset, size_t bytes, cl_mem *out) {
  *out = NULL;
  if (bytes == 0) return CLT_OK;
  cl_buffer_region region = {offset, bytes};
  cl_int err;
  *out =
      clCreateSubBuffer(arena->mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
  CLT_CL_CHECK_ERR(err, "clCreateSubBuffer");
  return CLT_OK;
}

void clt_arena_release(clt_arena *arena) {
  clt_buffer_release(&arena->mem);
  arena->size = 0;
}
