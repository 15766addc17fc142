/* Data-parallel replicas in one process: the lanes, their shards and their step
 * (train/replicas.h). The gradient reduction is in replica_reduce.c, the layout and the
 * balance in replica_split.c. */
#include "train/replicas.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/clock.h"
#include "runtime/gemm.h"
#include "cltrain/status.h"
#include "runtime/fail.h"
#include "train/checkpoint.h"
#include "train/train_step.h"

static clt_status open_lane(clt_replicas *r, int l, const clt_device_options *dev, const char *spec,
                            const clt_model *model0, int profiling) {
  clt_lane *ln = &r->lane[l];
  clt_device_options d = *dev;
  d.device = spec;
  ln->owned = 1;
  CLT_TRY(clt_open_device(&d, profiling, &ln->ctx));
  CLT_TRY(clt_model_parse(model0->text, model0->text_length, model0->name, &ln->model));
  ln->model->recipe = model0->recipe;
  CLT_TRY(clt_optim_create(ln->ctx, &ln->model->recipe, &ln->opt));
  const clt_network *net0 = r->lane[0].net;
  clt_status st = clt_network_create(ln->model, ln->ctx, net0->batch,
                                     clt_optim_state_per_param(ln->opt), net0->seed, &ln->net);
  if (st == CLT_ERR_OUT_OF_MEMORY)
    return clt_fail(st,
                    "device %s (%s) cannot hold the model for a shard of up to %d samples; give "
                    "a smaller batch or leave this device out of --device",
                    spec, ln->ctx->dev.name, net0->batch);
  if (st == CLT_OK) st = clt_gemm_warm_up(ln->ctx);
  return st;
}

clt_status clt_replicas_create(clt_model *model0, clt_ctx *ctx0, clt_optim *opt0, clt_network *net0,
                               const clt_device_options *dev, const char *const *extra,
                               int extra_count, clt_peers *peers, int profiling,
                               clt_replicas **out) {
  *out = NULL;
  if (extra_count + 1 > CLT_REPLICAS_MAX)
    return clt_fail(CLT_ERR_USAGE, "%d devices listed; at most %d per process", extra_count + 1,
                    CLT_REPLICAS_MAX);
  clt_replicas *r = calloc(1, sizeof *r);
  if (!r) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the replicas");
  r->lanes = extra_count + 1;
  r->peers = peers;
  r->rank = clt_peers_rank(peers);
  r->ranks = clt_peers_size(peers);
  r->global = r->lanes * r->ranks;
  r->batch = model0->recipe.batch < net0->batch ? model0->recipe.batch : net0->batch;
  r->bucket_bytes = (size_t)CLT_BUCKET_KIB_DEFAULT << 10;
  r->lane[0].model = model0;
  r->lane[0].ctx = ctx0;
  r->lane[0].opt = opt0;
  r->lane[0].net = net0;
  for (int l = 0; l < CLT_REPLICAS_MAX; l++) {
    r->lane[l].owner = r;
    r->lane[l].index = l;
  }
  clt_status st = CLT_OK;
  if ((size_t)r->global > sizeof r->split / sizeof r->split[0])
    st = clt_fail(CLT_ERR_USAGE, "%d replicas in all; at most %zu", r->global,
                  sizeof r->split / sizeof r->split[0]);
  if (st == CLT_OK && r->batch < r->global)
    st = clt_fail(CLT_ERR_USAGE,
                  "a batch of %d cannot be split over %d replicas (%d process%s x %d device%s): "
                  "give a batch of at least %d or fewer devices",
                  r->batch, r->global, r->ranks, r->ranks == 1 ? "" : "es", r->lanes,
                  r->lanes == 1 ? "" : "s", r->global);
  for (int l = 1; l < r->lanes && st == CLT_OK; l++)
    st = open_lane(r, l, dev, extra[l - 1], model0, profiling);
  if (st == CLT_OK) st = clt_replicas_set_split(r, NULL, NULL);
  if (st == CLT_OK) st = clt_replicas_sync(r);
  if (st != CLT_OK) {
    clt_replicas_destroy(r);
    return st;
  }
  *out = r;
  return CLT_OK;
}

void clt_replicas_train_end(clt_replicas *r) {
  if (!r) return;
  for (int l = 0; l < r->lanes; l++) {
    clt_lane *ln = &r->lane[l];
    if (ln->ctx) clt_ctx_finish(ln->ctx);
    if (ln->done_marker) clReleaseEvent(ln->done_marker);
    ln->done_marker = NULL;
    if (ln->reads) {
      for (int b = 0; b < r->buckets; b++)
        if (ln->reads[b]) clReleaseEvent(ln->reads[b]);
      free(ln->reads);
      ln->reads = NULL;
    }
    if (ln->host) clEnqueueUnmapMemObject(ln->ctx->compute, ln->pinned, ln->host, 0, NULL, NULL);
    if (ln->ctx) clt_ctx_finish(ln->ctx);
    ln->host = NULL;
    clt_buffer_release(&ln->pinned);
    if (l == 0) continue; /* the trainer's */
    clt_device_data_destroy(ln->data);
    ln->data = NULL;
    clt_augmenter_release(&ln->augment);
    clt_buffer_release(&ln->guard);
    clt_kernel_release(&ln->guard_kernel);
  }
}

void clt_replicas_destroy(clt_replicas *r) {
  if (!r) return;
  clt_replicas_train_end(r);
  for (int l = 1; l < r->lanes; l++) {
    clt_lane *ln = &r->lane[l];
    clt_network_destroy(ln->net);
    clt_optim_destroy(ln->opt);
    clt_ctx_destroy(ln->ctx);
    clt_model_free(ln->model);
  }
  free(r->tensors);
  free(r->sum);
  free(r->bucket_end);
  free(r->requests);
  free(r->work);
  free(r);
}

