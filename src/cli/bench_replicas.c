/* `cltrain bench MODEL --device A,B` (cli/bench_replicas.h): data-parallel training steps
 * on synthetic data, each step's time split into compute, reduction (not hidden, and hidden
 * behind the backward pass) and wait. */
#include "cli/bench_replicas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench_data.h"
#include "cli/model_search.h"
#include "cli/mpi_launch.h"
#include "runtime/clock.h"
#include "runtime/fail.h"
#include "runtime/gemm.h"
#include "train/replicas.h"
#include "train/session_replicas.h"

int clt_bench_is_replicated(const char *spec) {
  return spec && (strchr(spec, ',') || strcmp(spec, "all") == 0);
}

typedef struct bench_dp {
  clt_model *model;
  clt_ctx *ctx;
  clt_optim *opt;
  clt_network *net;
  clt_replicas *reps;
  clt_peers *peers;
  char **specs;
  int spec_count;
  clt_dataset data;
  int32_t *order;
  clt_device_data *dd;
  clt_augmenter augment;
  cl_mem guard;
  clt_kernel guard_kernel;
} bench_dp;

static clt_status setup(bench_dp *b, const char *model, const clt_device_options *dev, int batch,
                        const char *balance, int bucket_kib, int distributed) {
  char path[4096];
  clt_cli_model_path(model, path, sizeof path);
  CLT_TRY(clt_model_load(path, &b->model));
  if (batch > 0) b->model->recipe.batch = batch;
  if (distributed) CLT_TRY(clt_peers_open(&b->peers));
  CLT_TRY(clt_device_specs(dev->device, distributed, distributed ? clt_mpi_local_rank() : -1,
                           &b->specs, &b->spec_count));
  clt_device_options d0 = *dev;
  d0.device = b->specs[0];
  CLT_TRY(clt_open_device(&d0, 0, &b->ctx));
  CLT_TRY(clt_optim_create(b->ctx, &b->model->recipe, &b->opt));
  CLT_TRY(clt_network_create(b->model, b->ctx, b->model->recipe.batch,
                             clt_optim_state_per_param(b->opt), b->model->recipe.seed, &b->net));
  CLT_TRY(clt_gemm_warm_up(b->ctx));
  CLT_TRY(clt_bench_synthetic_data(b->model, 4 * b->net->batch, &b->data, &b->order));
  clt_replica_request rq = {balance, NULL, &b->data, stdout, bucket_kib};
  CLT_TRY(clt_session_replicas(b->model, b->ctx, b->opt, b->net, dev, b->specs, b->spec_count,
                               b->peers, 0, &rq, &b->reps));
  if (!b->reps)
    return clt_fail(CLT_ERR_USAGE, "one device and one process: run cltrain bench without a "
                                   "device list for the single-device report");
  CLT_TRY(clt_kernel_create(b->ctx, "guard.cl", "nonfinite_guard", "", &b->guard_kernel));
  CLT_TRY(clt_buffer_create(b->ctx, sizeof(cl_uint), &b->guard));
  CLT_TRY(clt_buffer_zero(b->ctx, b->guard, 0, sizeof(cl_uint)));
  CLT_TRY(clt_augmenter_for_network(b->net, &b->model->recipe, &b->augment));
  CLT_TRY(clt_device_data_create(b->ctx, &b->data, b->net->batch, 0, &b->dd));
  CLT_TRY(clt_replicas_train_begin(b->reps, &b->data, 0, &b->model->recipe, b->dd, &b->augment,
                                   b->guard, &b->guard_kernel));
  for (int l = 0; l < b->reps->lanes; l++)
    CLT_TRY(clt_device_data_set_order(b->reps->lane[l].data, b->order));
  return CLT_OK;
}

