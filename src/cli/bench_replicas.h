/* `cltrain bench MODEL --device A,B` (a device list or "all"; under mpirun, every rank):
 * data-parallel training steps (train/replicas.h) on synthetic data, timed, each step split
 * into compute (until the slowest replica's gradients were all read), reduction not hidden
 * (after that: the rest of the sums over the devices and the ranks, the write back), the
 * reduction hidden behind the backward pass, and wait (replicas idle while the slowest
 * finishes), and images/s. */
#ifndef CLT_CLI_BENCH_REPLICAS_H
#define CLT_CLI_BENCH_REPLICAS_H

#include "runtime/device_open.h"

/* 1 when spec names several devices (a comma list or "all"). */
int clt_bench_is_replicated(const char *spec);

/* batch > 0: the global batch instead of the model's; balance as clt_config's (NULL: auto
 * when the devices differ); bucket_kib as clt_config's (0: the default); distributed: one
 * rank of an MPI run (MPI initialised). */
clt_status clt_bench_replicas(const char *model, const clt_device_options *dev, int batch,
                              int steps, const char *balance, int bucket_kib, int distributed);

#endif
