/* [activation]: a standalone activation function (docs/INTERNALS.md "Activations").
 * Keys: activation (required: linear, relu, leaky_relu, sigmoid, tanh), alpha (only with
 * leaky_relu, > 0, default 0.01). Shape unchanged. Backward takes the derivative from the
 * output y, so nothing is saved. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/activation.h"
#include "nn/layers/layers.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"

typedef struct act_layer {
  clt_activation act;
  double alpha; /* leaky_relu slope */
  clt_shape shape;
  clt_kernel forward_k, backward_k;
  int prepared;
} act_layer;

static clt_status act_parse(const clt_ini_section *sec, void **self) {
  const char *name;
  clt_activation act;
  double alpha = 0.01;
  CLT_TRY(clt_ini_require_string(sec, "activation", &name));
  if (clt_activation_from_name(name, &act) != 0)
    return clt_ini_key_fail(sec, "activation", "unknown activation; use one of %s",
                            clt_activation_choices());
  if (act == CLT_ACT_LEAKY_RELU) {
    CLT_TRY(clt_ini_get_float_ex(sec, "alpha", 0.01, 0.0, INFINITY, CLT_INI_ABOVE_MIN, &alpha));
  } else if (clt_ini_has(sec, "alpha")) {
    return clt_ini_key_fail(sec, "alpha",
                            "alpha is the slope of leaky_relu only; remove it or use activation "
                            "= leaky_relu");
  }
  act_layer *a = calloc(1, sizeof *a);
  if (!a) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for [activation]");
  a->act = act;
  a->alpha = alpha;
  *self = a;
  return CLT_OK;
}

static clt_status act_infer(void *self, const clt_ini_section *sec, clt_shape in, clt_shape *out) {
  (void)sec;
  act_layer *a = self;
  a->shape = in;
  *out = in;
  return CLT_OK;
}

static void act_sizes(const void *self, int batch, clt_layer_sizes *sizes) {
  (void)self;
  (void)batch;
  *sizes = (clt_layer_sizes){0};
}

static clt_status act_prepare(void *self, clt_ctx *ctx) {
  act_layer *a = self;
  if (a->prepared) return CLT_OK;
  CLT_TRY(clt_kernel_create(ctx, "activation.cl", "activation_forward", "", &a->forward_k));
  clt_status st =
      clt_kernel_create(ctx, "activation.cl", "activation_backward", "", &a->backward_k);
  if (st != CLT_OK) {
    clt_kernel_release(&a->forward_k);
    return st;
  }
  a->prepared = 1;
  return CLT_OK;
}

/* Elements of this pass; the kernels index with int. */
static clt_status act_count(const act_layer *a, const clt_pass *pass, int *count) {
  size_t n = (size_t)pass->batch * clt_shape_size(a->shape);
  if (n > INT_MAX)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "an [activation] input of %zu values is over the 2^31 limit; lower the batch "
                    "size",
                    n);
  *count = (int)n;
  return CLT_OK;
}

static clt_status act_forward(void *self, const clt_pass *pass) {
  act_layer *a = self;
  if (!a->prepared) return clt_fail(CLT_ERR_INTERNAL, "[activation] forward before prepare");
  int count = 0;
  CLT_TRY(act_count(a, pass, &count));
  clt_kernel *k = &a->forward_k;
  clt_arg_mem(k, pass->x);
  clt_arg_mem(k, pass->y);
  clt_arg_int(k, count);
  clt_arg_int(k, (int)a->act);
  clt_arg_float(k, (float)a->alpha);
  return clt_run_1d(pass->ctx, k, (size_t)count);
}

static clt_status act_backward(void *self, const clt_pass *pass) {
  act_layer *a = self;
  if (!a->prepared) return clt_fail(CLT_ERR_INTERNAL, "[activation] backward before prepare");
  if (!pass->dx) return CLT_OK;
  int count = 0;
  CLT_TRY(act_count(a, pass, &count));
  clt_kernel *k = &a->backward_k;
  clt_arg_mem(k, pass->y);
  clt_arg_mem(k, pass->dy);
  clt_arg_mem(k, pass->dx);
  clt_arg_int(k, count);
  clt_arg_int(k, (int)a->act);
  clt_arg_float(k, (float)a->alpha);
  return clt_run_1d(pass->ctx, k, (size_t)count);
}

static void act_describe(const void *self, char *buf, size_t size) {
  const act_layer *a = self;
  if (a->act == CLT_ACT_LEAKY_RELU)
    snprintf(buf, size, "leaky_relu, alpha %g", a->alpha);
  else
    snprintf(buf, size, "%s", clt_activation_name(a->act));
}

static void act_info(const void *self, clt_layer_info *info) {
  const act_layer *a = self;
  *info = (clt_layer_info){.act = a->act, .alpha = a->alpha};
}

static void act_destroy(void *self) {
  act_layer *a = self;
  if (!a) return;
  clt_kernel_release(&a->forward_k);
  clt_kernel_release(&a->backward_k);
  free(a);
}

const clt_layer_ops clt_layer_activation = {
    .name = "activation",
    .summary = "an activation function on its own (keys: activation, alpha for leaky_relu)",
    .parse = act_parse,
    .infer = act_infer,
    .sizes = act_sizes,
    .prepare = act_prepare,
    .forward = act_forward,
    .backward = act_backward,
    .describe = act_describe,
    .info = act_info,
    .destroy = act_destroy,
};
