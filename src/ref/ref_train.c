/* The float64 reference training (ref_train.h): the layers of ref.h chained like
 * nn/network.c chains the device layers. Plain and slow on purpose. */
#include "ref/ref_train.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_node {
  clt_ref_layer l;
  clt_ref_shape in, out; /* one sample (n = 1) */
  int tensors;           /* parameter tensors: 0, 1 (weights) or 2 (weights, bias) */
  long size[2];
  double *w[2], *g[2]; /* values and gradients */
  double *m[2], *v[2]; /* optimizer state: SGD uses v; Adam m and v */
  double *y;           /* [B, out] */
} ref_node;

struct clt_ref_net {
  int count, batch, classes;
  clt_ref_shape input; /* n = batch */
  clt_ref_optimizer opt;
  ref_node *nodes;
  double *grad[2]; /* [B, largest tensor] ping-pong gradients */
};

static long per_sample(clt_ref_shape s) {
  return (long)s.h * s.w * s.c;
}

/* Output shape of node for its input; returns 0 when it does not fit. */
static int infer(ref_node *node) {
  clt_ref_shape in = node->in;
  switch (node->l.kind) {
  case CLT_REF_LAYER_CONV:
    clt_ref_conv_set_padding(&node->l.conv, node->l.padding, node->l.pad_number, in);
    node->out = clt_ref_conv_out_shape(&node->l.conv, in);
    node->tensors = node->l.conv.bias ? 2 : 1;
    node->size[0] = (long)node->l.conv.filters * node->l.conv.size * node->l.conv.size * in.c;
    node->size[1] = node->l.conv.filters;
    break;
  case CLT_REF_LAYER_DENSE:
    node->out = (clt_ref_shape){1, 1, 1, node->l.dense.units};
    node->tensors = node->l.dense.bias ? 2 : 1;
    node->size[0] = (long)node->l.dense.units * per_sample(in);
    node->size[1] = node->l.dense.units;
    break;
  case CLT_REF_LAYER_MAXPOOL:
  case CLT_REF_LAYER_AVGPOOL:
    node->out = clt_ref_pool_out_shape(&node->l.pool, in);
    break;
  case CLT_REF_LAYER_ACTIVATION:
    node->out = in;
    break;
  }
  node->out.n = 1;
  return node->out.h > 0 && node->out.w > 0 && node->out.c > 0;
}

void clt_ref_net_free(clt_ref_net *net) {
  if (!net) return;
  for (int i = 0; net->nodes && i < net->count; i++) {
    ref_node *node = &net->nodes[i];
    for (int t = 0; t < 2; t++)
      free(node->w[t]), free(node->g[t]), free(node->m[t]), free(node->v[t]);
    free(node->y);
  }
  free(net->nodes);
  free(net->grad[0]);
  free(net->grad[1]);
  free(net);
}

clt_ref_net *clt_ref_net_create(const clt_ref_layer *layers, int count, clt_ref_shape input,
                                const clt_ref_optimizer *opt) {
  if (count < 1 || input.n < 1) return NULL;
  clt_ref_net *net = calloc(1, sizeof *net);
  if (!net) return NULL;
  net->count = count;
  net->batch = input.n;
  net->input = input;
  net->opt = *opt;
  net->nodes = calloc((size_t)count, sizeof *net->nodes);
  if (!net->nodes) goto fail;
  clt_ref_shape in = input;
  in.n = 1;
  long largest = per_sample(in);
  for (int i = 0; i < count; i++) {
    ref_node *node = &net->nodes[i];
    node->l = layers[i];
    node->in = in;
    if (!infer(node)) goto fail;
    for (int t = 0; t < node->tensors; t++) {
      size_t n = (size_t)node->size[t];
      node->w[t] = calloc(n, sizeof(double));
      node->g[t] = calloc(n, sizeof(double));
      node->m[t] = calloc(n, sizeof(double));
      node->v[t] = calloc(n, sizeof(double));
      if (!node->w[t] || !node->g[t] || !node->m[t] || !node->v[t]) goto fail;
    }
    node->y = calloc((size_t)net->batch * (size_t)per_sample(node->out), sizeof(double));
    if (!node->y) goto fail;
    if (per_sample(node->out) > largest) largest = per_sample(node->out);
    in = node->out;
  }
  net->classes = (int)per_sample(in);
  for (int k = 0; k < 2; k++) {
    net->grad[k] = calloc((size_t)net->batch * (size_t)largest, sizeof(double));
    if (!net->grad[k]) goto fail;
  }
  return net;
fail:
  clt_ref_net_free(net);
  return NULL;
}

