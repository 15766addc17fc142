/* The bias and fused activation of conv and dense (cl/bias_act.cl): their
 * model-file keys, kernels and launches. A layer's output is a row-major
 * matrix [rows, cols]: rows = output pixels or samples, cols = filters or units. */
#ifndef CLT_NN_LAYERS_BIAS_ACT_H
#define CLT_NN_LAYERS_BIAS_ACT_H

#include <stddef.h>

#include "nn/activation.h"
#include "nn/ini.h"
#include "runtime/gemm.h"
#include "runtime/program.h"

typedef struct clt_bias_act {
  int bias;           /* key bias (default 1): b [cols] is added */
  clt_activation act; /* key activation (default linear) */
  double alpha;       /* key alpha (leaky_relu only, default 0.01, > 0) */
  clt_kernel forward, backward, col_sums;
  int cols;       /* from prepare */
  cl_mem scratch; /* [CLT_BIAS_GRAD_CHUNKS, cols]: chunk sums of bias_grad (bias only) */
} clt_bias_act;

/* The most chunks of rows the bias gradient sums separately before adding them up. */
#define CLT_BIAS_GRAD_CHUNKS 256

/* Reads the keys bias, activation and alpha; alpha with another activation is an error. */
clt_status clt_bias_act_parse(const clt_ini_section *sec, clt_bias_act *ba);
/* Kernels for an output of cols columns, and (with bias) the small scratch buffer
 * of the bias gradient. */
clt_status clt_bias_act_prepare(clt_bias_act *ba, clt_ctx *ctx, int cols);
void clt_bias_act_release(clt_bias_act *ba);

/* y [rows, cols] = act(y + b) in place (b [cols] unused without bias). No launch when
 * there is neither a bias nor an activation. */
clt_status clt_bias_act_forward(clt_bias_act *ba, clt_ctx *ctx, cl_mem y, cl_mem b, size_t rows,
                                int cols);
/* y [rows, cols] = act(x W^T + b) (W [cols, inner], x [rows, inner]; b [cols] unused without
 * bias): one GEMM with bias and activation fused into its store when the chosen GEMM is an
 * engine variant, else the GEMM then clt_bias_act_forward. Backward reads only y, from
 * which every activation's derivative is taken (clt_act_grad), so fusing loses nothing. */
clt_status clt_bias_act_gemm_forward(clt_bias_act *ba, clt_ctx *ctx, cl_mem x, cl_mem w, cl_mem b,
                                     cl_mem y, size_t rows, int cols, size_t inner);
/* dy [rows, cols] becomes dz = dy * act'(y) in place (no launch for linear without
 * bias), and db [cols] += column sums of dz (with bias; cols as given to prepare). */
clt_status clt_bias_act_backward(clt_bias_act *ba, clt_ctx *ctx, cl_mem y, cl_mem dy, cl_mem db,
                                 size_t rows, int cols);

/* Appends ", relu" (", leaky_relu 0.1", ", no bias", ...) to buf[0..size). */
void clt_bias_act_describe(const clt_bias_act *ba, char *buf, size_t size);

/* CLT_OK when count elements can be indexed by the kernels' int arithmetic, else
 * CLT_ERR_UNSUPPORTED naming the tensor (what) and asking for a smaller batch. */
clt_status clt_check_int_count(size_t count, const char *layer, const char *what);

#endif
