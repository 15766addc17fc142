/* Data-parallel training (docs/SCALING.md): every replica holds the whole model (its own
 * context, network, optimizer and copy of the training data) and trains on a contiguous
 * shard of each global batch. Replicas are the devices of this process ("lanes") times the
 * run's processes (dist/peers.h); global replica g = rank * lanes + lane.
 *
 * A step: each lane loads its shard, runs forward and backward with the loss divided by the
 * global batch and random streams keyed by the global sample index (nn/network.h), so the
 * shards' gradients sum to the one-device gradient up to rounding. The gradients are read to
 * host memory tensor by tensor (the model's packed layout: devices may align their arenas
 * differently), in buckets in the order backward produces them (last layer first). Each
 * bucket's read is enqueued on a lane's queue right after the backward of the layer that
 * completes it (the network's after_backward hook), so the host sums the first buckets over
 * the lanes in lane order and starts their sums over the ranks (clt_peers_sum_start) while
 * the devices still compute the first layers' backward. The sums are written back to every
 * lane and every lane applies the same optimizer step. The order of every sum is fixed
 * element by element (lanes in order, then the ranks' binomial tree) and does not depend on
 * where the bucket boundaries fall: a rerun gives the same bits, whatever the bucket size.
 *
 * Lane 0 is the session's own network: it validates, evaluates, predicts and is saved.
 * Lanes on devices of different vendors may round the optimizer differently; clt_replicas_sync
 * copies lane 0's parameters, optimizer state and layer state to the others at every epoch
 * end and before every save, so they cannot drift apart for long and a resumed run starts as
 * the straight one went on. */
#ifndef CLT_TRAIN_REPLICAS_H
#define CLT_TRAIN_REPLICAS_H

#include <CL/cl.h>

#include "data/dataset.h"
#include "dist/peers.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "runtime/device_open.h"
#include "train/augment.h"
#include "train/device_data.h"

#define CLT_REPLICAS_MAX 64
/* The default gradient bucket (clt_config.bucket_kib; docs/SCALING.md: the measurements). */
#define CLT_BUCKET_KIB_DEFAULT 64
#define CLT_BUCKET_KIB_MAX     (1 << 20)

struct clt_replicas;

typedef struct clt_lane {
  clt_model *model; /* lanes >= 1 own theirs (layers hold per-context kernels) */
  clt_ctx *ctx;
  clt_optim *opt;
  clt_network *net;
  int owned; /* 0 for lane 0: the session's */
  /* Training resources (clt_replicas_train_begin); lane 0's are the trainer's. */
  clt_device_data *data;
  clt_augmenter augment, *aug;
  cl_mem guard;
  clt_kernel guard_kernel, *guard_k;
  cl_mem pinned;   /* [grads arena] host-visible staging (CL_MEM_ALLOC_HOST_PTR) */
  float *host;     /* its mapping */
  cl_event *reads; /* [buckets] */
  /* This step: buckets whose read is enqueued (the after_backward hook moves it on). */
  int next_read;
  struct clt_replicas *owner; /* for the hook */
  int index;
  /* Timing: when the lane's last gradient read completed (an event callback). */
  cl_event done_marker;
  double done_at;
  _Atomic int done;
} clt_lane;

typedef struct clt_replica_tensor {
  int lane_layer, param;
  size_t floats, packed; /* packed: offset in floats into the packed gradient */
} clt_replica_tensor;

/* Time of the steps so far, for cltrain bench (seconds, summed over steps; timing only),
 * and how the reads were placed (always). */
typedef struct clt_replica_times {
  double compute; /* step start to the last lane's last gradient read completed: forward and
                     backward of the slowest lane (with the previous step's optimizer) */
  double reduce;  /* from then to the end of the step: the reduction that was not hidden
                     (the rest of the host sums, the ranks' sums, the write back, the
                     optimizer enqueue) */
  double hidden;  /* host reduction work (lane sums, starting the ranks' sums) done before
                     the compute ended: hidden behind the backward pass */
  double wait;    /* mean over lanes of (slowest lane's finish - this lane's finish) */
  long steps;
  long reads;       /* bucket reads enqueued, over lanes and steps */
  long early_reads; /* of which enqueued ahead of the backward of layer 0 */
} clt_replica_times;

