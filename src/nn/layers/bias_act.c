/* Host side of cl/bias_act.cl, shared by conv.c and dense.c. */
#include "nn/layers/bias_act.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/memory.h"

clt_status clt_bias_act_parse(const clt_ini_section *sec, clt_bias_act *ba) {
  bool bias = true;
  const char *name = NULL;
  CLT_TRY(clt_ini_get_bool(sec, "bias", true, &bias));
  CLT_TRY(clt_ini_get_string(sec, "activation", "linear", &name));
  if (clt_activation_from_name(name, &ba->act) != 0)
    return clt_ini_key_fail(sec, "activation", "unknown activation; use one of %s",
                            clt_activation_choices());
  ba->bias = bias ? 1 : 0;
  ba->alpha = 0.01;
  /* clt_ini_has also records alpha as a known key for misspelling hints. */
  if (clt_ini_has(sec, "alpha") && ba->act != CLT_ACT_LEAKY_RELU)
    return clt_ini_key_fail(sec, "alpha",
                            "alpha is the slope of leaky_relu but activation is %s; remove alpha "
                            "or set activation = leaky_relu",
                            clt_activation_name(ba->act));
  if (ba->act == CLT_ACT_LEAKY_RELU)
    CLT_TRY(clt_ini_get_float_ex(sec, "alpha", 0.01, 0.0, INFINITY, CLT_INI_ABOVE_MIN, &ba->alpha));
  return CLT_OK;
}

clt_status clt_bias_act_prepare(clt_bias_act *ba, clt_ctx *ctx, int cols) {
  clt_bias_act_release(ba);
  ba->cols = cols;
  char options[32]; /* the activation as a constant: see cl/bias_act.cl */
  snprintf(options, sizeof options, "-DBIAS_ACT=%d", (int)ba->act);
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "bias_act_forward", options, &ba->forward));
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "act_backward_inplace", options, &ba->backward));
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "col_sums", options, &ba->col_sums));
  if (ba->bias)
    CLT_TRY(
        clt_buffer_create(ctx, (size_t)CLT_BIAS_GRAD_CHUNKS * cols * sizeof(float), &ba->scratch));
  return CLT_OK;
}

void clt_bias_act_release(clt_bias_act *ba) {
  clt_kernel_release(&ba->forward);
  clt_kernel_release(&ba->backward);
  clt_kernel_release(&ba->col_sums);
  clt_buffer_release(&ba->scratch);
}

clt_status clt_check_int_count(size_t count, const char *layer, const char *what) {
  if (count <= (size_t)INT_MAX) return CLT_OK;
  return clt_fail(CLT_ERR_UNSUPPORTED,
                  "%s: the %s tensor has %zu elements, more than the kernels index (%d); use a "
                  "smaller batch size",
                  layer, what, count, INT_MAX);
}

clt_status clt_bias_act_forward(clt_bias_act *ba, clt_ctx *ctx, cl_mem y, cl_mem b, size_t rows,
                                int cols) {
  if (!ba->bias && ba->act == CLT_ACT_LINEAR) return CLT_OK;
  clt_kernel *k = &ba->forward;
  clt_arg_mem(k, y);
  clt_arg_mem(k, ba->bias ? b : y); /* unread without bias */
  clt_arg_int(k, (int)rows);
  clt_arg_int(k, cols);
  clt_arg_int(k, ba->bias);
  clt_arg_int(k, (int)ba->act);
  clt_arg_float(k, (float)ba->alpha);
  size_t global[3] = {(size_t)cols, 1, rows}, local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(ctx, k, global, local);
}

