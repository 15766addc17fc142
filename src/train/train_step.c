#include "train/train_step.h"

#include "runtime/profile.h"

clt_status clt_train_step(clt_network *net, clt_optim *opt, int n, long step, double lr,
                          const clt_step_guard *guard) {
  clt_profiler_scope(net->ctx, "zero gradients");
  CLT_TRY(clt_network_zero_grads(net));
  CLT_TRY(clt_network_forward(net, n, 1, (uint32_t)step));
  if (guard) {
    /* The loss of this step is known on the device now: record a first non-finite one. */
    clt_profiler_scope(net->ctx, "non-finite guard");
    clt_arg_mem(guard->kernel, net->metrics);
    clt_arg_mem(guard->kernel, guard->flag);
    clt_arg_uint(guard->kernel, (uint32_t)step + 1u);
    CLT_TRY(clt_run_1d(net->ctx, guard->kernel, 1));
  }
  CLT_TRY(clt_network_backward(net, n, (uint32_t)step));
  clt_profiler_scope(net->ctx, "optimizer");
  return clt_optim_step(opt, net->params.mem, net->grads.mem, net->optimizer.mem,
                        clt_network_param_arena_floats(net), lr, step + 1);
}
