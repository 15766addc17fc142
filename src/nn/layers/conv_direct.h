/* Direct convolution for layers with few input channels (cl/conv_direct.cl): forward
 * with the bias and activation fused, and the weight and bias gradients, all without an
 * im2col matrix. The input gradient, when a layer needs one, stays with conv.c's
 * GEMM + col2im (the first layer, where this path is chosen, needs none). */
#ifndef CLT_NN_LAYERS_CONV_DIRECT_H
#define CLT_NN_LAYERS_CONV_DIRECT_H

#include <stddef.h>

#include "nn/activation.h"
#include "runtime/program.h"

/* The most taps (K*K*C) the direct kernels take: one accumulator vector per tap. */
#define CLT_CONV_DIRECT_MAX_TAPS 64
/* The most chunks of output pixels the weight gradient sums separately. */
#define CLT_CONV_DIRECT_MAX_CHUNKS 64

/* The geometry of one conv layer (pt, pl: top and left padding). */
typedef struct clt_conv_geom {
  int h, w, c;   /* input */
  int oh, ow, f; /* output */
  int k, s, pt, pl;
} clt_conv_geom;

typedef struct clt_conv_direct {
  clt_conv_geom g;
  int fv, gpw, pw; /* filters per vector, vector groups per weight-gradient work-item,
                      output pixels per forward work-item */
  int bias;
  float alpha;
  clt_kernel transpose, forward, wgrad, reduce;
} clt_conv_direct;

/* 1 when the direct kernels take this window and channel count. */
int clt_conv_direct_fits(int k, int c);
/* Workspace floats the direct path needs (independent of the batch). */
size_t clt_conv_direct_workspace(int k, int c, int f);
/* Builds the kernels for geometry g, the activation and bias of the layer. */
clt_status clt_conv_direct_prepare(clt_conv_direct *d, clt_ctx *ctx, const clt_conv_geom *g,
                                   clt_activation act, double alpha, int bias);
void clt_conv_direct_release(clt_conv_direct *d);

/* y [N*OH*OW, F] (written) = act(conv(x, w) + b); ws: workspace (F*KKC floats used). */
clt_status clt_conv_direct_forward(clt_conv_direct *d, clt_ctx *ctx, int n, cl_mem x, cl_mem w,
                                   cl_mem b, cl_mem y, cl_mem ws);
/* dw += and db += (with bias) the gradients from dy and y (dz = dy * act'(y); written
 * into dy when write_dz is 1). ws: workspace (clt_conv_direct_workspace floats). */
clt_status clt_conv_direct_backward(clt_conv_direct *d, clt_ctx *ctx, int n, cl_mem x, cl_mem y,
                                    cl_mem dy, cl_mem dw, cl_mem db, cl_mem ws, int write_dz);

#endif
