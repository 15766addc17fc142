/* The conv layer's algorithm per device, driver and shape (key algorithm = auto): the
 * decisions the layer measured at its first use, stored in the cache folder as
 * conv-choice-KEY.txt (KEY over the device name, driver and platform versions, the conv
 * kernel sources and the implicit kernels' host-side tiling revision). The file repeats its key on
 * its first line, is written to a temporary file and renamed; a foreign, stale or unreadable file
 * is ignored (decided again and rewritten), as the GEMM choices are (runtime/gemm_choose.h). */
#ifndef CLT_NN_LAYERS_CONV_CHOOSE_H
#define CLT_NN_LAYERS_CONV_CHOOSE_H

#include <stddef.h>

#include "runtime/context.h"

/* One layer shape and batch: input h, w, c; filters; window; stride; pads (top, bottom,
 * left, right); batch n. */
typedef struct clt_conv_shape {
  int h, w, c, f, k, s, pt, pb, pl, pr, n;
} clt_conv_shape;

typedef struct clt_conv_choice {
  clt_conv_shape shape;
  char forward[16];  /* "im2col", "direct" or "implicit" */
  char backward[16]; /* also "implicit-dw" (implicit weight gradient, im2col input gradient) */
  double seconds_forward, seconds_backward; /* the winners' times per pass */
} clt_conv_choice;

/* The store's path for ctx (0 on success; -1 with the cache off) and its key line. */
int clt_conv_choices_path(clt_ctx *ctx, char *buf, size_t size);
void clt_conv_choices_key(clt_ctx *ctx, char *buf, size_t size);
/* Reads a store whose first line is key: how many (malloc'd in *out), 0 when absent,
 * foreign or unreadable. */
int clt_conv_choices_load(const char *path, const char *key, clt_conv_choice **out);
/* The stored decision for shape into *out: 1 when there is one. */
int clt_conv_choice_find(clt_ctx *ctx, const clt_conv_shape *shape, clt_conv_choice *out);
/* Adds or replaces c in the store (the file's other decisions kept); silent without a cache. */
clt_status clt_conv_choice_store(clt_ctx *ctx, const clt_conv_choice *c);

#endif
