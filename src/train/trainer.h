/* The epoch loop: shuffled batches through forward, backward and the optimizer
 * on the compute queue; loss and accuracy read back every few steps; a
 * validation pass per epoch. Reports through callbacks (the CLI draws them). */
#ifndef CLT_TRAIN_TRAINER_H
#define CLT_TRAIN_TRAINER_H

#include <stdint.h>

#include "data/dataset.h"
#include "nn/metrics.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "train/device_data.h"

/* Where a run stands between two steps: all that a resumed run needs besides the
 * parameters, optimizer state and layer state (the shuffle order follows from the seed
 * and the epoch, the dropout stream and the schedule from the global step, Adam's t is
 * global_step + 1 at the next update). A zeroed struct is the start of a fresh run. */
typedef struct clt_train_position {
  int epoch;                        /* 0-based epoch in progress, or the next one to start */
  int step;                         /* steps of that epoch already done */
  long global_step;                 /* optimizer updates done in the whole run */
  float metrics[CLT_METRIC_FLOATS]; /* the epoch's device accumulators so far */
  double epoch_seconds;             /* time spent in the epoch so far */
  int has_best;                     /* best_val_accuracy is set */
  double best_val_accuracy;         /* best validation accuracy at an epoch end so far */
} clt_train_position;

typedef struct clt_train_config {
  clt_recipe recipe;   /* the recipe after command-line overrides (batch, epochs, lr, ...) */
  int read_every;      /* steps between metric read-backs (the only host waits) */
  int force_stream;    /* stream batches even when the data set fits on the device */
  int lower_is_better; /* the accuracy slot is an error (regression: MAE): the best epoch for
                          keep_best is the lowest */
  /* Optional (NULL): the training loads record their data wait there (train/data_wait.h;
   * the context must profile). */
  clt_data_wait *data_wait;
  /* Optional (NULL: one device, one process): data-parallel replicas whose lane 0 is net
   * (train/replicas.h). Validation then runs on rank 0 only, every rank stops together. */
  struct clt_replicas *replicas;
} clt_train_config;

typedef struct clt_progress {
  int epoch, epochs; /* 1-based epoch */
  int step, steps;   /* steps done in this epoch, of steps */
  long global_step;
  double loss, accuracy; /* running means over the epoch so far */
  double elapsed;        /* seconds in this epoch */
  double images_per_second;
  double learning_rate;
} clt_progress;

typedef struct clt_epoch_report {
  int epoch, epochs;
  long global_step;
  double loss, accuracy; /* training, over the epoch */
  int has_validation;
  double val_loss, val_accuracy;
  double learning_rate; /* of the epoch's last step */
  double seconds;
  double images_per_second;
} clt_epoch_report;

typedef struct clt_train_callbacks {
  void (*progress)(const clt_progress *p, void *user);
  void (*epoch_end)(const clt_epoch_report *r, void *user);
  void *user;
  /* Optional: when *stop is non-zero after a callback returns, the run stops there (after
   * that step, or after that epoch's end and its save) with CLT_OK. */
  const int *stop;
} clt_train_callbacks;

/* Resuming and saving (train/checkpoint.h writes and reads the files). */
typedef struct clt_train_saving {
  clt_train_position start; /* zeroed: a fresh run; else where a checkpoint left off (the
                               network must hold that checkpoint's tensors) */
  int save_every;           /* global steps between mid-epoch calls of save (0: epoch ends only) */
  /* Optional: called only at a consistent state, after the step's optimizer update and a
   * read-back that found every loss so far finite (a non-finite state is never offered):
   * every save_every global steps inside an epoch (rep NULL), and at each epoch end after
   * validation and epoch_end (rep set; pos is then the start of the next epoch; new_best
   * when this epoch's validation accuracy beat every earlier one). The network holds the
   * state of pos. A failure stops the run with that status. */
  clt_status (*save)(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                     void *user);
  void *user;
  /* Optional: where the run stood when it returned CLT_OK (the end, or where a callback
   * stopped it); a start for the next call. */
  clt_train_position *reached;
} clt_train_saving;

/* Trains net on train (validating on val when val->n > 0) up to cfg->recipe.epochs epochs
 * in all, from cfg->start. A device-side guard records the first step whose loss was NaN or
 * infinite; the next read-back stops the run with CLT_ERR_NON_FINITE naming that step.
 * Same device, options and start state: the same parameters bit for bit, whether the run
 * went straight or was resumed from a position saved on the way. */
clt_status clt_train(clt_network *net, clt_optim *opt, const clt_dataset *train,
                     const clt_dataset *val, const clt_train_config *cfg,
                     const clt_train_callbacks *cb);
/* The same from saving->start, offering saving->save the states to keep (saving may be
 * NULL: a fresh run, nothing saved). */
clt_status clt_train_resumable(clt_network *net, clt_optim *opt, const clt_dataset *train,
                               const clt_dataset *val, const clt_train_config *cfg,
                               const clt_train_callbacks *cb, const clt_train_saving *saving);

/* Inference pass over ds in file order: mean loss and accuracy. */
clt_status clt_evaluate(clt_network *net, const clt_dataset *ds, int force_stream, double *loss,
                        double *accuracy);

#endif
