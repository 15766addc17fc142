/* How a session's run is composed from its request (train/session.h): the model's recipe with
 * the request's overrides, the run options of a fresh run or of a resumed checkpoint (with the
 * checks that a resume asks for what the checkpoint was made with), and the run's data. Used
 * by train/session.c only. */
#ifndef CLT_TRAIN_SESSION_COMPOSE_H
#define CLT_TRAIN_SESSION_COMPOSE_H

#include <stdio.h>

#include "data/csv_data.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "runtime/context.h"
#include "train/checkpoint.h"
#include "train/run_options.h"
#include "train/session.h"
#include "train/train_images.h"

/* The data of one run: all (before the validation split), train, val, test. */
typedef struct train_data {
  clt_dataset all, train, val, test;
  clt_csv_data *csv; /* CSV data: train and val stream from it; no test set */
} train_data;

/* The request's recipe settings (optimizer, learning rate, batch, seed, augmentation) over r. */
clt_status clt_session_apply_overrides(const clt_session_request *o, clt_recipe *r);

/* The run's data into d (see the comment in session_compose.c). */
clt_status clt_session_load_data(const clt_run_options *ro, const clt_model *m,
                                 const clt_device_options *dev, train_data *d,
                                 const clt_notes_sink *notes);

/* Settings for one kind of data, given with the other kind: refused, never ignored. */
clt_status clt_session_data_kind_options(const clt_session_request *o, const char *data);

/* Frees every set of d. */
void clt_session_free_data(train_data *d);

/* The run options of a fresh run, from the request. */
void clt_session_fresh_options(const clt_session_request *o, clt_run_options *ro);

/* The run options and model of a resumed run: the checkpoint's, with the overrides a resume
 * allows, and refusals for those it does not. */
clt_status clt_session_resume_setup(const clt_session_request *o, const clt_checkpoint *ck,
                                    clt_run_options *ro, clt_model **model, FILE *info);

/* The loaded data and device against the checkpoint being resumed. */
clt_status clt_session_resume_check(const clt_checkpoint *ck, const train_data *d,
                                    const clt_ctx *ctx, const char *path);

/* dst (CLT_RUN_PATH_MAX) = src, cut to fit. */
void clt_session_copy_path(char *dst, const char *src);

#endif
