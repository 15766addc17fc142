/* Optimizers (docs/INTERNALS.md "Optimizers"): one kernel each, over a flat
 * parameter vector, enqueued on the compute queue without waiting.
 *
 * The type is clt_optim because nn/recipe.h already names the enum of optimizer
 * kinds clt_optimizer. */
#ifndef CLT_OPTIM_OPTIMIZER_H
#define CLT_OPTIM_OPTIMIZER_H

#include <CL/cl.h>
#include <stddef.h>

#include "cltrain/status.h"
#include "nn/recipe.h"
#include "runtime/context.h"

typedef struct clt_optim clt_optim;

/* Reads the optimizer, momentum, nesterov, weight_decay, beta1, beta2 and epsilon of
 * recipe (copied; recipe need not outlive the optimizer) and builds its kernel on ctx. */
clt_status clt_optim_create(clt_ctx *ctx, const clt_recipe *recipe, clt_optim **out);

/* Floats of optimizer state per parameter float: 0 (SGD without momentum), 1 (SGD with
 * momentum: v), 2 (Adam, AdamW: m then v). State starts at zero. */
int clt_optim_state_per_param(const clt_optim *opt);

/* One update of n floats: params [n] (updated), grads [n] (read), state
 * [state_per_param * n] laid out as consecutive blocks of n (v; or m then v), NULL when
 * state_per_param is 0. lr is this step's learning rate (clt_schedule_lr), t the 1-based
 * step count (Adam's bias corrections 1 - beta^t, computed here in double). Enqueued on
 * the compute queue, no wait. n = 0 does nothing; n above 2^31 - 1 is CLT_ERR_INTERNAL. */
clt_status clt_optim_step(clt_optim *opt, cl_mem params, cl_mem grads, cl_mem state, size_t n,
                          double lr, long t);

/* "adam (beta1 0.9, beta2 0.999, epsilon 1e-07)" and the like, for the run summary. */
void clt_optim_describe(const clt_optim *opt, char *buf, size_t size);

void clt_optim_destroy(clt_optim *opt);

#endif
