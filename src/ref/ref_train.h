/* The float64 reference of a whole training run: a chain of reference layers (ref.h)
 * ending in the softmax cross-entropy head, trained with SGD, Adam or AdamW. It chains
 * the functions of ref.h exactly as nn/network.c chains the device layers, so that
 * `cltrain check` can compare a device's loss curve with it step by step.
 *
 * Parameters are tensors in network order: for each layer that has them, its weights
 * then its bias (when bias is 1). The caller sets their initial values (the check copies
 * the device network's initialisation, so that both start from the same floats). */
#ifndef CLT_REF_REF_TRAIN_H
#define CLT_REF_REF_TRAIN_H

#include <stdint.h>

#include "ref/ref.h"

typedef enum clt_ref_layer_kind {
  CLT_REF_LAYER_CONV,
  CLT_REF_LAYER_DENSE,
  CLT_REF_LAYER_MAXPOOL,
  CLT_REF_LAYER_AVGPOOL,
  CLT_REF_LAYER_ACTIVATION
} clt_ref_layer_kind;

typedef struct clt_ref_layer {
  clt_ref_layer_kind kind;
  clt_ref_conv conv;       /* CONV: filters, size, stride, bias, act, alpha (pads: below) */
  clt_ref_padding padding; /* CONV: the pads are derived from it for the layer's input */
  int pad_number;          /* CONV with CLT_REF_PAD_NUMBER */
  clt_ref_dense dense;     /* DENSE */
  clt_ref_pool pool;       /* MAXPOOL, AVGPOOL */
  clt_activation act;      /* ACTIVATION */
  double alpha;            /* ACTIVATION: leaky_relu slope */
} clt_ref_layer;

typedef enum clt_ref_optimizer_kind {
  CLT_REF_OPT_SGD,
  CLT_REF_OPT_ADAM,
  CLT_REF_OPT_ADAMW
} clt_ref_optimizer_kind;

typedef struct clt_ref_optimizer {
  clt_ref_optimizer_kind kind;
  clt_ref_sgd sgd;   /* SGD */
  clt_ref_adam adam; /* ADAM, ADAMW */
} clt_ref_optimizer;

typedef struct clt_ref_net clt_ref_net;

/* A network of count layers (copied) plus the head, for batches of up to input.n samples
 * of input.h x input.w x input.c. Parameters start at 0, optimizer state at 0. NULL when
 * a shape does not fit (an output extent below 1) or host memory runs out. */
clt_ref_net *clt_ref_net_create(const clt_ref_layer *layers, int count, clt_ref_shape input,
                                const clt_ref_optimizer *opt);
void clt_ref_net_free(clt_ref_net *net);

/* Number of parameter tensors, and tensor i (its length in *count) to read or set. */
int clt_ref_net_tensor_count(const clt_ref_net *net);
double *clt_ref_net_tensor(clt_ref_net *net, int i, long *count);
/* Classes: the units of the last layer (the head's input). */
int clt_ref_net_classes(const clt_ref_net *net);

/* One training step on n <= input.n samples x [n, H, W, C] with labels [n]: forward, the
 * mean softmax cross-entropy, backward (gradients zeroed first), then the optimizer update
 * of every tensor with learning rate lr and 1-based step count t. Returns the mean loss of
 * the batch before the update. */
double clt_ref_net_train_step(clt_ref_net *net, int n, const double *x, const int32_t *labels,
                              double lr, long t);

#endif
