/* The optional [augment] section of a model file: random crop with zero padding and
 * horizontal flip of the training images (train/augment.h runs them on the device, the
 * draws and the transform are in docs/INTERNALS.md "Data augmentation").
 *
 *   [augment]
 *   crop_padding = 4      pixels, 0 .. min(H, W) - 1; 0 = no crop            0
 *   flip = horizontal     horizontal | none                                  none
 *
 * It is part of the recipe (clt_recipe.augment_crop, .augment_flip), not a layer: it may stand
 * anywhere after [net], at most once, and needs image input (H > 1 and W > 1 in [net] input).
 * Unknown keys are errors. */
#ifndef CLT_NN_AUGMENT_SECTION_H
#define CLT_NN_AUGMENT_SECTION_H

#include <stddef.h>

#include "cltrain/status.h"
#include "nn/ini.h"
#include "nn/recipe.h"

#define CLT_AUGMENT_SECTION "augment"

/* Parses sec (an [augment] section) into r's augment fields, checked against r's input
 * shape (so parse [net] first). CLT_ERR_BAD_DATA "FILE:LINE: [augment] ..." on a bad value. */
clt_status clt_augment_section_parse(const clt_ini_section *sec, clt_recipe *r);

/* Finds the [augment] section of a model (none: augmentation off) and parses it; a second
 * one is an error. */
clt_status clt_augment_from_ini(const clt_ini *ini, clt_recipe *r);

/* Whether r asks for any augmentation. */
int clt_augment_active(const clt_recipe *r);

/* NULL when r's augmentation fits its input shape; else what is wrong and what to do, in buf
 * (for messages about command-line flags as well as the model file). */
const char *clt_augment_problem(const clt_recipe *r, char *buf, size_t size);

/* "none", "horizontal"; "?" when out of range. */
const char *clt_flip_name(clt_flip flip);

/* "crop 4, flip horizontal", "crop 2", "flip horizontal" or "off", into buf. */
const char *clt_augment_describe(const clt_recipe *r, char *buf, size_t size);

#endif
