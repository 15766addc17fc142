/* The OPTS section of a checkpoint: the run's recipe (after command-line overrides) and
 * the command-line options a resumed run takes over, as text:
 *
 *   [net]                   the recipe, in model-file syntax (nn/recipe.h), every key given
 *   input = 28x28x1
 *   learning_rate = 0.001   (doubles with 17 significant digits: exact)
 *   ...
 *   [augment]               only when the run augments: crop_padding, flip
 *   crop_padding = 4        (nn/augment_section.h)
 *   flip = horizontal
 *   [run]                   the options (values are the rest of the line, unparsed)
 *   model = models/fashion_cnn.cfg
 *   data = /usr/share/datasets/fashion-mnist
 *   ...
 */
#ifndef CLT_TRAIN_RUN_OPTIONS_H
#define CLT_TRAIN_RUN_OPTIONS_H

#include "cltrain/status.h"
#include "nn/recipe.h"

#define CLT_RUN_PATH_MAX 4096

typedef struct clt_run_options {
  char model[CLT_RUN_PATH_MAX]; /* the model file's path when training began (for messages) */
  char data[CLT_RUN_PATH_MAX];  /* the data folder */
  int subset;                   /* 0: all */
  double val_split;
  int read_every, stream;
  char save[CLT_RUN_PATH_MAX]; /* "" when not saving */
  int save_every, keep_best;
  char log[CLT_RUN_PATH_MAX]; /* "" when not logging */
  char version[64];           /* cltrain version that wrote it */
  char label[256];            /* CSV data: --label ("" : the last column) */
  int regression;             /* CSV data: --task regression */
  int skip_bad_rows;          /* CSV data: --skip-bad-rows */
  int skip_bad_images;        /* image folders: --skip-bad-images */
} clt_run_options;

/* The OPTS text for o and r. Caller frees; NULL when out of memory. */
char *clt_run_options_text(const clt_run_options *o, const clt_recipe *r);

/* Reads OPTS text (name for messages): the options into o, the recipe into r (every field;
 * the [net] section is checked as strictly as a model file's). CLT_ERR_BAD_DATA when
 * malformed. */
clt_status clt_run_options_parse(const char *text, const char *name, clt_run_options *o,
                                 clt_recipe *r);

#endif
