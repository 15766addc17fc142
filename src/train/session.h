/* The session behind the public API (include/cltrain/cltrain.h): a run composed from its
 * request (a model and run settings, or a checkpoint to resume), on one device, with its data,
 * optimizer and network; training, evaluation, prediction and saving on it. */
#ifndef CLT_TRAIN_SESSION_H
#define CLT_TRAIN_SESSION_H

#include "runtime/device_open.h"

/* What a run asks for, as given: a field left at its "not given" value takes the model's
 * recipe or the checkpoint's run. */
typedef struct clt_session_request {
  clt_device_options dev;
  const char *model; /* model file (a fresh run; with resume: checked against the checkpoint) */
  const char *data;  /* NULL: CLT_DEFAULT_DATA_DIR */
  int epochs, batch, subset, read_every, stream, profile; /* 0: not given */
  int batch_auto;
  double lr, val_split; /* lr 0: not given */
  int val_split_given;
  const char *optimizer;
  long long seed; /* -1: not given */
  const char *save, *resume, *log;
  int save_every, keep_best;
  const char *label, *task; /* CSV data */
  int skip_bad_rows;
  int skip_bad_images;                        /* image folders: skip and count undecodable images */
  int augment_crop, augment_flip, no_augment; /* augment_crop -1: not given */
  int overwrite; /* save and log may replace an existing file of another kind */
} clt_session_request;

#endif
