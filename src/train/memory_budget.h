/* The device memory of a whole training run, planned before anything is allocated: the
 * network's arenas (nn/network.h) plus the data sets as clt_device_data holds them (the
 * training and validation sets during training, the test set after) and the trainer's own
 * small buffers. Checks a batch against the device and picks one for --batch auto. */
#ifndef CLT_TRAIN_MEMORY_BUDGET_H
#define CLT_TRAIN_MEMORY_BUDGET_H

#include <stddef.h>

#include "data/dataset.h"
#include "nn/network.h"

/* The share of global memory --batch auto plans for: the rest is headroom for what the
 * plan cannot see (CLBlast's GEMM scratch, the driver's own buffers, other programs). */
#define CLT_AUTO_BATCH_FRACTION 0.8
/* --batch auto tries the powers of two from CLT_AUTO_BATCH_MIN to CLT_AUTO_BATCH_MAX. */
#define CLT_AUTO_BATCH_MIN 16
#define CLT_AUTO_BATCH_MAX 4096

typedef struct clt_memory_budget {
  const clt_model *model;
  const clt_ctx *ctx;
  int optimizer_blocks;                  /* clt_optim_state_per_param */
  const clt_dataset *train, *val, *test; /* NULL or empty: none */
  int force_stream;                      /* --stream */
  int requested_batch; /* for messages: the batch asked for when it was cut to the training
                          set's size; 0 otherwise */
} clt_memory_budget;

/* Device bytes besides the network at batch: the larger of (training + validation set) and
 * the test set, plus the trainer's buffers. */
size_t clt_budget_data_bytes(const clt_memory_budget *b, int batch);

/* CLT_OK when batch fits the device (network plus data within global memory, every buffer
 * within the largest single allocation); otherwise CLT_ERR_OUT_OF_MEMORY with one line
 * saying what the run needs, what the device has and the largest batch that fits.
 * Touches no device memory. */
clt_status clt_budget_check(const clt_memory_budget *b, int batch);

/* The largest power of two from CLT_AUTO_BATCH_MIN to CLT_AUTO_BATCH_MAX, at most the
 * training set's size (or that size itself when it is smaller than CLT_AUTO_BATCH_MIN),
 * whose run fits within CLT_AUTO_BATCH_FRACTION of global memory: into *batch, with
 * "batch auto: 1024 (plan 412.0 MiB of 4.0 GiB)" into line. CLT_ERR_OUT_OF_MEMORY (the
 * clt_budget_check message for the smallest candidate) when none fits. */
clt_status clt_budget_auto_batch(const clt_memory_budget *b, int *batch, char *line, size_t size);
/* The same with the candidates capped at cap (at least CLT_AUTO_BATCH_MIN). */
clt_status clt_budget_auto_batch_capped(const clt_memory_budget *b, int cap, int *batch, char *line,
                                        size_t size);

#endif
