/* What `cltrain train` prints before the first step: the device, the model
 * (layers, output shapes, parameters), the data and the memory plan. */
#ifndef CLT_TRAIN_SUMMARY_H
#define CLT_TRAIN_SUMMARY_H

#include <stdio.h>

#include "data/dataset.h"
#include "nn/network.h"

void clt_train_summary(FILE *out, const clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                       const clt_dataset *train, const clt_dataset *val, const clt_dataset *test);

#endif
