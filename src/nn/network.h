/* A model placed on a device for a planned batch: five arenas planned before
 * the first step (parameters, gradients, optimizer state, layer state,
 * activations), forward and backward scheduled on the compute queue with no
 * host wait. */
#ifndef CLT_NN_NETWORK_H
#define CLT_NN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "nn/model.h"
#include "runtime/memory.h"
#include "runtime/program.h"

typedef struct clt_net_layer {
  clt_layer_sizes sizes;
  size_t param_offset[CLT_MAX_PARAMS]; /* bytes into the parameter (and gradient) arena */
  cl_mem params[CLT_MAX_PARAMS], grads[CLT_MAX_PARAMS];
  size_t state_offset;           /* bytes into the state arena */
  size_t y_offset, saved_offset; /* bytes into the activation arena */
  cl_mem state, saved;
  cl_mem y; /* [B, out] */
  /* Layers read through from ([add]): the readers' summed gradients [B, out] (nn/network_skip.h),
   * at skip_grad_offset bytes into the activation arena; else NULL. */
  size_t skip_grad_offset;
  cl_mem skip_grad;
} clt_net_layer;

/* Bytes each arena needs; computed without touching the device. The activation arena is
 * split into chunks of at most the device's largest buffer (each tensor inside one chunk);
 * the parameter, gradient, optimizer-state and layer-state arenas are one buffer each,
 * because the optimizer steps over them flat and checkpoints copy them whole. The OpenCL
 * spec guarantees a largest buffer of at least a quarter of global memory, so parameters
 * that overflow one buffer could not fit with their gradients and Adam state anyway. */
typedef struct clt_memory_plan {
  size_t params, grads, optimizer, state, activations;
  size_t largest;        /* the largest single buffer (must fit the device's max buffer) */
  size_t largest_flat;   /* the largest of the unsplit arenas (params ... state) */
  int activation_chunks; /* buffers the activation arena takes */
  size_t total;          /* saturates at SIZE_MAX, never wraps */
} clt_memory_plan;

typedef struct clt_network {
  clt_model *model;     /* borrowed */
  clt_ctx *ctx;         /* borrowed */
  int batch;            /* planned batch B: every call handles at most B samples */
  int optimizer_blocks; /* optimizer-state floats per parameter float */
  clt_arena params, grads, optimizer, state, activations;
  clt_net_layer *layers;
  cl_mem input;     /* [B, H, W, C] */
  cl_mem labels;    /* [B] int32 */
  cl_mem grad[2];   /* [B, largest layer input] ping-pong gradients */
  cl_mem workspace; /* shared scratch */
  cl_mem metrics;   /* CLT_METRIC_FLOATS accumulators (nn/metrics.h) */
  uint32_t seed;
  clt_kernel skip_add; /* dy += skip_grad (nn/network_skip.c); only with residual layers */
  /* One shard of a data-parallel step (train/replicas.h): the global batch the loss averages
   * over (0: the pass's own) and this shard's first sample in it (for random streams). */
  int loss_divisor;
  uint32_t sample_offset;
  /* Optional: called by clt_network_backward once before its loop with the head's index
   * (the head's gradients come from forward) and after each layer's backward is enqueued
   * with that layer's index, so that a caller can enqueue work that needs the gradients of
   * the layers done so far (train/replicas.h reads gradient buckets). A status other than
   * CLT_OK stops the backward pass with it. NULL: none. */
  clt_status (*after_backward)(void *user, int layer);
  void *after_backward_user;
} clt_network;

/* Sizes of the plan for batch B on ctx's device (alignment from the device). */
void clt_network_plan(const clt_model *model, const clt_ctx *ctx, int batch, int optimizer_blocks,
                      clt_memory_plan *plan);

/* 1 when plan plus extra bytes fits within fraction of ctx's global memory and every
 * buffer within its largest single allocation. */
int clt_memory_plan_fits(const clt_memory_plan *plan, const clt_ctx *ctx, size_t extra,
                         double fraction);

/* The largest power of two below `below` (at most 2^20) whose network plan alone fits ctx's
 * device; 0 when not even batch 1 fits. */
int clt_network_largest_batch(const clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                              int below);

/* Allocates and touches every arena (an out-of-memory shows here), creates the
 * layers' kernels, initialises parameters from seed (He or Glorot, docs/INTERNALS.md)
 * and layer state. Fails before allocating when the plan cannot fit the device. */
clt_status clt_network_create(clt_model *model, clt_ctx *ctx, int batch, int optimizer_blocks,
                              uint32_t seed, clt_network **out);
void clt_network_destroy(clt_network *net);

/* Re-initialises parameters (and zeroes optimizer state) from seed. */
clt_status clt_network_init_params(clt_network *net, uint32_t seed);

/* Forward over the first n samples of net->input (n <= B); in training mode the
 * head also writes the loss gradient. Loss and accuracy accumulate into
 * net->metrics when labels is non-zero. */
clt_status clt_network_forward(clt_network *net, int n, int training, uint32_t step);
/* Backward after a training forward: adds into the gradients. */
clt_status clt_network_backward(clt_network *net, int n, uint32_t step);
clt_status clt_network_zero_grads(clt_network *net);
clt_status clt_network_zero_metrics(clt_network *net);
/* Blocking read of the metrics accumulators. */
clt_status clt_network_read_metrics(clt_network *net, float metrics[4]);

/* Floats in the parameter arena (with alignment padding). */
size_t clt_network_param_arena_floats(const clt_network *net);

/* Output buffer of the last layer (probabilities [B, classes]). */
cl_mem clt_network_output(const clt_network *net);

#endif
