/* The table of layer types by model-file section name. The parser, the model
 * summary, `cltrain check` and the docs all read it. */
#include <string.h>

#include "nn/layer.h"
#include "nn/layers/layers.h"

static const clt_layer_ops *const all_layers[] = {
    &clt_layer_conv,           &clt_layer_dense,   &clt_layer_maxpool,   &clt_layer_avgpool,
    &clt_layer_activation,     &clt_layer_dropout, &clt_layer_batchnorm, &clt_layer_add,
    &clt_layer_global_avgpool, &clt_layer_softmax, &clt_layer_mse,       NULL,
};

const clt_layer_ops *clt_layer_find(const char *name) {
  for (int i = 0; all_layers[i]; i++)
    if (strcmp(all_layers[i]->name, name) == 0) return all_layers[i];
  return NULL;
}

const clt_layer_ops *const *clt_layer_all(void) {
  return all_layers;
}