void clt_replicas_shard(const clt_replicas *r, int n, int g, int *first, int *count) {
  /* A full batch takes the split; a short one shares n in proportion to it (floors, the
   * remainder one by one from replica 0), the same on every rank. */
  if (n == r->batch) {
    int f = 0;
    for (int i = 0; i < g; i++) f += r->split[i];
    *first = f;
    *count = r->split[g];
    return;
  }
  int given = 0, mine = 0, f = 0;
  for (int i = 0; i < r->global; i++) given += (int)((long)n * r->split[i] / r->batch);
  int rest = n - given;
  for (int i = 0; i <= g; i++) {
    int c = (int)((long)n * r->split[i] / r->batch) + (i < rest ? 1 : 0);
    if (i < g) f += c;
    mine = c;
  }
  *first = f;
  *count = mine;
}

clt_status clt_replicas_train_begin(clt_replicas *r, const clt_dataset *train, int force_stream,
                                    const clt_recipe *recipe, clt_device_data *data0,
                                    clt_augmenter *aug0, cl_mem guard0, clt_kernel *guard_k0) {
  if (train->source)
    return clt_fail(CLT_ERR_UNSUPPORTED,
                    "data-parallel training needs its data in memory, and this CSV file is "
                    "streamed from disk: train it on one device in one process");
  clt_lane *l0 = &r->lane[0];
  l0->data = data0;
  l0->aug = aug0;
  l0->guard = guard0;
  l0->guard_k = guard_k0;
  for (int l = 1; l < r->lanes; l++) {
    clt_lane *ln = &r->lane[l];
    clt_ctx *ctx = ln->ctx;
    CLT_TRY(clt_kernel_create(ctx, "guard.cl", "nonfinite_guard", "", &ln->guard_kernel));
    CLT_TRY(clt_buffer_create(ctx, sizeof(cl_uint), &ln->guard));
    CLT_TRY(clt_buffer_zero(ctx, ln->guard, 0, sizeof(cl_uint)));
    CLT_TRY(clt_augmenter_for_network(ln->net, recipe, &ln->augment));
    CLT_TRY(clt_device_data_create(ctx, train, ln->net->batch, force_stream, &ln->data));
    ln->aug = &ln->augment;
    ln->guard_k = &ln->guard_kernel;
  }
  return CLT_OK;
}

/* The network's after_backward hook: the reads of the buckets that layer completed. */
static clt_status after_layer(void *user, int layer) {
  clt_lane *ln = user;
  return clt_replicas_read_through(ln->owner, ln->index, layer);
}

/* Lane l's forward and backward on its shard, each gradient bucket's read enqueued as soon
 * as the backward has produced it; no wait. */
static clt_status lane_compute(clt_replicas *r, int l, int start, int n, long step) {
  clt_lane *ln = &r->lane[l];
  clt_network *net = ln->net;
  int first = 0, count = 0;
  clt_replicas_shard(r, n, r->rank * r->lanes + l, &first, &count);
  ln->next_read = 0;
  CLT_TRY(clt_network_zero_grads(net));
  /* A short last batch may leave this shard empty: its zeros are read below. */
  if (count == 0) return clt_replicas_read_through(r, l, -1);
  uint32_t s = (uint32_t)step;
  CLT_TRY(clt_device_data_load(ln->data, start + first, count,
                               clt_augmenter_target(ln->aug, net->input), net->labels));
  if (ln->aug->active)
    CLT_TRY(clt_augmenter_apply(ln->aug, net->ctx, net->input, count, s, (uint32_t)first));
  net->loss_divisor = n;
  net->sample_offset = (uint32_t)first;
  clt_status st = clt_network_forward(net, count, 1, s);
  if (st == CLT_OK) {
    clt_kernel *k = ln->guard_k;
    clt_arg_mem(k, net->metrics);
    clt_arg_mem(k, ln->guard);
    clt_arg_uint(k, s + 1u);
    st = clt_run_1d(net->ctx, k, 1);
  }
  net->after_backward = after_layer;
  net->after_backward_user = ln;
  if (st == CLT_OK) st = clt_network_backward(net, count, s);
  net->after_backward = NULL;
  net->after_backward_user = NULL;
  net->loss_divisor = 0;
  net->sample_offset = 0;
  if (st == CLT_OK) st = clt_replicas_read_through(r, l, -1); /* any left */
  if (st == CLT_OK) clFlush(net->ctx->compute);
  return st;
}

clt_status clt_replicas_step(clt_replicas *r, int start, int n, long step, double lr) {
  CLT_TRY(clt_replicas_plan(r));
  r->step_start = r->timing ? clt_now_seconds() : 0;
  for (int l = 0; l < r->lanes; l++) CLT_TRY(lane_compute(r, l, start, n, step));
  CLT_TRY(clt_replicas_reduce(r));
  for (int l = 0; l < r->lanes; l++) {
    clt_network *net = r->lane[l].net;
    CLT_TRY(clt_optim_step(r->lane[l].opt, net->params.mem, net->grads.mem, net->optimizer.mem,
                           clt_network_param_arena_floats(net), lr, step + 1));
    clFlush(net->ctx->compute);
  }
  if (r->timing) {
    r->times.reduce += clt_now_seconds() - r->compute_end;
    r->times.steps++;
  }
  return CLT_OK;
}

clt_status clt_replicas_sync(clt_replicas *r) {
  if (r->lanes < 2) return CLT_OK;
  clt_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  clt_status st = clt_checkpoint_capture(r->lane[0].net, &ck);
  for (int l = 1; l < r->lanes && st == CLT_OK; l++)
    st = clt_checkpoint_restore(r->lane[l].net, &ck, 1);
  clt_checkpoint_free(&ck);
  return st;
}
