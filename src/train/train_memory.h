/* cltrain train's memory step, before the network is created: --batch auto, then the whole
 * run's device memory (train/memory_budget.h) checked against the device. */
#ifndef CLT_TRAIN_TRAIN_MEMORY_H
#define CLT_TRAIN_TRAIN_MEMORY_H

#include <stdio.h>

#include "train/memory_budget.h"

/* With batch_auto (and not resumed): picks the batch into model->recipe.batch (so that
 * checkpoints store it) and prints the choice on info. Then checks the batch the run will
 * use, min(recipe batch, training set size); fails with CLT_ERR_OUT_OF_MEMORY before any
 * allocation when it cannot fit. */
clt_status clt_train_memory_plan(clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                                 const clt_dataset *train, const clt_dataset *val,
                                 const clt_dataset *test, int force_stream, int batch_auto,
                                 int resumed, FILE *info);

/* The same check before the data are loaded, on the sizes in the IDX headers of data_dir
 * (after subset and val_split): a batch that cannot fit fails at once, not after seconds
 * of decompressing images. CLT_OK when the headers cannot be read (the load reports it). */
clt_status clt_train_memory_precheck(const clt_model *model, const clt_ctx *ctx,
                                     int optimizer_blocks, const char *data_dir, int subset,
                                     double val_split, int force_stream);

#endif
