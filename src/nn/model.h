/* A model: the recipe and the layers of a model file, with every shape
 * inferred from the input. Host only; nn/network.h puts it on a device. */
#ifndef CLT_NN_MODEL_H
#define CLT_NN_MODEL_H

#include <stddef.h>

#include "cltrain/status.h"
#include "nn/layer.h"
#include "nn/recipe.h"

#define CLT_LAYER_NAME_MAX 64 /* bytes of a layer name, with the NUL */

typedef struct clt_model_layer {
  const clt_layer_ops *ops;
  void *self;
  clt_shape in, out;
  int line;            /* line of its section header */
  size_t param_floats; /* trainable floats */
  /* Key name (any layer), "" when unnamed; from: the index of the layer its key from
   * names ([add]), else -1; readers: later layers that read this one's output via from. */
  char name[CLT_LAYER_NAME_MAX];
  int from;
  int readers;
} clt_model_layer;

typedef struct clt_model {
  char *name; /* path or display name */
  char *text; /* the model file's text, kept for checkpoints */
  size_t text_length;
  clt_recipe recipe;
  clt_shape input;
  int classes;    /* outputs of the softmax head */
  int regression; /* 1: the model ends in the [mse] head (classes is then 1) */
  int layer_count;
  clt_model_layer *layers;
  size_t param_floats; /* total trainable floats */
} clt_model;

/* Reads a model file: strict grammar, every layer's keys checked, shapes
 * inferred; the last layer must be the [softmax] head. */
clt_status clt_model_load(const char *path, clt_model **out);
/* The same from text (e.g. embedded in a checkpoint); name is used in messages. */
clt_status clt_model_parse(const char *text, size_t length, const char *name, clt_model **out);
void clt_model_free(clt_model *model);

#endif
