/* Device buffers and arenas.
 *
 * An arena is one cl_mem planned before the first step: tensors reserve
 * aligned ranges first (sizes only), then one allocation is made and touched,
 * so that an out-of-memory shows at start-up; tensors are sub-buffers of it. */
#ifndef CLT_RUNTIME_MEMORY_H
#define CLT_RUNTIME_MEMORY_H

#include <CL/cl.h>
#include <stddef.h>

#include "runtime/context.h"

clt_status clt_buffer_create(clt_ctx *ctx, size_t bytes, cl_mem *out);
void clt_buffer_release(cl_mem *mem);
/* Blocking copies on the compute queue (for set-up, tests and read-back). */
clt_status clt_buffer_write(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes,
                            const void *host);
clt_status clt_buffer_read(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *host);
/* Non-blocking fill with zeros on the compute queue. */
clt_status clt_buffer_zero(clt_ctx *ctx, cl_mem mem, size_t offset, size_t bytes);

typedef struct clt_arena {
  const char *name; /* for messages: "parameters", "activations", ... */
  cl_mem mem;
  size_t size;  /* bytes reserved so far (the allocation size once allocated) */
  size_t align; /* bytes; from CL_DEVICE_MEM_BASE_ADDR_ALIGN */
} clt_arena;

void clt_arena_init(clt_arena *arena, const clt_ctx *ctx, const char *name);
/* Reserves bytes (rounded up to the alignment) and returns the offset. */
size_t clt_arena_reserve(clt_arena *arena, size_t bytes);
/* One allocation of the reserved size, filled with zeros and waited for. */
clt_status clt_arena_allocate(clt_ctx *ctx, clt_arena *arena);
/* A sub-buffer over [offset, offset + bytes). bytes 0 gives NULL. */
clt_status clt_arena_view(clt_arena *arena, size_t offset, size_t bytes, cl_mem *out);
void clt_arena_release(clt_arena *arena);

#endif
