/* The synthetic data of `cltrain bench`: random images in [0, 1) and labels of the model's
 * shape, the same on every run (a fixed LCG), with the identity sample order. */
#ifndef CLT_CLI_BENCH_DATA_H
#define CLT_CLI_BENCH_DATA_H

#include <stdint.h>

#include "data/dataset.h"
#include "nn/model.h"

/* n samples into *data (images and labels malloc()ed: the caller frees them) and *order. */
clt_status clt_bench_synthetic_data(const clt_model *m, int n, clt_dataset *data, int32_t **order);

#endif
