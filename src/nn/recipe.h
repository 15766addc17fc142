/* The [net] section of a model file: the input shape and the default training recipe.
 *
 * Keys, ranges and defaults (docs/INTERNALS.md gives the formulas):
 *   input          HxWxC, each 1..65536, H*W*C <= 2^31-1        required
 *   batch          1 .. 1048576                                  32
 *   epochs         1 .. 100000                                   10
 *   optimizer      sgd | adam | adamw                            adam
 *   learning_rate  > 0 and <= 10                                 0.001
 *   momentum       >= 0 and < 1 (sgd)                            0
 *   nesterov       0/1/true/false/yes/no (sgd)                   0
 *   weight_decay   >= 0 and < 1                                  0.01 for adamw, else 0
 *   schedule       constant | step | cosine                      constant
 *   warmup         steps, 0 .. 1000000000                        0
 *   step_every     epochs, 1 .. 100000 (schedule = step)         required with schedule = step
 *   gamma          > 0 and <= 1 (schedule = step)                0.1
 *   beta1          >= 0 and < 1 (adam, adamw)                    0.9
 *   beta2          >= 0 and < 1 (adam, adamw)                    0.999
 *   epsilon        > 0 and < 1 (adam, adamw)                     1e-7 (Keras)
 *   seed           0 .. 4294967295                               42
 * Keys of another optimizer or schedule are accepted (so that the command line can switch
 * optimizer) but have no effect. Unknown keys are errors. */
#ifndef CLT_NN_RECIPE_H
#define CLT_NN_RECIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "cltrain/status.h"
#include "nn/ini.h"

typedef enum clt_optimizer {
  CLT_OPT_SGD = 0,
  CLT_OPT_ADAM = 1,
  CLT_OPT_ADAMW = 2,
  CLT_OPT_COUNT
} clt_optimizer;

typedef enum clt_schedule {
  CLT_SCHED_CONSTANT = 0,
  CLT_SCHED_STEP = 1,
  CLT_SCHED_COSINE = 2,
  CLT_SCHED_COUNT
} clt_schedule;

/* Horizontal flip of the [augment] section (nn/augment_section.h). */
typedef enum clt_flip { CLT_FLIP_NONE = 0, CLT_FLIP_HORIZONTAL = 1, CLT_FLIP_COUNT } clt_flip;

#define CLT_RECIPE_MAX_BATCH           (1 << 20)
#define CLT_RECIPE_MAX_EPOCHS          100000
#define CLT_RECIPE_MAX_WARMUP          1000000000
#define CLT_RECIPE_DEFAULT_ADAMW_DECAY 0.01

typedef struct clt_recipe {
  int in_h, in_w, in_c; /* one sample is [H, W, C] */
  int batch;
  int epochs;
  clt_optimizer optimizer;
  double learning_rate;
  double momentum;
  bool nesterov;
  double weight_decay;
  bool weight_decay_set; /* the file gave weight_decay (else the default above was applied) */
  clt_schedule schedule;
  int warmup;     /* steps */
  int step_every; /* epochs; 0 when not given (allowed unless schedule = step) */
  double gamma;
  double beta1, beta2, epsilon;
  uint32_t seed;
  int augment_crop;      /* [augment] crop_padding: pixels, 0 = no random crop */
  clt_flip augment_flip; /* [augment] flip */
} clt_recipe;

/* Fills every field with its default; input 0x0x0, optimizer adam (so weight_decay 0). */
void clt_recipe_defaults(clt_recipe *r);

/* Parses a [net] section strictly (every key checked, unknown keys are errors). *out is
 * written only on success. Errors: CLT_ERR_BAD_DATA with "FILE:LINE: [net] ..." */
clt_status clt_recipe_parse(const clt_ini_section *net, clt_recipe *out);

/* Parses the [net] section of a model, which must be the first section and appear once, and
 * the optional [augment] section (nn/augment_section.h). */
clt_status clt_recipe_from_ini(const clt_ini *ini, clt_recipe *out);

/* "sgd", "adam", "adamw"; "?" when out of range. */
const char *clt_optimizer_name(clt_optimizer opt);
/* Returns 0 and sets *out when name is known, else -1 (nothing recorded). */
int clt_optimizer_from_name(const char *name, clt_optimizer *out);
/* "sgd, adam, adamw", for messages. */
const char *clt_optimizer_choices(void);

/* "constant", "step", "cosine"; "?" when out of range. */
const char *clt_schedule_name(clt_schedule sched);
int clt_schedule_from_name(const char *name, clt_schedule *out);
/* "constant, step, cosine", for messages. */
const char *clt_schedule_choices(void);

#endif
