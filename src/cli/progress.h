/* The Keras-style progress display of `cltrain train`: redrawn in place on a
 * terminal, one line per epoch otherwise, or one JSON object per epoch. */
#ifndef CLT_CLI_PROGRESS_H
#define CLT_CLI_PROGRESS_H

#include <stdio.h>

#include "cltrain/cltrain.h"

typedef struct clt_progress_display {
  FILE *out;
  int json;
  int terminal; /* redraw in place */
  int color;
  int last_epoch_shown;
  int regression; /* the [mse] head: the accuracy slot holds the mean absolute error ("mae") */
} clt_progress_display;

void clt_progress_init(clt_progress_display *d, FILE *out, int json);
void clt_progress_update(const clt_progress_info *p, void *display);
void clt_progress_epoch_end(const clt_epoch_info *r, void *display);

#endif
