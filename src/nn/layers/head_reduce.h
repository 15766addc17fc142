/* The metric reduction shared by the loss heads ([softmax], [mse]): one work-group sums the
 * batch's per-sample [2, N] values (loss, then correct or absolute error) in a fixed order
 * and adds them into the metrics accumulators (softmax_xent_reduce in cl/softmax.cl). */
#ifndef CLT_NN_LAYERS_HEAD_REDUCE_H
#define CLT_NN_LAYERS_HEAD_REDUCE_H

#include "nn/layer.h"
#include "runtime/program.h"

typedef struct clt_head_reduce {
  clt_kernel kernel;
  size_t local; /* power of two: the work-group size */
} clt_head_reduce;

clt_status clt_head_reduce_prepare(clt_ctx *ctx, clt_head_reduce *r);
/* Sums pass->saved [2, pass->batch] into pass->metrics. */
clt_status clt_head_reduce_run(clt_head_reduce *r, const clt_pass *pass);
void clt_head_reduce_release(clt_head_reduce *r);

#endif
