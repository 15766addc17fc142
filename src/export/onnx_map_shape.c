/* The ONNX form of the layers without tensors (pools, activation, dropout, the heads) and
 * the table of every mapping by layer type. */
#include <stdio.h>
#include <string.h>

#include "export/onnx_export.h"
#include "export/onnx_map.h"

/* MaxPool / AveragePool: cltrain's pools have no padding and round down, as ONNX's
 * defaults (pads 0, ceil_mode 0), so the windows are the same. */
static clt_status map_pool(clt_onnx_layer *l, const char *op) {
  clt_onnx_value x = clt_onnx_spatial(l, l->x);
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_node *n = clt_onnx_add_node(l->g, op, out, &x.name, 1, out);
  const int64_t kernel[2] = {l->info.size, l->info.size},
                strides[2] = {l->info.stride, l->info.stride};
  clt_onnx_attr_ints(l->g, n, "kernel_shape", kernel, 2);
  clt_onnx_attr_ints(l->g, n, "strides", strides, 2);
  l->y = (clt_onnx_value){out, 1, l->ml->out};
  return CLT_OK;
}

static clt_status map_maxpool(clt_onnx_layer *l) {
  return map_pool(l, "MaxPool");
}

static clt_status map_avgpool(clt_onnx_layer *l) {
  return map_pool(l, "AveragePool");
}

static clt_status map_global_avgpool(clt_onnx_layer *l) {
  clt_onnx_value x = clt_onnx_spatial(l, l->x);
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_add_node(l->g, "GlobalAveragePool", out, &x.name, 1, out);
  l->y = (clt_onnx_value){out, 1, l->ml->out};
  return CLT_OK;
}

static clt_status map_activation(clt_onnx_layer *l) {
  l->y = l->x;
  l->y.name = clt_onnx_activation(l, l->x.name, l->info.act, l->info.alpha);
  return CLT_OK;
}

/* Dropout is the identity in inference: no node at all. */
static clt_status map_dropout(clt_onnx_layer *l) {
  l->y = l->x;
  return CLT_OK;
}

/* The heads end the graph in the outputs named in export/onnx_export.h. */
static clt_status map_head(clt_onnx_layer *l, const char *op, const char *output) {
  clt_onnx_value x = clt_onnx_flat(l, l->x);
  clt_onnx_node *n = clt_onnx_add_node(l->g, op, output, &x.name, 1, output);
  if (strcmp(op, "Softmax") == 0) clt_onnx_attr_int(l->g, n, "axis", 1);
  l->y = (clt_onnx_value){output, 0, l->ml->out};
  return CLT_OK;
}

static clt_status map_softmax(clt_onnx_layer *l) {
  return map_head(l, "Softmax", "probabilities");
}

static clt_status map_mse(clt_onnx_layer *l) {
  return map_head(l, "Identity", "prediction");
}

static const struct {
  const char *type;
  clt_onnx_map_fn map;
} mappings[] = {
    {"conv", clt_onnx_map_conv},
    {"dense", clt_onnx_map_dense},
    {"batchnorm", clt_onnx_map_batchnorm},
    {"add", clt_onnx_map_add},
    {"maxpool", map_maxpool},
    {"avgpool", map_avgpool},
    {"global_avgpool", map_global_avgpool},
    {"activation", map_activation},
    {"dropout", map_dropout},
    {"softmax", map_softmax},
    {"mse", map_mse},
};

clt_onnx_map_fn clt_onnx_mapping(const char *layer_type) {
  for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
    if (strcmp(mappings[i].type, layer_type) == 0) return mappings[i].map;
  return NULL;
}

const char *clt_onnx_supported_layers(void) {
  static char list[256];
  if (!list[0])
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", mappings[i].type);
    }
  return list;
}