typedef struct clt_replicas {
  int lanes, rank, ranks, global;
  clt_peers *peers; /* borrowed; NULL: one process */
  clt_lane lane[CLT_REPLICAS_MAX];
  int split[CLT_REPLICAS_MAX * 16]; /* samples of a full global batch per global replica */
  int batch;                        /* the global batch */
  int tensor_count;
  clt_replica_tensor *tensors; /* in backward order: last layer first */
  size_t packed_floats;
  float *sum;      /* [packed_floats] the summed gradient */
  int *bucket_end; /* [buckets] tensor index after each bucket's last */
  int *requests;   /* [buckets] the peers' sums under way */
  double *work;    /* [2 * buckets] timing: each bucket's host sum, start and end */
  int buckets;
  size_t bucket_bytes; /* a bucket closes after the tensor that brings it to this size */
  int planned;         /* the tensors and buckets are laid out (the first step) */
  clt_replica_times times;
  int timing;                     /* 1: record times (cltrain bench) */
  double step_start, compute_end; /* timing: this step's */
} clt_replicas;

/* The set for lane 0 = (model0, ctx0, opt0, net0) and one more lane per spec in extra (each
 * opened with dev's other settings), with global batch batch over ranks peers. Lanes get
 * their own model parsed from model0's text, and start as copies of lane 0. */
clt_status clt_replicas_create(clt_model *model0, clt_ctx *ctx0, clt_optim *opt0, clt_network *net0,
                               const clt_device_options *dev, const char *const *extra,
                               int extra_count, clt_peers *peers, int profiling,
                               clt_replicas **out);
void clt_replicas_destroy(clt_replicas *r);

/* Sets the split of a full global batch: given (global ints, summing to batch, each >= 1),
 * or NULL for equal shards (equal per rank; within a rank by speeds, NULL: equal). */
clt_status clt_replicas_set_split(clt_replicas *r, const int *given, const double *speeds);
/* Lane l's measured speed (samples per second of forward + backward on its share). */
clt_status clt_replicas_measure(clt_replicas *r, const clt_dataset *train, double *speeds);
/* "16,16" style text of the split; "replicas = 2\nranks = 1\nbatch = 32\nsplit = 16,16\n". */
char *clt_replicas_layout_text(const clt_replicas *r);
/* Reads a checkpoint's layout text: replicas, batch and the split (split may be NULL). 0 ok. */
int clt_replicas_layout_parse(const char *text, int *replicas, int *batch, int *split, int max);

/* Samples of a step of n samples (the last batch may be short) for global replica g, and
 * where its shard starts in the step's batch. */
void clt_replicas_shard(const clt_replicas *r, int n, int g, int *first, int *count);

/* Training resources for lanes >= 1 (lane 0's are given). */
clt_status clt_replicas_train_begin(clt_replicas *r, const clt_dataset *train, int force_stream,
                                    const clt_recipe *recipe, clt_device_data *data0,
                                    clt_augmenter *aug0, cl_mem guard0, clt_kernel *guard_k0);
void clt_replicas_train_end(clt_replicas *r);

/* One data-parallel step on samples [start, start + n) of the epoch's order. */
clt_status clt_replicas_step(clt_replicas *r, int start, int n, long step, double lr);

/* The gradient reduction (replica_reduce.c). clt_replicas_plan lays out the tensors and the
 * buckets of r->bucket_bytes (once, before the first step). clt_replicas_read_through
 * enqueues on lane l's queue the reads of the buckets whose tensors all belong to layers >=
 * layer (all that are left for layer -1) and flushes; clt_replicas_reduce waits for the
 * reads bucket by bucket, sums and writes the sums back to every lane. */
clt_status clt_replicas_plan(clt_replicas *r);
clt_status clt_replicas_read_through(clt_replicas *r, int l, int layer);
clt_status clt_replicas_reduce(clt_replicas *r);

/* Lane 0's parameters, optimizer state and layer state to every other lane. */
clt_status clt_replicas_sync(clt_replicas *r);

#endif
