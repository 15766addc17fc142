#include "nn/network_skip.h"

static size_t out_floats(const clt_network *net, int i, int n) {
  return (size_t)n * clt_shape_size(net->model->layers[i].out);
}

clt_status clt_network_skip_prepare(clt_network *net) {
  clt_kernel_release(&net->skip_add);
  for (int i = 0; i < net->model->layer_count; i++)
    if (net->model->layers[i].readers)
      return clt_kernel_create(net->ctx, "residual.cl", "add_into", NULL, &net->skip_add);
  return CLT_OK;
}

clt_status clt_network_skip_zero(clt_network *net, int n) {
  for (int i = 0; i < net->model->layer_count; i++)
    if (net->layers[i].skip_grad)
      CLT_TRY(clt_buffer_zero(net->ctx, net->layers[i].skip_grad, 0,
                              out_floats(net, i, n) * sizeof(float)));
  return CLT_OK;
}

clt_status clt_network_skip_collect(clt_network *net, int i, int n, cl_mem dy) {
  cl_mem acc = net->layers[i].skip_grad;
  if (!acc) return CLT_OK;
  size_t count = out_floats(net, i, n);
  if (count > 0x7fffffff)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "a residual source of %zu values is over the 2^31 limit; lower the batch size",
                    count);
  clt_kernel *k = &net->skip_add;
  clt_arg_mem(k, dy);
  clt_arg_mem(k, acc);
  clt_arg_int(k, (int)count);
  return clt_run_1d(net->ctx, k, count);
}
