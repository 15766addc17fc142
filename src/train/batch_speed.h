/* --batch auto by throughput: the images/s of a few training steps at one batch size, on
 * random data of the model's shape resident on the device (as cltrain bench times them),
 * with a network of its own that is destroyed before returning. The layers are prepared
 * again by the run's own network afterwards, so nothing of the measurement stays. */
#ifndef CLT_TRAIN_BATCH_SPEED_H
#define CLT_TRAIN_BATCH_SPEED_H

#include "nn/model.h"
#include "optim/optimizer.h"
#include "runtime/context.h"

/* Training images/s at batch: one warm-up step, then steps until at least seconds have
 * passed (and at least two steps), timed to the end of the last (clFinish). */
clt_status clt_batch_images_per_second(clt_model *model, clt_ctx *ctx, clt_optim *opt,
                                       int optimizer_blocks, int batch, double seconds,
                                       double *images_per_s);

#endif
