/* Optimizer steps: one kernel per kind in cl/optim.cl (docs/INTERNALS.md "Optimizers"). */
#include "optim/optimizer.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/cl_errors.h"
#include "runtime/program.h"

typedef enum optim_kind {
  KIND_SGD,          /* momentum 0 */
  KIND_SGD_MOMENTUM, /* momentum > 0, Nesterov or not */
  KIND_ADAM,
  KIND_ADAMW
} optim_kind;

struct clt_optim {
  clt_ctx *ctx;
  optim_kind kind;
  clt_recipe recipe;
  clt_kernel k;
};

static const char *const kernel_names[] = {"sgd_step", "sgd_momentum_step", "adam_step",
                                           "adamw_step"};

clt_status clt_optim_create(clt_ctx *ctx, const clt_recipe *recipe, clt_optim **out) {
  *out = NULL;
  optim_kind kind;
  switch (recipe->optimizer) {
  case CLT_OPT_SGD:
    kind = recipe->momentum > 0.0 ? KIND_SGD_MOMENTUM : KIND_SGD;
    break;
  case CLT_OPT_ADAM:
    kind = KIND_ADAM;
    break;
  case CLT_OPT_ADAMW:
    kind = KIND_ADAMW;
    break;
  default:
    return clt_fail(CLT_ERR_INTERNAL, "unknown optimizer %d; choose one of %s",
                    (int)recipe->optimizer, clt_optimizer_choices());
  }
  clt_optim *opt = calloc(1, sizeof *opt);
  if (!opt) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the optimizer");
  opt->ctx = ctx;
  opt->kind = kind;
  opt->recipe = *recipe;
  clt_status st = clt_kernel_create(ctx, "optim.cl", kernel_names[kind], "", &opt->k);
  if (st != CLT_OK) {
    free(opt);
    return st;
  }
  *out = opt;
  return CLT_OK;
}

int clt_optim_state_per_param(const clt_optim *opt) {
  switch (opt->kind) {
  case KIND_SGD:
    return 0;
  case KIND_SGD_MOMENTUM:
    return 1;
  default:
    return 2;
  }
}

clt_status clt_optim_step(clt_optim *opt, cl_mem params, cl_mem grads, cl_mem state, size_t n,
                          double lr, long t) {
  if (n == 0) return CLT_OK;
  if (n > (size_t)INT_MAX)
    return clt_fail(CLT_ERR_INTERNAL, "optimizer step over %zu floats: at most %d per call", n,
                    INT_MAX);
  if (clt_optim_state_per_param(opt) > 0 && !state)
    return clt_fail(CLT_ERR_INTERNAL, "%s step without its state buffer (a bug in the caller)",
                    clt_optimizer_name(opt->recipe.optimizer));
  if (t < 1) return clt_fail(CLT_ERR_INTERNAL, "optimizer step count %ld: it starts at 1", t);
  const clt_recipe *r = &opt->recipe;
  clt_kernel *k = &opt->k;
  clt_arg_mem(k, params);
  clt_arg_mem(k, grads);
  switch (opt->kind) {
  case KIND_SGD:
    clt_arg_uint(k, (unsigned)n);
    clt_arg_float(k, (float)lr);
    clt_arg_float(k, (float)r->weight_decay);
    break;
  case KIND_SGD_MOMENTUM:
    clt_arg_mem(k, state);
    clt_arg_uint(k, (unsigned)n);
    clt_arg_float(k, (float)lr);
    clt_arg_float(k, (float)r->momentum);
    clt_arg_float(k, (float)r->weight_decay);
    clt_arg_int(k, r->nesterov ? 1 : 0);
    break;
  case KIND_ADAM:
  case KIND_ADAMW: {
    /* Bias corrections and 1 - b in double: in float, 1 - b^t would cancel digits while
     * b^t is close to 1 (small t, b2 = 0.999). */
    double c1 = 1.0 - pow(r->beta1, (double)t);
    double c2 = 1.0 - pow(r->beta2, (double)t);
    clt_arg_mem(k, state);
    clt_arg_uint(k, (unsigned)n);
    clt_arg_float(k, (float)lr);
    clt_arg_float(k, (float)r->beta1);
    clt_arg_float(k, (float)(1.0 - r->beta1));
    clt_arg_float(k, (float)r->beta2);
    clt_arg_float(k, (float)(1.0 - r->beta2));
    clt_arg_float(k, (float)c1);
    clt_arg_float(k, (float)c2);
    clt_arg_float(k, (float)r->epsilon);
    /* Adam: the L2 factor wd; AdamW: the decoupled decay lr * wd of this step. */
    clt_arg_float(k, (float)(opt->kind == KIND_ADAM ? r->weight_decay : lr * r->weight_decay));
    break;
  }
  }
  return clt_run_1d(opt->ctx, k, n);
}

void clt_optim_describe(const clt_optim *opt, char *buf, size_t size) {
  const clt_recipe *r = &opt->recipe;
  switch (opt->kind) {
  case KIND_SGD:
    snprintf(buf, size, "sgd (weight_decay %g)", r->weight_decay);
    break;
  case KIND_SGD_MOMENTUM:
    snprintf(buf, size, "sgd (momentum %g%s, weight_decay %g)", r->momentum,
             r->nesterov ? ", nesterov" : "", r->weight_decay);
    break;
  case KIND_ADAM:
  case KIND_ADAMW:
    snprintf(buf, size, "%s (beta1 %g, beta2 %g, epsilon %g, weight_decay %g)",
             clt_optimizer_name(r->optimizer), r->beta1, r->beta2, r->epsilon, r->weight_decay);
    break;
  }
}

void clt_optim_destroy(clt_optim *opt) {
  if (!opt) return;
  clt_kernel_release(&opt->k);
  free(opt);
}