clt_status clt_bias_act_gemm_forward(clt_bias_act *ba, clt_ctx *ctx, cl_mem x, cl_mem w, cl_mem b,
                                     cl_mem y, size_t rows, int cols, size_t inner) {
  clt_gemm_epi epi = {ba->bias ? b : NULL, (int)ba->act, (float)ba->alpha};
  int fused = 0;
  size_t n = (size_t)cols;
  CLT_TRY(clt_sgemm_epi(ctx, CLT_N, CLT_T, rows, n, inner, 1.0f, x, 0, inner, w, 0, inner, 0.0f, y,
                        0, n, &epi, &fused));
  return fused ? CLT_OK : clt_bias_act_forward(ba, ctx, y, b, rows, cols);
}

/* One col_sums launch: work-groups of tc columns x lanes (a power of two) over
 * (cols, chunks); chunk g is the group row g (cl/bias_act.cl). */
static clt_status run_col_sums(clt_bias_act *ba, clt_ctx *ctx, cl_mem m, cl_mem out, size_t rows,
                               int cols, size_t chunk, int accumulate) {
  clt_kernel *k = &ba->col_sums;
  size_t cap = clt_kernel_max_group(k);
  if (cap > 256) cap = 256;
  size_t global[3] = {(size_t)cols, 1, 1}, local[3];
  clt_local_3d(k, global, local); /* local[0]: tc */
  size_t lanes = 1;
  while (lanes * 2 * local[0] <= cap && lanes * 2 <= chunk) lanes *= 2;
  local[1] = lanes;
  local[2] = 1;
  global[1] = (rows + chunk - 1) / chunk * lanes;
  clt_arg_mem(k, m);
  clt_arg_mem(k, out);
  clt_arg_int(k, (int)rows);
  clt_arg_int(k, cols);
  clt_arg_int(k, (int)chunk);
  clt_arg_int(k, accumulate);
  clt_arg_local(k, local[0] * lanes * sizeof(float));
  return clt_run_3d(ctx, k, global, local);
}

clt_status clt_bias_act_backward(clt_bias_act *ba, clt_ctx *ctx, cl_mem y, cl_mem dy, cl_mem db,
                                 size_t rows, int cols) {
  if (ba->act != CLT_ACT_LINEAR) {
    size_t count = rows * (size_t)cols;
    clt_kernel *k = &ba->backward;
    clt_arg_mem(k, dy);
    clt_arg_mem(k, y);
    clt_arg_int(k, (int)count);
    clt_arg_int(k, (int)ba->act);
    clt_arg_float(k, (float)ba->alpha);
    CLT_TRY(clt_run_1d(ctx, k, count));
  }
  if (!ba->bias) return CLT_OK;
  if (cols != ba->cols || !ba->scratch)
    return clt_fail(CLT_ERR_INTERNAL, "bias gradient of %d columns prepared for %d (a bug)", cols,
                    ba->cols);
  /* Column sums of dz by chunks of at least 64 rows, at most CLT_BIAS_GRAD_CHUNKS of
   * them; with more than one chunk the chunk sums go to the scratch and a second
   * launch adds them into db. */
  size_t chunk = (rows + CLT_BIAS_GRAD_CHUNKS - 1) / CLT_BIAS_GRAD_CHUNKS;
  if (chunk < 64) chunk = 64;
  size_t chunks = (rows + chunk - 1) / chunk;
  if (chunks <= 1) return run_col_sums(ba, ctx, dy, db, rows, cols, chunk, 1);
  CLT_TRY(run_col_sums(ba, ctx, dy, ba->scratch, rows, cols, chunk, 0));
  return run_col_sums(ba, ctx, ba->scratch, db, chunks, cols, chunks, 1);
}

void clt_bias_act_describe(const clt_bias_act *ba, char *buf, size_t size) {
  size_t len = strlen(buf);
  if (len >= size) return;
  if (ba->act == CLT_ACT_LEAKY_RELU)
    snprintf(buf + len, size - len, ", leaky_relu %g%s", ba->alpha, ba->bias ? "" : ", no bias");
  else
    snprintf(buf + len, size - len, ", %s%s", clt_activation_name(ba->act),
             ba->bias ? "" : ", no bias");
}
