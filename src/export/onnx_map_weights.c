/* The ONNX form of the layers that hold tensors: conv, dense, batchnorm, add. Weights are
 * converted from cltrain's NHWC layouts here (export/onnx_layout.h). */
#include <stdlib.h>

#include "export/onnx_layout.h"
#include "export/onnx_map.h"

/* A scratch copy for a converted tensor; NULL is reported by the caller. */
static float *scratch(size_t count) {
  return malloc((count ? count : 1) * sizeof(float));
}

static clt_status no_memory(clt_onnx_layer *l) {
  return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory exporting layer %d [%s]", l->index + 1,
                  l->ml->ops->name);
}

/* Conv (weights [F, C, K, K], bias [F]) + the activation. */
clt_status clt_onnx_map_conv(clt_onnx_layer *l) {
  clt_onnx_value x = clt_onnx_spatial(l, l->x);
  int F = l->ml->out.c, C = l->ml->in.c, K = l->info.size;
  float *w = scratch((size_t)F * C * K * K);
  if (!w) return no_memory(l);
  clt_onnx_conv_weights(l->params[0], F, K, C, w);
  const int64_t wdims[4] = {F, C, K, K}, bdims[1] = {F};
  const char *in[3] = {x.name,
                       clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".weight"), wdims, 4, w)};
  free(w);
  int n_in = 2;
  if (l->info.bias)
    in[n_in++] = clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".bias"), bdims, 1, l->params[1]);
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_node *n = clt_onnx_add_node(l->g, "Conv", out, in, n_in, out);
  const int64_t kernel[2] = {K, K}, strides[2] = {l->info.stride, l->info.stride};
  /* ONNX orders pads [top, left, bottom, right]: cltrain's "same" puts the odd pixel last. */
  const int64_t pads[4] = {l->info.pad_top, l->info.pad_left, l->info.pad_bottom,
                           l->info.pad_right};
  clt_onnx_attr_ints(l->g, n, "kernel_shape", kernel, 2);
  clt_onnx_attr_ints(l->g, n, "strides", strides, 2);
  clt_onnx_attr_ints(l->g, n, "pads", pads, 4);
  l->y = (clt_onnx_value){clt_onnx_activation(l, out, l->info.act, l->info.alpha), 1, l->ml->out};
  return CLT_OK;
}

/* Flatten (from a spatial input) + Gemm (B transposed) + the activation. Flatten of NCHW
 * orders the features (c, h, w) where cltrain's weights expect (h, w, c): the weight
 * columns are permuted to match. */
clt_status clt_onnx_map_dense(clt_onnx_layer *l) {
  clt_shape s = l->ml->in;
  int U = l->ml->out.c, I = (int)clt_shape_size(s);
  const int64_t wdims[2] = {U, I}, bdims[1] = {U};
  const char *wname = clt_onnx_layer_name(l, ".weight");
  if (l->x.spatial) {
    float *w = scratch((size_t)U * I);
    if (!w) return no_memory(l);
    clt_onnx_dense_weights(l->params[0], U, s.h, s.w, s.c, w);
    clt_onnx_floats(l->g, wname, wdims, 2, w);
    free(w);
  } else {
    clt_onnx_floats(l->g, wname, wdims, 2, l->params[0]);
  }
  const char *flat = l->x.name;
  if (l->x.spatial) {
    flat = clt_onnx_layer_name(l, "_flatten");
    clt_onnx_node *f = clt_onnx_add_node(l->g, "Flatten", flat, &l->x.name, 1, flat);
    clt_onnx_attr_int(l->g, f, "axis", 1);
  }
  const char *in[3] = {flat, wname};
  int n_in = 2;
  if (l->info.bias)
    in[n_in++] = clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".bias"), bdims, 1, l->params[1]);
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_node *n = clt_onnx_add_node(l->g, "Gemm", out, in, n_in, out);
  clt_onnx_attr_int(l->g, n, "transB", 1);
  l->y = (clt_onnx_value){clt_onnx_activation(l, out, l->info.act, l->info.alpha), 0, l->ml->out};
  return CLT_OK;
}

/* BatchNormalization in inference form: gamma, beta, the running mean and variance. */
clt_status clt_onnx_map_batchnorm(clt_onnx_layer *l) {
  int C = l->ml->in.c;
  const int64_t dims[1] = {C};
  const char *in[5] = {
      l->x.name, clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".gamma"), dims, 1, l->params[0]),
      clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".beta"), dims, 1, l->params[1]),
      clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".running_mean"), dims, 1, l->state),
      clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".running_var"), dims, 1, l->state + C)};
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_node *n = clt_onnx_add_node(l->g, "BatchNormalization", out, in, 5, out);
  clt_onnx_attr_float(l->g, n, "epsilon", (float)l->info.epsilon);
  l->y = (clt_onnx_value){out, l->x.spatial, l->ml->out};
  return CLT_OK;
}

/* Add of the input and the from layer's output (through a 1x1 Conv with the projection's
 * stride and no bias when it has one) + the activation. */
clt_status clt_onnx_map_add(clt_onnx_layer *l) {
  clt_onnx_value x = clt_onnx_spatial(l, l->x);
  clt_onnx_value s = clt_onnx_spatial(l, l->skip);
  const char *skip = s.name;
  if (l->info.projection) {
    int F = l->ml->out.c, C = s.shape.c;
    const int64_t wdims[4] = {F, C, 1, 1}; /* W [F, C] is already [F, C, 1, 1] */
    const char *in[2] = {s.name, clt_onnx_floats(l->g, clt_onnx_layer_name(l, ".projection"), wdims,
                                                 4, l->params[0])};
    skip = clt_onnx_layer_name(l, "_projected");
    clt_onnx_node *n = clt_onnx_add_node(l->g, "Conv", skip, in, 2, skip);
    const int64_t kernel[2] = {1, 1}, strides[2] = {l->info.stride, l->info.stride};
    clt_onnx_attr_ints(l->g, n, "kernel_shape", kernel, 2);
    clt_onnx_attr_ints(l->g, n, "strides", strides, 2);
  }
  const char *in[2] = {x.name, skip};
  const char *out = clt_onnx_layer_name(l, "");
  clt_onnx_add_node(l->g, "Add", out, in, 2, out);
  l->y = (clt_onnx_value){clt_onnx_activation(l, out, l->info.act, l->info.alpha), 1, l->ml->out};
  return CLT_OK;
}
