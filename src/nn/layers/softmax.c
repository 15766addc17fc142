/* [softmax]: the loss head, softmax + cross-entropy fused (docs/INTERNALS.md "softmax").
 *
 * Input: logits [N, 1, 1, K] (the output of a [dense] with units = K). Output y: the
 * probabilities [N, K]. With labels, forward also computes the per-sample loss and
 * correctness into saved, and adds the batch sums into pass->metrics (nn/metrics.h);
 * in training it writes dx = (softmax - onehot) / N, so the loss and the input gradient
 * come from one pass and backward has nothing left to do.
 *
 * saved layout (2N floats): [0, N) per-sample loss, [N, 2N) per-sample correct (0 or 1).
 * A label outside [0, K) gives a NaN loss (the non-finite flag), see cl/softmax.cl. */
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers/layers.h"
#include "nn/layers/head_reduce.h"
#include "nn/metrics.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"

typedef struct softmax_layer {
  int classes; /* K */
  clt_kernel forward_k;
  clt_head_reduce reduce; /* the metric sums */
  int prepared;
} softmax_layer;

static clt_status softmax_parse(const clt_ini_section *sec, void **self) {
  (void)sec; /* no keys */
  softmax_layer *s = calloc(1, sizeof *s);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [softmax]");
  *self = s;
  return CLT_OK;
}

static clt_status softmax_infer(void *self, const clt_ini_section *sec, clt_shape in,
                                clt_shape *out) {
  softmax_layer *s = self;
  if (in.h != 1 || in.w != 1)
    return clt_ini_section_fail(sec,
                                "takes a flat input of class scores but gets %dx%dx%d; add a "
                                "[dense] layer with units = number of classes before [softmax]",
                                in.h, in.w, in.c);
  if (in.c < 2)
    return clt_ini_section_fail(sec,
                                "needs at least 2 classes but gets %d input; add a [dense] layer "
                                "with units = number of classes before [softmax]",
                                in.c);
  s->classes = in.c;
  *out = in;
  return CLT_OK;
}

static void softmax_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  (void)self;
  *sizes = (clt_layer_sizes){0};
  sizes->saved_floats = 2 * (size_t)batch; /* per-sample loss, then per-sample correct */
  sizes->needs_labels = 1;
}

static clt_status softmax_prepare(void *self, clt_ctx *ctx) {
  softmax_layer *s = self;
  if (s->prepared) return CLT_OK;
  CLT_TRY(clt_kernel_create(ctx, "softmax.cl", "softmax_xent_forward", "", &s->forward_k));
  clt_status st = clt_head_reduce_prepare(ctx, &s->reduce);
  if (st != CLT_OK) {
    clt_kernel_release(&s->forward_k);
    return st;
  }
  s->prepared = 1;
  return CLT_OK;
}

static clt_status softmax_forward(void *self, const clt_pass *pass) {
  softmax_layer *s = self;
  if (!s->prepared)
    return clt_fail(CLT_ERR_INTERNAL, "[softmax] forward before prepare (a bug in the caller)");
  int n = pass->batch;
  if (n <= 0) return CLT_OK;
  int has_labels = pass->labels != NULL;
  if (has_labels && !pass->saved)
    return clt_fail(CLT_ERR_INTERNAL, "[softmax] has labels but no saved buffer (a bug)");
  int write_dz = pass->training && pass->dx != NULL;
  /* Unused buffer arguments get a valid buffer that the kernel never touches, rather
   * than NULL, which some drivers handle badly. */
  clt_kernel *k = &s->forward_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->y);
  clt_arg_mem(k, has_labels ? pass->labels : pass->x);
  clt_arg_int(k, has_labels);
  clt_arg_mem(k, has_labels ? pass->saved : pass->y);
  clt_arg_mem(k, write_dz ? pass->dx : pass->y);
  clt_arg_int(k, write_dz);
  clt_arg_int(k, n);
  clt_arg_int(k, s->classes);
  clt_arg_int(k, pass->loss_divisor > n ? pass->loss_divisor : n);
  CLT_TRY(clt_run_1d(pass->ctx, k, (size_t)n));

  if (has_labels && pass->metrics) CLT_TRY(clt_head_reduce_run(&s->reduce, pass));
  return CLT_OK;
}

/* The input gradient was written by forward. */
static clt_status softmax_backward(void *self, const clt_pass *pass) {
  (void)self;
  (void)pass;
  return CLT_OK;
}

static void softmax_describe(const void *self, char *buf, size_t size) {
  const softmax_layer *s = self;
  snprintf(buf, size, "%d classes, cross-entropy loss", s->classes);
}

static void softmax_destroy(void *self) {
  softmax_layer *s = self;
  if (!s) return;
  clt_kernel_release(&s->forward_k);
  clt_head_reduce_release(&s->reduce);
  free(s);
}

_Static_assert(CLT_METRIC_LOSS_SUM == 0 && CLT_METRIC_CORRECT == 1 && CLT_METRIC_COUNT == 2 &&
                   CLT_METRIC_NONFINITE == 3,
               "cl/softmax.cl writes the metrics at these indices");

const clt_layer_ops clt_layer_softmax = {
    .name = "softmax",
    .summary = "the loss head: softmax probabilities and cross-entropy loss; must be last",
    .parse = softmax_parse,
    .infer = softmax_infer,
    .sizes = softmax_sizes,
    .prepare = softmax_prepare,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .describe = softmax_describe,
    .destroy = softmax_destroy,
};
