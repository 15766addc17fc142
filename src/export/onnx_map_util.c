#include <stdio.h>
#include <string.h>

#include "export/onnx_map.h"

const char *clt_onnx_layer_name(clt_onnx_layer *l, const char *suffix) {
  return clt_onnx_name(l->g, "l%d_%s%s", l->index, l->ml->ops->name, suffix);
}

clt_onnx_value clt_onnx_spatial(clt_onnx_layer *l, clt_onnx_value v) {
  if (v.spatial) return v;
  /* Flat tensors follow dense layers: H = W = 1, so [N, C] -> [N, C, 1, 1] (0 copies N). */
  static const int64_t nc11[4] = {0, -1, 1, 1};
  /* [add] may reshape both of its inputs (even the same tensor twice): number them. */
  char suffix[32];
  snprintf(suffix, sizeof suffix, "_to4d_%d", ++l->reshapes);
  const char *out = clt_onnx_layer_name(l, suffix);
  const char *in[2] = {v.name,
                       clt_onnx_int64s(l->g, clt_onnx_name(l->g, "%s_shape", out), nc11, 4)};
  clt_onnx_add_node(l->g, "Reshape", out, in, 2, out);
  return (clt_onnx_value){out, 1, v.shape};
}

clt_onnx_value clt_onnx_flat(clt_onnx_layer *l, clt_onnx_value v) {
  if (!v.spatial) return v;
  const char *out = clt_onnx_layer_name(l, "_flat");
  clt_onnx_node *n = clt_onnx_add_node(l->g, "Flatten", out, &v.name, 1, out);
  clt_onnx_attr_int(l->g, n, "axis", 1);
  return (clt_onnx_value){out, 0, v.shape};
}

const char *clt_onnx_activation(clt_onnx_layer *l, const char *in, clt_activation act,
                                double alpha) {
  static const char *const ops[CLT_ACT_COUNT] = {[CLT_ACT_RELU] = "Relu",
                                                 [CLT_ACT_LEAKY_RELU] = "LeakyRelu",
                                                 [CLT_ACT_SIGMOID] = "Sigmoid",
                                                 [CLT_ACT_TANH] = "Tanh"};
  _Static_assert(CLT_ACT_COUNT == 5, "a new activation needs its ONNX operator here");
  if (act == CLT_ACT_LINEAR) return in;
  const char *out =
      clt_onnx_name(l->g, "l%d_%s_%s", l->index, l->ml->ops->name, clt_activation_name(act));
  clt_onnx_node *n = clt_onnx_add_node(l->g, ops[act], out, &in, 1, out);
  if (act == CLT_ACT_LEAKY_RELU) clt_onnx_attr_float(l->g, n, "alpha", (float)alpha);
  return out;
}
