/* Training-data augmentation on the device (augment.h). */
#include "train/augment.h"

#include <limits.h>
#include <string.h>

#include "nn/augment_section.h"
#include "runtime/memory.h"
#include "runtime/rng.h"

clt_status clt_augmenter_create(clt_ctx *ctx, const clt_recipe *r, int batch, clt_augmenter *out) {
  memset(out, 0, sizeof *out);
  if (!clt_augment_active(r)) return CLT_OK;
  char why[320];
  if (clt_augment_problem(r, why, sizeof why)) return clt_fail(CLT_ERR_USAGE, "%s", why);
  size_t floats = (size_t)batch * (size_t)r->in_h * (size_t)r->in_w * (size_t)r->in_c;
  if (batch < 1 || floats > INT_MAX)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "a batch of %zu input values is over the 2^31 limit of augmentation; lower "
                    "the batch size",
                    floats);
  out->h = r->in_h;
  out->w = r->in_w;
  out->c = r->in_c;
  out->pad = r->augment_crop;
  out->flip = r->augment_flip != CLT_FLIP_NONE;
  out->batch = batch;
  out->seed = r->seed;
  CLT_TRY(clt_kernel_create(ctx, "augment.cl", "augment_crop_flip", "", &out->kernel));
  CLT_TRY(clt_buffer_create(ctx, floats * sizeof(float), &out->scratch));
  out->active = 1;
  return CLT_OK;
}

clt_status clt_augmenter_for_network(const clt_network *net, const clt_recipe *r,
                                     clt_augmenter *out) {
  clt_recipe shaped = *r; /* the shape the network's input buffer was planned for */
  shaped.in_h = net->model->input.h;
  shaped.in_w = net->model->input.w;
  shaped.in_c = net->model->input.c;
  return clt_augmenter_create(net->ctx, &shaped, net->batch, out);
}

void clt_augmenter_release(clt_augmenter *a) {
  clt_buffer_release(&a->scratch);
  clt_kernel_release(&a->kernel);
  a->active = 0;
}

cl_mem clt_augmenter_target(const clt_augmenter *a, cl_mem x) {
  return a->active ? a->scratch : x;
}

clt_status clt_augmenter_apply(clt_augmenter *a, clt_ctx *ctx, cl_mem x, int n, uint32_t step,
                               uint32_t first) {
  if (!a->active) return CLT_OK;
  if (n < 1 || n > a->batch)
    return clt_fail(CLT_ERR_INTERNAL, "augmentation of %d samples, planned for %d (a bug)", n,
                    a->batch);
  clt_kernel *k = &a->kernel;
  clt_arg_mem(k, a->scratch);
  clt_arg_mem(k, x);
  clt_arg_int(k, n);
  clt_arg_int(k, a->h);
  clt_arg_int(k, a->w);
  clt_arg_int(k, a->c);
  clt_arg_int(k, a->pad);
  clt_arg_int(k, a->flip);
  clt_arg_uint(k, a->seed);
  clt_arg_uint(k, clt_stream(CLT_STREAM_AUGMENT, step));
  clt_arg_uint(k, first);
  /* (w * c, h, n): the contiguous row index in dimension 0, the batch in dimension 2. */
  size_t global[3] = {(size_t)a->w * (size_t)a->c, (size_t)a->h, (size_t)n}, local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(ctx, k, global, local);
}
