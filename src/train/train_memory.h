/* cltrain train's memory step, before the network is created: --batch auto, then the whole
 * run's device memory (train/memory_budget.h) checked against the device. */
#ifndef CLT_TRAIN_TRAIN_MEMORY_H
#define CLT_TRAIN_TRAIN_MEMORY_H

#include <stdio.h>

#include "optim/optimizer.h"
#include "train/memory_budget.h"

/* --batch auto never goes above this batch: larger batches train to a worse model at the
 * recipes' learning rates (they are not scaled with the batch). */
#define CLT_AUTO_BATCH_CAP 256

/* With batch_auto (and not resumed): picks the batch into model->recipe.batch (so that
 * checkpoints store it) and prints the choice and why on info: the largest power of two
 * that fits (memory_budget.h), at most CLT_AUTO_BATCH_CAP; on CPU devices, where the
 * largest is not the fastest, the fastest of the powers of two up to that one, by images/s
 * of a few training steps each with opt (train/batch_speed.h; opt NULL: not measured).
 * Then checks the batch the run will use, min(recipe batch, training set size); fails with
 * CLT_ERR_OUT_OF_MEMORY before any allocation when it cannot fit. */
clt_status clt_train_memory_plan(clt_model *model, clt_ctx *ctx, clt_optim *opt,
                                 int optimizer_blocks, const clt_dataset *train,
                                 const clt_dataset *val, const clt_dataset *test, int force_stream,
                                 int batch_auto, int resumed, FILE *info);

/* The same check before the data are loaded, on the sizes in the IDX headers of data_dir
 * (after subset and val_split): a batch that cannot fit fails at once, not after seconds
 * of decompressing images. CLT_OK when the headers cannot be read (the load reports it). */
clt_status clt_train_memory_precheck(const clt_model *model, const clt_ctx *ctx,
                                     int optimizer_blocks, const char *data_dir, int subset,
                                     double val_split, int force_stream);

#endif
