#include "runtime/memory.h"

#include <stdint.h>
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
                    "MiB per buffer: try a smaller batch",
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

void clt_arena_set_chunk_limit(clt_arena *arena, size_t limit) {
  arena->chunk_limit = limit;
}

/* a + b, or SIZE_MAX when that overflows: an absurd plan stays absurd, never small. */
static size_t add_saturated(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t clt_arena_reserve(clt_arena *arena, size_t bytes) {
  size_t rounded = add_saturated(bytes, arena->align - 1) / arena->align * arena->align;
  if (arena->chunk_count == 0) {
    arena->chunk_count = 1;
    arena->chunk_start[0] = 0;
  }
  size_t used = arena->size - arena->chunk_start[arena->chunk_count - 1];
  /* A tensor that would cross the limit starts the next chunk. */
  if (arena->chunk_limit && used > 0 && add_saturated(used, rounded) > arena->chunk_limit &&
      arena->chunk_count < CLT_ARENA_MAX_CHUNKS)
    arena->chunk_start[arena->chunk_count++] = arena->size;
  size_t offset = arena->size;
  arena->size = add_saturated(arena->size, rounded);
  return offset;
}

size_t clt_arena_chunk_size(const clt_arena *arena, int k) {
  if (k < 0 || k >= arena->chunk_count) return 0;
  size_t end = k + 1 < arena->chunk_count ? arena->chunk_start[k + 1] : arena->size;
  return end - arena->chunk_start[k];
}

size_t clt_arena_largest_chunk(const clt_arena *arena) {
  if (arena->chunk_count == 0) return arena->size; /* sized directly, not reserved */
  size_t most = 0;
  for (int k = 0; k < arena->chunk_count; k++)
    if (clt_arena_chunk_size(arena, k) > most) most = clt_arena_chunk_size(arena, k);
  return most;
}

clt_status clt_arena_allocate(clt_ctx *ctx, clt_arena *arena) {
  if (arena->size == 0) return CLT_OK;
  if (arena->chunk_count == 0) arena->chunk_count = 1; /* sized directly: one chunk at 0 */
  size_t largest = clt_arena_largest_chunk(arena);
  if (largest > ctx->dev.max_alloc)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "the %s need %zu MiB in one buffer but %s allows at most %llu MiB per "
                    "buffer: try a smaller batch",
                    arena->name, largest >> 20, ctx->dev.name,
                    (unsigned long long)(ctx->dev.max_alloc >> 20));
  for (int k = 0; k < arena->chunk_count; k++) {
    size_t bytes = clt_arena_chunk_size(arena, k);
    CLT_TRY(clt_buffer_create(ctx, bytes, &arena->chunks[k]));
    /* Touch it now so that a lazy allocator fails here, not at step 900. */
    CLT_TRY(clt_buffer_zero(ctx, arena->chunks[k], 0, bytes));
  }
  arena->mem = arena->chunks[0];
  CLT_CL_CHECK(clFinish(ctx->compute));
  return CLT_OK;
}

clt_status clt_arena_view(clt_arena *arena, size_t offset, size_t bytes, cl_mem *out) {
  *out = NULL;
  if (bytes == 0) return CLT_OK;
  int k = arena->chunk_count - 1;
  while (k > 0 && arena->chunk_start[k] > offset) k--;
  size_t local = k >= 0 ? offset - arena->chunk_start[k] : 0;
  if (k < 0 || !arena->chunks[k] || local + bytes > clt_arena_chunk_size(arena, k))
    return clt_fail(CLT_ERR_INTERNAL, "%s: view [%zu, +%zu) outside its chunk (a bug)", arena->name,
                    offset, bytes);
  cl_buffer_region region = {local, bytes};
  cl_int err;
  *out = clCreateSubBuffer(arena->chunks[k], CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                           &region, &err);
  CLT_CL_CHECK_ERR(err, "clCreateSubBuffer");
  return CLT_OK;
}

void clt_arena_release(clt_arena *arena) {
  for (int k = 0; k < arena->chunk_count; k++) clt_buffer_release(&arena->chunks[k]);
  arena->mem = NULL;
  arena->size = 0;
  arena->chunk_count = 0;
}
