#include "train/memory_budget.h"

#include <CL/cl.h>
#include <stdint.h>
#include <stdio.h>

#include "train/device_data.h"

static double mib(double bytes) {
  return bytes / 1048576.0;
}

static size_t data_bytes(const clt_memory_budget *b, const clt_dataset *ds, int batch) {
  return ds && ds->n > 0 ? clt_device_data_bytes(b->ctx, ds, batch, b->force_stream) : 0;
}

size_t clt_budget_data_bytes(const clt_memory_budget *b, int batch) {
  size_t training = data_bytes(b, b->train, batch) + data_bytes(b, b->val, batch);
  size_t testing = data_bytes(b, b->test, batch); /* after training, with the network */
  size_t trainer = sizeof(cl_uint);               /* the non-finite guard */
  return (training > testing ? training : testing) + trainer;
}

/* Network plus data within fraction of global memory, every buffer within the largest. */
static int fits(const clt_memory_budget *b, int batch, double fraction, clt_memory_plan *plan,
                size_t *data) {
  clt_network_plan(b->model, b->ctx, batch, b->optimizer_blocks, plan);
  *data = clt_budget_data_bytes(b, batch);
  return clt_memory_plan_fits(plan, b->ctx, *data, fraction);
}

/* The largest power of two below `below` (at most 2^20) whose run fits; 0 if none. */
static int largest_fit(const clt_memory_budget *b, int below) {
  int best = 0;
  for (int batch = 1; batch < below && batch <= (1 << 20); batch *= 2) {
    clt_memory_plan plan;
    size_t data;
    if (fits(b, batch, 1.0, &plan, &data)) best = batch;
  }
  return best;
}

/* suggest_auto: name --batch auto as a way out (not when it is what failed). */
static clt_status check(const clt_memory_budget *b, int batch, int suggest_auto) {
  clt_memory_plan plan;
  size_t data;
  if (fits(b, batch, 1.0, &plan, &data)) return CLT_OK;
  const clt_device_info *d = &b->ctx->dev;
  if (plan.largest_flat > d->max_alloc)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "the parameters need %.1f MiB in one buffer (parameters, gradients and "
                    "optimizer state are each one buffer) but %s allows at most %.1f MiB per "
                    "buffer: use a smaller model, or sgd (less optimizer state)",
                    mib((double)plan.largest_flat), d->name, mib((double)d->max_alloc));
  char asked[64] = "";
  if (b->requested_batch > batch)
    snprintf(asked, sizeof asked, " (a batch of %d cut to the training set's size)",
             b->requested_batch);
  int best = largest_fit(b, batch);
  /* Streaming keeps only two batches of the data on the device. */
  clt_memory_budget streamed = *b;
  streamed.force_stream = 1;
  clt_memory_plan p2;
  size_t d2;
  int stream_fits = !b->force_stream && fits(&streamed, batch, 1.0, &p2, &d2);
  char hint[128];
  if (stream_fits && best)
    snprintf(hint, sizeof hint,
             "use streaming (the data then stay on the host), or a batch of %d or smaller", best);
  else if (stream_fits)
    snprintf(hint, sizeof hint, "use streaming (the data then stay on the host)");
  else if (best)
    snprintf(hint, sizeof hint, "use a batch of %d or smaller%s", best,
             suggest_auto ? ", or an automatic batch" : "");
  else
    snprintf(hint, sizeof hint, "the model does not fit even at batch 1");
  if ((double)plan.total + (double)data <= (double)d->global_mem)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "batch %d%s needs one tensor of %.1f MiB but %s allows at most %.1f MiB per "
                    "buffer (of %.1f MiB in all): %s",
                    batch, asked, mib((double)plan.largest), d->name, mib((double)d->max_alloc),
                    mib((double)d->global_mem), hint);
  return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                  "batch %d%s needs %.1f MiB of device memory (network %.1f MiB, data %.1f MiB; "
                  "largest buffer %.1f MiB) but %s has %.1f MiB (at most %.1f MiB per buffer): %s",
                  batch, asked, mib((double)plan.total + (double)data), mib((double)plan.total),
                  mib((double)data), mib((double)plan.largest), d->name, mib((double)d->global_mem),
                  mib((double)d->max_alloc), hint);
}

clt_status clt_budget_check(const clt_memory_budget *b, int batch) {
  return check(b, batch, 1);
}

clt_status clt_budget_auto_batch(const clt_memory_budget *b, int *batch, char *line, size_t size) {
  return clt_budget_auto_batch_capped(b, CLT_AUTO_BATCH_MAX, batch, line, size);
}

clt_status clt_budget_auto_batch_capped(const clt_memory_budget *b, int cap, int *batch, char *line,
                                        size_t size) {
  int n = b->train ? b->train->n : 0;
  int first = n > 0 && n < CLT_AUTO_BATCH_MIN ? n : CLT_AUTO_BATCH_MIN;
  int chosen = 0;
  size_t chosen_bytes = 0;
  for (int c = first; c <= cap && (n <= 0 || c <= n); c *= 2) {
    clt_memory_plan plan;
    size_t data;
    if (!fits(b, c, CLT_AUTO_BATCH_FRACTION, &plan, &data)) break;
    chosen = c;
    chosen_bytes = plan.total + data;
  }
  if (!chosen) {
    clt_status st = check(b, first, 0);
    if (st != CLT_OK) return st;
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "automatic batch: even batch %d needs more than %.0f%% of the %.1f MiB of %s; "
                    "give a smaller batch",
                    first, 100 * CLT_AUTO_BATCH_FRACTION, mib((double)b->ctx->dev.global_mem),
                    b->ctx->dev.name);
  }
  *batch = chosen;
  double global = (double)b->ctx->dev.global_mem;
  if (global >= 1073741824.0)
    snprintf(line, size, "batch auto: %d (plan %.1f MiB of %.1f GiB)", chosen,
             mib((double)chosen_bytes), global / 1073741824.0);
  else
    snprintf(line, size, "batch auto: %d (plan %.1f MiB of %.1f MiB)", chosen,
             mib((double)chosen_bytes), mib(global));
  return CLT_OK;
}
