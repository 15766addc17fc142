/* The layer interface: one const table of functions per layer type.
 *
 * Life of a layer: parse (its own keys from its model-file section, strictly)
 * -> infer (output shape from input shape) -> sizes (parameters, state, saved
 * and workspace floats for a planned batch) -> prepare (kernels on a device)
 * -> forward / backward many times -> destroy.
 *
 * Tensors are NHWC floats (docs/INTERNALS.md). Backward ADDS into parameter
 * gradients and WRITES dx. Nothing here waits on the host. A layer with
 * needs_labels is the loss head; the model (nn/model.c) requires it last. */
#ifndef CLT_NN_LAYER_H
#define CLT_NN_LAYER_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"
#include "nn/activation.h"
#include "nn/ini.h"
#include "runtime/context.h"

#define CLT_MAX_PARAMS 4

/* Shape of one sample (the batch is separate). */
typedef struct clt_shape {
  int h, w, c;
} clt_shape;

static inline size_t clt_shape_size(clt_shape s) {
  return (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

typedef enum clt_init {
  CLT_INIT_HE_NORMAL,      /* std sqrt(2 / fan_in) */
  CLT_INIT_GLOROT_UNIFORM, /* +-sqrt(6 / (fan_in + fan_out)) */
  CLT_INIT_ZEROS,
  CLT_INIT_ONES
} clt_init;

typedef struct clt_param_desc {
  const char *name; /* "weights", "bias", "gamma", ... */
  size_t count;     /* floats */
  clt_init init;
  int fan_in, fan_out;
} clt_param_desc;

/* What a layer needs from the memory plan, for a planned batch N. */
typedef struct clt_layer_sizes {
  int param_count;                       /* trainable tensors */
  clt_param_desc params[CLT_MAX_PARAMS]; /* each gets a gradient of the same size */
  size_t state_floats;                   /* non-trainable state kept across steps and in checkpoints
                                            (batchnorm running statistics); the layer initialises it */
  int state_init_ones_from;              /* floats [from, state_floats) start at 1, the rest at 0 */
  size_t saved_floats;                   /* kept from forward to backward of the same step */
  size_t workspace_floats;               /* scratch within one pass; shared by all layers */
  int needs_labels;                      /* the loss head */
} clt_layer_sizes;

/* The buffers of one forward or backward call. Sub-buffers of the arenas. */
typedef struct clt_pass {
  clt_ctx *ctx;
  int batch;       /* N of this call; at most the planned batch */
  int training;    /* 1: training mode (dropout active, batch statistics) */
  uint32_t seed;   /* run seed */
  uint32_t step;   /* global step, for dropout's random stream */
  int layer_index; /* position in the network, for dropout's random stream */
  cl_mem x;        /* [N, in]  input */
  cl_mem y;        /* [N, out] output (forward writes it; kept for backward) */
  cl_mem dy;       /* [N, out] backward: gradient wrt y */
  cl_mem dx;       /* [N, in]  backward: gradient wrt x, written; NULL for the first
                      layer (skip it). The loss head writes it in forward when training. */
  cl_mem params[CLT_MAX_PARAMS];
  cl_mem grads[CLT_MAX_PARAMS];
  cl_mem state;     /* state_floats, or NULL */
  cl_mem saved;     /* saved_floats, or NULL */
  cl_mem workspace; /* workspace_floats, or NULL */
  cl_mem labels;    /* [N] int32, for the head */
  cl_mem metrics;   /* head only: device accumulators, see nn/metrics.h */
  cl_mem x2;        /* [N, from] layers with a `from` ([add]): the named layer's output */
  cl_mem dx2;       /* [N, from] backward: gradient wrt x2, ADDED into (the network sums the
                       gradients of every reader of that layer there) */
  /* Data-parallel shards (train/replicas.h): the loss head divides its gradient by
   * loss_divisor when larger than N (the global batch), and random streams key sample s of
   * this call as sample sample_offset + s of the global batch. 0 and 0 alone. */
  int loss_divisor;
  uint32_t sample_offset;
} clt_pass;

/* A layer's settings as plain numbers, for code outside the layer that translates it
 * (the ONNX export, src/export). Fields a layer type does not have stay 0. */
typedef struct clt_layer_info {
  int size, stride;                             /* window K and stride S (conv, pools);
                                                   add: the projection's stride */
  int pad_top, pad_bottom, pad_left, pad_right; /* conv */
  int bias;                                     /* conv, dense: a bias tensor follows the weights */
  clt_activation act;                           /* conv, dense, add, activation */
  double alpha;                                 /* the leaky_relu slope */
  double epsilon;                               /* batchnorm */
  int projection;                               /* add: 1 with the 1x1 projection W [F, C] */
  const char *algorithm;          /* conv: "im2col", "direct" or "implicit" (auto: after its first
                                     forward); NULL elsewhere */
  const char *algorithm_backward; /* conv: the backward's (also "implicit-dw": the implicit
                                     weight gradient, im2col's input gradient) */
  int measured;                   /* conv: 1 when algorithm was chosen by timing (now or stored) */
} clt_layer_info;

typedef struct clt_layer_ops {
  const char *name;    /* model-file section name: "conv" */
  const char *summary; /* one line for documentation */
  /* Reads this layer's keys (typed getters mark them used; the network then
   * rejects unknown keys). Allocates the layer's own struct into *self. */
  clt_status (*parse)(const clt_ini_section *sec, void **self);
  /* Output shape for input shape in; rejects shapes that do not fit with
   * clt_ini_section_fail(sec, ...) naming what to change. Stores both shapes. */
  clt_status (*infer)(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out);
  void (*sizes)(const void *self, int batch, clt_layer_sizes *sizes);
  /* Creates kernels on ctx. May be called once per context. */
  clt_status (*prepare)(void *self, clt_ctx *ctx);
  clt_status (*forward)(void *self, const clt_pass *pass);
  clt_status (*backward)(void *self, const clt_pass *pass);
  /* Short description for the model summary: "32 3x3 s1 same, relu". */
  void (*describe)(const void *self, char *buf, size_t size);
  /* Releases kernels and frees self. */
  void (*destroy)(void *self);
  /* Optional (NULL for one-input layers): the name (key from) of the earlier layer whose
   * output is the second input x2, and the call giving that output's shape before infer. */
  const char *(*from)(const void *self);
  void (*set_from_shape)(void *self, clt_shape shape);
  /* Optional (after infer): the settings above; NULL for layers with none (dropout, heads). */
  void (*info)(const void *self, clt_layer_info *info);
} clt_layer_ops;

/* The registry: every layer type by section name (nn/registry.c). */
const clt_layer_ops *clt_layer_find(const char *name);
/* NULL-terminated list of all layer types, in documentation order. */
const clt_layer_ops *const *clt_layer_all(void);

#endif