int clt_ref_net_tensor_count(const clt_ref_net *net) {
  int n = 0;
  for (int i = 0; i < net->count; i++) n += net->nodes[i].tensors;
  return n;
}

double *clt_ref_net_tensor(clt_ref_net *net, int i, long *count) {
  for (int k = 0; k < net->count; k++) {
    ref_node *node = &net->nodes[k];
    if (i < node->tensors) {
      *count = node->size[i];
      return node->w[i];
    }
    i -= node->tensors;
  }
  *count = 0;
  return NULL;
}

int clt_ref_net_classes(const clt_ref_net *net) {
  return net->classes;
}

static void forward(ref_node *node, int n, const double *x) {
  clt_ref_shape in = node->in;
  in.n = n;
  double *b = node->tensors > 1 ? node->w[1] : NULL;
  switch (node->l.kind) {
  case CLT_REF_LAYER_CONV:
    clt_ref_conv_forward(&node->l.conv, in, x, node->w[0], b, node->y);
    break;
  case CLT_REF_LAYER_DENSE:
    clt_ref_dense_forward(&node->l.dense, n, (int)per_sample(node->in), x, node->w[0], b, node->y);
    break;
  case CLT_REF_LAYER_MAXPOOL:
    clt_ref_maxpool_forward(&node->l.pool, in, x, node->y);
    break;
  case CLT_REF_LAYER_AVGPOOL:
    clt_ref_avgpool_forward(&node->l.pool, in, x, node->y);
    break;
  case CLT_REF_LAYER_ACTIVATION:
    clt_ref_act_forward(node->l.act, node->l.alpha, n * per_sample(in), x, node->y);
    break;
  }
}

/* dx written, gradients added. */
static void backward(ref_node *node, int n, const double *x, const double *dy, double *dx) {
  clt_ref_shape in = node->in;
  in.n = n;
  double *db = node->tensors > 1 ? node->g[1] : NULL;
  switch (node->l.kind) {
  case CLT_REF_LAYER_CONV:
    clt_ref_conv_backward(&node->l.conv, in, x, node->w[0], node->y, dy, dx, node->g[0], db);
    break;
  case CLT_REF_LAYER_DENSE:
    clt_ref_dense_backward(&node->l.dense, n, (int)per_sample(node->in), x, node->w[0], node->y, dy,
                           dx, node->g[0], db);
    break;
  case CLT_REF_LAYER_MAXPOOL:
    clt_ref_maxpool_backward(&node->l.pool, in, x, dy, dx);
    break;
  case CLT_REF_LAYER_AVGPOOL:
    clt_ref_avgpool_backward(&node->l.pool, in, dy, dx);
    break;
  case CLT_REF_LAYER_ACTIVATION:
    clt_ref_act_backward(node->l.act, node->l.alpha, n * per_sample(in), node->y, dy, dx);
    break;
  }
}

static void update(const clt_ref_optimizer *opt, ref_node *node, double lr, long t) {
  for (int k = 0; k < node->tensors; k++) {
    switch (opt->kind) {
    case CLT_REF_OPT_SGD:
      clt_ref_sgd_step(&opt->sgd, lr, node->size[k], node->w[k], node->g[k], node->v[k]);
      break;
    case CLT_REF_OPT_ADAM:
      clt_ref_adam_step(&opt->adam, lr, t, node->size[k], node->w[k], node->g[k], node->m[k],
                        node->v[k]);
      break;
    case CLT_REF_OPT_ADAMW:
      clt_ref_adamw_step(&opt->adam, lr, t, node->size[k], node->w[k], node->g[k], node->m[k],
                         node->v[k]);
      break;
    }
  }
}

double clt_ref_net_train_step(clt_ref_net *net, int n, const double *x, const int32_t *labels,
                              double lr, long t) {
  const double *in = x;
  for (int i = 0; i < net->count; i++) {
    forward(&net->nodes[i], n, in);
    in = net->nodes[i].y;
  }
  double loss = clt_ref_softmax_xent(n, net->classes, in, labels, net->grad[0], NULL);
  int cur = 0;
  for (int i = net->count - 1; i >= 0; i--) {
    ref_node *node = &net->nodes[i];
    for (int k = 0; k < node->tensors; k++)
      memset(node->g[k], 0, (size_t)node->size[k] * sizeof(double));
    const double *xi = i > 0 ? net->nodes[i - 1].y : x;
    backward(node, n, xi, net->grad[cur], net->grad[1 - cur]);
    cur = 1 - cur;
  }
  for (int i = 0; i < net->count; i++) update(&net->opt, &net->nodes[i], lr, t);
  return loss;
}
