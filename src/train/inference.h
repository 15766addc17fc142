/* What `cltrain eval` and `cltrain predict` share: a checkpoint opened for inference (its
 * model on a device, its parameters and layer state restored) and the class names. */
#ifndef CLT_TRAIN_INFERENCE_H
#define CLT_TRAIN_INFERENCE_H

#include "runtime/device_open.h"
#include "nn/network.h"
#include "train/checkpoint.h"
#include "train/run_options.h"

typedef struct clt_inference {
  const char *path; /* the checkpoint file (borrowed from clt_inference_open's caller) */
  clt_checkpoint ck;
  clt_run_options run; /* the options the checkpoint was trained with */
  clt_model *model;
  clt_ctx *ctx;
  clt_network *net;
  char **class_names; /* [model->classes]: from the checkpoint, else "0", "1", ... */
} clt_inference;

/* Reads path, builds its model on the device of dev with batch (0: the recipe's). */
clt_status clt_inference_open(const char *path, const clt_device_options *dev, int batch,
                              clt_inference *out);
void clt_inference_close(clt_inference *inf);

#endif
