/* Device buffers and arenas.
 *
 * An arena is planned before the first step: tensors reserve aligned ranges
 * first (sizes only), then the allocation is made and touched, so that an
 * out-of-memory shows at start-up; tensors are sub-buffers of it. An arena with
 * a chunk limit (the device's largest single buffer) is laid out as several
 * cl_mem chunks of at most that many bytes, each tensor wholly inside one chunk;
 * without one it is a single cl_mem (arenas used flat: parameters, gradients,
 * optimizer state, layer state). */
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

#define CLT_ARENA_MAX_CHUNKS 64

typedef struct clt_arena {
  const char *name;   /* for messages: "parameters", "activations", ... */
  cl_mem mem;         /* the buffer; the first chunk of a chunked arena */
  size_t size;        /* bytes reserved so far (the allocation size once allocated) */
  size_t align;       /* bytes; from CL_DEVICE_MEM_BASE_ADDR_ALIGN */
  size_t chunk_limit; /* 0: one buffer; else most bytes per chunk (a tensor above it gets a
                         chunk of its own, which the plan then reports as too large) */
  int chunk_count;    /* chunks reserved (0 while empty) */
  size_t chunk_start[CLT_ARENA_MAX_CHUNKS]; /* arena offset where each chunk begins */
  cl_mem chunks[CLT_ARENA_MAX_CHUNKS];      /* once allocated; chunks[0] == mem */
} clt_arena;

void clt_arena_init(clt_arena *arena, const clt_ctx *ctx, const char *name);
/* Lets the arena split into chunks of at most limit bytes (call before reserving). */
void clt_arena_set_chunk_limit(clt_arena *arena, size_t limit);
/* Reserves bytes (rounded up to the alignment) and returns the offset (into the arena as a
 * whole: chunks follow one another without gaps). */
size_t clt_arena_reserve(clt_arena *arena, size_t bytes);
/* Bytes of chunk k, and of the largest chunk (the arena's largest single buffer). */
size_t clt_arena_chunk_size(const clt_arena *arena, int k);
size_t clt_arena_largest_chunk(const clt_arena *arena);
/* One allocation per chunk of the reserved sizes, filled with zeros and waited for. */
clt_status clt_arena_allocate(clt_ctx *ctx, clt_arena *arena);
/* A sub-buffer over [offset, offset + bytes). bytes 0 gives NULL. */
clt_status clt_arena_view(clt_arena *arena, size_t offset, size_t bytes, cl_mem *out);
void clt_arena_release(clt_arena *arena);

#endif
