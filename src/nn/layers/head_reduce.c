#include "nn/layers/head_reduce.h"

clt_status clt_head_reduce_prepare(clt_ctx *ctx, clt_head_reduce *r) {
  CLT_TRY(clt_kernel_create(ctx, "softmax.cl", "softmax_xent_reduce", "", &r->kernel));
  size_t local = 1;
  while (local * 2 <= r->kernel.local_1d) local *= 2;
  r->local = local;
  return CLT_OK;
}

clt_status clt_head_reduce_run(clt_head_reduce *r, const clt_pass *pass) {
  clt_kernel *k = &r->kernel;
  clt_arg_mem(k, pass->saved);
  clt_arg_mem(k, pass->metrics);
  clt_arg_local(k, r->local * sizeof(float));
  clt_arg_local(k, r->local * sizeof(float));
  clt_arg_int(k, pass->batch);
  return clt_run_1d_local(pass->ctx, k, 1, r->local);
}

void clt_head_reduce_release(clt_head_reduce *r) {
  clt_kernel_release(&r->kernel);
}
