/* How a global batch is split over the replicas (train/replicas.h): equal shards, or shards
 * in proportion to each device's measured speed within a process (--balance auto), and the
 * split as the checkpoint records it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/clock.h"
#include "cltrain/status.h"
#include "runtime/fail.h"
#include "train/checkpoint.h"
#include "train/replicas.h"

/* share samples over count lanes in proportion to weights (NULL: equal), each >= 1. */
static void divide(int share, int count, const double *weights, int *out) {
  if (count < 1) return;
  double total = 0;
  for (int l = 0; l < count; l++) total += weights ? weights[l] : 1.0;
  int given = 0;
  for (int l = 0; l < count; l++) {
    double w = weights ? weights[l] : 1.0;
    out[l] = (int)((double)share * w / total);
    if (out[l] < 1) out[l] = 1;
    given += out[l];
  }
  /* The rest one by one from lane 0 (too many: taken back from the largest). */
  for (int l = 0; given < share; l = (l + 1) % count, given++) out[l]++;
  while (given > share) {
    int big = 0;
    for (int l = 1; l < count; l++)
      if (out[l] > out[big]) big = l;
    out[big]--;
    given--;
  }
}

clt_status clt_replicas_set_split(clt_replicas *r, const int *given, const double *speeds) {
  if (given) {
    int total = 0;
    for (int g = 0; g < r->global; g++) {
      if (given[g] < 1)
        return clt_fail(CLT_ERR_BAD_DATA, "a recorded shard of %d samples", given[g]);
      total += given[g];
    }
    if (total != r->batch)
      return clt_fail(CLT_ERR_BAD_DATA, "the recorded split sums to %d, not the batch %d", total,
                      r->batch);
    memcpy(r->split, given, (size_t)r->global * sizeof *given);
    return CLT_OK;
  }
  /* Equal samples per rank; within a rank by speed. Every rank fills its own lanes and a sum
   * over the ranks gathers the whole split everywhere. */
  double all[CLT_REPLICAS_MAX * 16];
  memset(all, 0, sizeof all);
  int share = r->batch / r->ranks + (r->rank < r->batch % r->ranks ? 1 : 0);
  int mine[CLT_REPLICAS_MAX] = {0};
  divide(share, r->lanes, speeds, mine);
  for (int l = 0; l < r->lanes; l++) all[r->rank * r->lanes + l] = mine[l];
  CLT_TRY(clt_peers_sum_doubles(r->peers, all, r->global));
  for (int g = 0; g < r->global; g++) r->split[g] = (int)all[g];
  return CLT_OK;
}

static clt_status time_lane(clt_network *net, const clt_dataset *train, int n, size_t sample,
                            double *speed);

clt_status clt_replicas_measure(clt_replicas *r, const clt_dataset *train, double *speeds) {
  int n = r->batch / r->global;
  if (n < 1) n = 1;
  if (n > train->n) n = train->n;
  size_t sample = (size_t)train->h * (size_t)train->w * (size_t)train->c;
  /* Training passes move batch-norm statistics: lane 0 is put back as it was after. */
  clt_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  CLT_TRY(clt_checkpoint_capture(r->lane[0].net, &ck));
  clt_status st = CLT_OK;
  for (int l = 0; l < r->lanes && st == CLT_OK; l++)
    st = time_lane(r->lane[l].net, train, n, sample, &speeds[l]);
  if (st == CLT_OK) st = clt_checkpoint_restore(r->lane[0].net, &ck, 1);
  clt_checkpoint_free(&ck);
  if (st == CLT_OK) st = clt_replicas_sync(r);
  return st;
}

static clt_status time_lane(clt_network *net, const clt_dataset *train, int n, size_t sample,
                            double *speed) {
  {
    if (n > net->batch) n = net->batch;
    /* The first samples, as they are; one pass to warm up, then two timed. */
    if (!train->source)
      CLT_TRY(clt_buffer_write(net->ctx, net->input, 0, (size_t)n * sample * sizeof(float),
                               train->images));
    double t = 0;
    for (int i = 0; i < 3; i++) {
      double t0 = clt_now_seconds();
      CLT_TRY(clt_network_forward(net, n, 1, 0));
      CLT_TRY(clt_network_backward(net, n, 0));
      CLT_TRY(clt_ctx_finish(net->ctx));
      if (i > 0) t += clt_now_seconds() - t0;
    }
    CLT_TRY(clt_network_zero_grads(net));
    CLT_TRY(clt_network_zero_metrics(net));
    CLT_TRY(clt_ctx_finish(net->ctx));
    *speed = t > 0 ? 2.0 * n / t : 1.0;
  }
  return CLT_OK;
}

char *clt_replicas_layout_text(const clt_replicas *r) {
  char *t = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&t, &len);
  if (!f) return NULL;
  fprintf(f, "replicas = %d\nranks = %d\nbatch = %d\nsplit = ", r->global, r->ranks, r->batch);
  for (int g = 0; g < r->global; g++) fprintf(f, "%s%d", g ? "," : "", r->split[g]);
  fprintf(f, "\n");
  if (fclose(f) != 0) {
    free(t);
    return NULL;
  }
  return t;
}

int clt_replicas_layout_parse(const char *text, int *replicas, int *batch, int *split, int max) {
  char buf[4096];
  *replicas = 1;
  *batch = 0;
  if (!text) return 0;
  if (!clt_checkpoint_value(text, "replicas", buf, sizeof buf)) return -1;
  *replicas = atoi(buf);
  if (!clt_checkpoint_value(text, "batch", buf, sizeof buf)) return -1;
  *batch = atoi(buf);
  if (!split) return 0;
  if (!clt_checkpoint_value(text, "split", buf, sizeof buf) || *replicas > max) return -1;
  char *p = buf;
  for (int g = 0; g < *replicas; g++) {
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1) return -1;
    split[g] = (int)v;
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}
