/* Shared by the ONNX export's files (not used outside src/export): one mapping function per
 * cltrain layer type, each turning one layer into ONNX nodes and initializers
 * (docs/INTERNALS.md "ONNX export" has the table). */
#ifndef CLT_EXPORT_ONNX_MAP_H
#define CLT_EXPORT_ONNX_MAP_H

#include "export/onnx_graph.h"
#include "nn/model.h"

/* A tensor of the ONNX graph that stands for a cltrain activation of NHWC shape `shape`:
 * spatial: [N, C, H, W]; flat: [N, H*W*C] (after dense; then H = W = 1). */
typedef struct clt_onnx_value {
  const char *name;
  int spatial;
  clt_shape shape;
} clt_onnx_value;

/* One layer to map: what it reads, its settings and tensors; the mapping sets y. */
typedef struct clt_onnx_layer {
  clt_onnx_graph *g;
  int index;                           /* position in the model, for names */
  const clt_model_layer *ml;           /* ops, shapes, line */
  clt_layer_info info;                 /* zero when the type has no info call */
  const float *params[CLT_MAX_PARAMS]; /* the checkpoint's tensors, in the layer's order */
  int param_count;
  const float *state;  /* batchnorm: running mean [C], then running variance [C] */
  clt_onnx_value x;    /* the previous layer's output (the graph input for the first) */
  clt_onnx_value skip; /* [add]: the output of the layer named by from */
  clt_onnx_value y;
  int reshapes; /* Reshapes made so far (clt_onnx_spatial), for unique names */
} clt_onnx_layer;

typedef clt_status (*clt_onnx_map_fn)(clt_onnx_layer *l);

/* The mapping of a layer type by its section name, NULL when it has no ONNX form. */
clt_onnx_map_fn clt_onnx_mapping(const char *layer_type);

/* The mappings of the layers with tensors (export/onnx_map_weights.c). */
clt_status clt_onnx_map_conv(clt_onnx_layer *l);
clt_status clt_onnx_map_dense(clt_onnx_layer *l);
clt_status clt_onnx_map_batchnorm(clt_onnx_layer *l);
clt_status clt_onnx_map_add(clt_onnx_layer *l);

/* Helpers for the mappings (export/onnx_map_util.c). */
/* "l<index>_<type><suffix>": a tensor or node name unique to the layer. */
const char *clt_onnx_layer_name(clt_onnx_layer *l, const char *suffix);
/* v as a spatial tensor [N, C, H, W] (a Reshape of a flat [N, C] to [N, C, 1, 1]). */
clt_onnx_value clt_onnx_spatial(clt_onnx_layer *l, clt_onnx_value v);
/* v as a flat tensor [N, F] (a Flatten; only for H = W = 1, where NCHW and NHWC agree). */
clt_onnx_value clt_onnx_flat(clt_onnx_layer *l, clt_onnx_value v);
/* act(in) into the layer's tensor "l<index>_<type>_<act>" (Relu, LeakyRelu, Sigmoid,
 * Tanh); linear returns in. */
const char *clt_onnx_activation(clt_onnx_layer *l, const char *in, clt_activation act,
                                double alpha);

#endif
