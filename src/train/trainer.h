/* The epoch loop: shuffled batches through forward, backward and the optimizer
 * on the compute queue; loss and accuracy read back every few steps; a
 * validation pass per epoch. Reports through callbacks (the CLI draws them). */
#ifndef CLT_TRAIN_TRAINER_H
#define CLT_TRAIN_TRAINER_H

#include <stdint.h>

#include "data/dataset.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "train/device_data.h"

typedef struct clt_train_config {
  clt_recipe recipe; /* the recipe after command-line overrides (batch, epochs, lr, ...) */
  int read_every;    /* steps between metric read-backs (the only host waits) */
  int force_stream;  /* stream batches even when the data set fits on the device */
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
} clt_train_callbacks;

/* Trains net on train (validating on val when val->n > 0) for cfg->recipe.epochs epochs.
 * A non-finite loss stops the run with CLT_ERR_NON_FINITE naming the step. */
clt_status clt_train(clt_network *net, clt_optim *opt, const clt_dataset *train,
                     const clt_dataset *val, const clt_train_config *cfg,
                     const clt_train_callbacks *cb);

/* Inference pass over ds in file order: mean loss and accuracy. */
clt_status clt_evaluate(clt_network *net, const clt_dataset *ds, int force_stream, double *loss,
                        double *accuracy);

#endif
