/* Implicit-GEMM convolution over NHWC (cl/conv_implicit.cl): the forward with the bias and
 * activation fused into its store, the input gradient and the weight gradient, each a
 * register-tiled kernel whose K loop walks (kh, kw, c) in the tensors themselves, no im2col
 * matrix. The bias gradient and dz = dy * act'(y) stay with bias_act's backward. */
#ifndef CLT_NN_LAYERS_CONV_IMPLICIT_H
#define CLT_NN_LAYERS_CONV_IMPLICIT_H

#include <stddef.h>

#include "nn/activation.h"
#include "nn/layers/conv_direct.h"
#include "runtime/program.h"

/* Part of the conv choices' store key (conv_choose.h) beside the kernel sources: bump it when
 * the tile sizes or chunking chosen here change, so stored timings of the old ones are
 * measured again. */
#define CLT_CONV_IMPLICIT_HOST_REV "implicit-host-2"

/* The most chunks of output pixels the weight gradient sums separately. */
#define CLT_CONV_IMPLICIT_MAX_CHUNKS 32

typedef struct clt_conv_implicit {
  clt_conv_geom g;
  int fv, nv, pm; /* forward and weight gradient: filters per vector, vectors, pixels */
  int cv, cn, dm; /* input gradient: channels per vector, vectors, input pixels */
  int tm;         /* weight gradient: channels of one tap per work-item */
  int bias;
  float alpha;
  clt_kernel transpose, forward, dx, dw, reduce;
  cl_mem zero; /* max(C, F) zeros: what a tap in the padding reads */
} clt_conv_implicit;

/* Chunks of output pixels the weight gradient of a batch with rows output pixels uses
 * (a function of the shape alone, so the sums are the same bits on every run). */
int clt_conv_implicit_chunks(int k, int c, int f, size_t rows);
/* Workspace floats the implicit path needs for a batch with rows output pixels. */
size_t clt_conv_implicit_workspace(int k, int c, int f, size_t rows);
/* Builds the kernels for geometry g and the layer's activation and bias. */
clt_status clt_conv_implicit_prepare(clt_conv_implicit *d, clt_ctx *ctx, const clt_conv_geom *g,
                                     clt_activation act, double alpha, int bias);
void clt_conv_implicit_release(clt_conv_implicit *d);

/* y [N*OH*OW, F] (written) = act(conv(x, w) + b); ws: workspace (F*KKC floats used). */
clt_status clt_conv_implicit_forward(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem x, cl_mem w,
                                     cl_mem b, cl_mem y, cl_mem ws);
/* dx [N, H, W, C] (written) from dz [N*OH*OW, F] and w. */
clt_status clt_conv_implicit_dx(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem dz, cl_mem w,
                                cl_mem dx);
/* dw [F, KKC] += dz^T x im2col(x); ws: workspace (clt_conv_implicit_workspace floats). */
clt_status clt_conv_implicit_dw(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem x, cl_mem dz,
                                cl_mem dw, cl_mem ws);

#endif
