/* Checkpoints of a training session (train/session.c): the fixed sections prepared once,
 * the tensors and position captured at each save (lane 0 of rank 0 with replicas). */
#ifndef CLT_TRAIN_SESSION_SAVER_H
#define CLT_TRAIN_SESSION_SAVER_H

#include "train/checkpoint.h"
#include "train/session_compose.h"

typedef struct saver {
  clt_network *net;
  clt_checkpoint ck; /* the fixed sections; tensors and position filled per save */
  const char *path;
  char best[CLT_RUN_PATH_MAX + 8];
  int keep_best;
  const clt_status *log_status; /* the run's log: a failed write stops saving */
} saver;

/* Prepares s to save net's run to ro->save (layout: the RPLC text, or NULL). */
clt_status clt_saver_init(saver *s, clt_network *net, const clt_model *model,
                          const clt_run_options *ro, const train_data *d,
                          const clt_status *log_status, const char *layout);
/* A clt_train_saving save: writes the checkpoint (and the -best copy on new_best). */
clt_status clt_saver_save(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                          void *user);

#endif
