/* The one training step, shared by the trainer, `cltrain bench` and `cltrain check`: on the
 * batch already in net->input and net->labels, zeroed gradients, the training forward pass,
 * an optional non-finite guard, the backward pass and the optimizer's update. */
#ifndef CLT_TRAIN_TRAIN_STEP_H
#define CLT_TRAIN_TRAIN_STEP_H

#include "nn/network.h"
#include "optim/optimizer.h"
#include "runtime/program.h"

/* cl/guard.cl's nonfinite_guard: records in flag the first step whose loss is not finite. */
typedef struct clt_step_guard {
  clt_kernel *kernel;
  cl_mem flag; /* [1] uint */
} clt_step_guard;

/* step: the 0-based global step (the dropout stream and the guard's record); the optimizer
 * counts it as update step + 1. guard may be NULL. */
clt_status clt_train_step(clt_network *net, clt_optim *opt, int n, long step, double lr,
                          const clt_step_guard *guard);

#endif