static void teardown(bench_dp *b) {
  clt_replicas_destroy(b->reps);
  if (b->ctx) clt_ctx_finish(b->ctx);
  clt_device_data_destroy(b->dd);
  clt_augmenter_release(&b->augment);
  clt_buffer_release(&b->guard);
  clt_kernel_release(&b->guard_kernel);
  clt_network_destroy(b->net);
  clt_optim_destroy(b->opt);
  clt_ctx_destroy(b->ctx);
  clt_model_free(b->model);
  clt_device_specs_free(b->specs, b->spec_count);
  clt_peers_close(b->peers);
  free(b->data.images);
  free(b->data.labels);
  free(b->order);
}

static void report(const clt_replicas *r, int global, double seconds) {
  const clt_replica_times *t = &r->times;
  double n = (double)(t->steps > 0 ? t->steps : 1);
  printf("Data-parallel training step, batch %d over %d replicas (%d process%s x %d devices), "
         "%ld steps:\n",
         global, r->global, r->ranks, r->ranks == 1 ? "" : "es", r->lanes, t->steps);
  for (int l = 0; l < r->lanes; l++)
    printf("  replica %d: %s, shard %d\n", l, r->lane[l].ctx->dev.name,
           r->split[r->rank * r->lanes + l]);
  printf("  gradient %.2f MiB per replica in %d bucket%s of about %zu KiB; %.0f%% of the bucket "
         "reads enqueued ahead of the backward of layer 1\n",
         (double)r->packed_floats * 4.0 / 1048576.0, r->buckets, r->buckets == 1 ? "" : "s",
         r->bucket_bytes >> 10, t->reads ? 100.0 * (double)t->early_reads / (double)t->reads : 0);
  printf("  per step (ms): %-8s %-8s %-10s %-8s %-6s\n", "total", "compute", "reduction", "hidden",
         "wait");
  printf("                 %-8.2f %-8.2f %-10.2f %-8.2f %-6.2f\n", 1e3 * seconds / n,
         1e3 * t->compute / n, 1e3 * t->reduce / n, 1e3 * t->hidden / n, 1e3 * t->wait / n);
  printf("    total: wall time per step\n"
         "    compute: from the step's start until the slowest replica's gradients were all read "
         "to the host (its forward and backward, and the previous step's optimizer)\n"
         "    reduction: from then to the end of the step, the reduction not hidden: the host "
         "sums left%s, the write back, the optimizer enqueue\n"
         "    hidden: host sums over the replicas%s done before the compute ended, behind the "
         "backward pass (not part of total)\n"
         "    wait: a replica idle for the slowest (mean over this process's replicas)\n",
         r->ranks > 1 ? ", the sums over the ranks (with the wait for the slowest rank)" : "",
         r->ranks > 1 ? " and starting the sums over the ranks" : "");
  printf("  %.0f images/s\n", seconds > 0 ? (double)global * (double)t->steps / seconds : 0.0);
}

clt_status clt_bench_replicas(const char *model, const clt_device_options *dev, int batch,
                              int steps, const char *balance, int bucket_kib, int distributed) {
  bench_dp b;
  memset(&b, 0, sizeof b);
  clt_status st = setup(&b, model, dev, batch, balance, bucket_kib, distributed);
  int global = b.net ? b.net->batch : 0;
  long step = 0;
  for (int i = 0; i < 3 && st == CLT_OK; i++, step++)
    st = clt_replicas_step(b.reps, (int)(step % 4) * global, global, step, 1e-4);
  if (st == CLT_OK) {
    for (int l = 0; l < b.reps->lanes; l++) clt_ctx_finish(b.reps->lane[l].ctx);
    b.reps->timing = 1;
  }
  double t0 = clt_now_seconds();
  for (int i = 0; i < steps && st == CLT_OK; i++, step++)
    st = clt_replicas_step(b.reps, (int)(step % 4) * global, global, step, 1e-4);
  for (int l = 0; st == CLT_OK && l < b.reps->lanes; l++) st = clt_ctx_finish(b.reps->lane[l].ctx);
  double seconds = clt_now_seconds() - t0;
  if (st == CLT_OK && b.reps->rank == 0) report(b.reps, global, seconds);
  teardown(&b);
  return st;
}
