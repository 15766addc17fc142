/* Training-data augmentation on the device (cl/augment.cl): the trainer gathers each
 * training batch into the augmenter's scratch buffer and the kernel writes the augmented
 * batch into the network's input. Validation, test, eval and predict never pass through it.
 * The draws follow from (seed, global step, position in the batch) alone (ref/ref_augment.h),
 * so the same seed gives the same batches and a resumed run goes on as the straight one. */
#ifndef CLT_TRAIN_AUGMENT_H
#define CLT_TRAIN_AUGMENT_H

#include <CL/cl.h>
#include <stdint.h>

#include "nn/network.h"
#include "nn/recipe.h"
#include "runtime/context.h"
#include "runtime/program.h"

typedef struct clt_augmenter {
  int active; /* 0: the recipe asks for no augmentation; nothing allocated */
  int h, w, c, pad, flip;
  int batch; /* most samples per call */
  uint32_t seed;
  cl_mem scratch; /* [batch, h, w, c]: the gathered batch before augmentation */
  clt_kernel kernel;
} clt_augmenter;

/* Sets up *out for r's augmentation of batches of at most batch samples of r's input shape
 * (inactive when r asks for none). CLT_ERR_USAGE when the augmentation does not fit the input
 * (nn/augment_section.h). Release with clt_augmenter_release() whatever it returns. */
clt_status clt_augmenter_create(clt_ctx *ctx, const clt_recipe *r, int batch, clt_augmenter *out);
/* The same for net's input shape and planned batch, with r's augmentation and seed. */
clt_status clt_augmenter_for_network(const clt_network *net, const clt_recipe *r,
                                     clt_augmenter *out);
void clt_augmenter_release(clt_augmenter *a);

/* Where a training batch is to be gathered: the scratch buffer when active, else x. */
cl_mem clt_augmenter_target(const clt_augmenter *a, cl_mem x);

/* Active: x [n, h, w, c] = the augmentation of the scratch buffer's first n samples for global
 * step `step`, enqueued on the compute queue (no host wait); the samples are drawn as samples
 * first .. first + n - 1 of the step's batch (a data-parallel shard; 0 otherwise). Inactive:
 * nothing. */
clt_status clt_augmenter_apply(clt_augmenter *a, clt_ctx *ctx, cl_mem x, int n, uint32_t step,
                               uint32_t first);

#endif
