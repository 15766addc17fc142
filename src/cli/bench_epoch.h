/* `cltrain bench --data DIR`: whole training epochs over a real data set, timed, with the
 * time the compute queue waited for its data (train/data_wait.h) per epoch. */
#ifndef CLT_CLI_BENCH_EPOCH_H
#define CLT_CLI_BENCH_EPOCH_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/dataset.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "train/trainer.h"

typedef struct clt_bench_epoch {
  int epoch;         /* 1-based */
  int images, steps; /* samples and steps of the epoch */
  double seconds;    /* wall time from the first load to the end of the last step */
  double images_per_s;
  double wait_ms;     /* compute queue idle for data, summed over the epoch's loads */
  double max_wait_ms; /* the longest single wait */
  long waited_loads;  /* loads that waited (over 0.01 ms) */
  double busy_ms;     /* device time of the loads (gather or staging copy) plus waits */
} clt_bench_epoch;

/* Trains net on ds for epochs epochs with the trainer (clt_train: shuffled batches, metrics
 * read every 20 steps; no validation) under recipe (batch: net's), resident or streamed as
 * clt_train decides (force_stream), with the data wait of its loads (train/data_wait.h);
 * one result per epoch into out[epochs]. net->ctx must profile. */
clt_status clt_bench_epochs_run(clt_network *net, clt_optim *opt, const clt_dataset *ds,
                                const clt_recipe *recipe, int epochs, int force_stream,
                                clt_bench_epoch *out);

/* The data wait of the timed steps (w; resident or streamed data) and, with data set, of
 * each of the n_epochs epochs: one line each on stdout. */
void clt_bench_print_data_wait(const clt_data_wait *w, int resident, const char *data,
                               const clt_bench_epoch *epochs, int n_epochs);

/* The same as members of root: data_mode, data_wait_ms_per_step, data_wait_max_ms,
 * data_load_device_ms_per_step and, with data, "data" and "epochs" (one object each). */
void clt_bench_data_wait_json(cJSON *root, const clt_data_wait *w, int resident, const char *data,
                              const clt_bench_epoch *epochs, int n_epochs);

#endif
