/* Host side of cl/bias_act.cl, shared by conv.c and dense.c. */
#include "nn/layers/bias_act.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/cl_errors.h"

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

clt_status clt_bias_act_prepare(clt_bias_act *ba, clt_ctx *ctx) {
  clt_bias_act_release(ba);
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "bias_act_forward", "", &ba->forward));
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "act_backward_inplace", "", &ba->backward));
  CLT_TRY(clt_kernel_create(ctx, "bias_act.cl", "bias_grad", "", &ba->bias_grad));
  return CLT_OK;
}

void clt_bias_act_release(clt_bias_act *ba) {
  clt_kernel_release(&ba->forward);
  clt_kernel_release(&ba->backward);
  clt_kernel_release(&ba->bias_grad);
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
  size_t count = rows * (size_t)cols;
  clt_kernel *k = &ba->forward;
  clt_arg_mem(k, y);
  clt_arg_mem(k, ba->bias ? b : y); /* unread without bias */
  clt_arg_int(k, (int)count);
  clt_arg_int(k, cols);
  clt_arg_int(k, ba->bias);
  clt_arg_int(k, (int)ba->act);
  clt_arg_float(k, (float)ba->alpha);
  return clt_run_1d(ctx, k, count);
}

static size_t pow2_floor(size_t v) {
  size_t p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
}

clt_status clt_bias_act_backward(clt_bias_act *ba, clt_ctx *ctx, cl_mem y, cl_mem dy, cl_mem db,
                                 size_t rows, int cols) {
  size_t count = rows * (size_t)cols;
  if (ba->act != CLT_ACT_LINEAR) {
    clt_kernel *k = &ba->backward;
    clt_arg_mem(k, dy);
    clt_arg_mem(k, y);
    clt_arg_int(k, (int)count);
    clt_arg_int(k, (int)ba->act);
    clt_arg_float(k, (float)ba->alpha);
    CLT_TRY(clt_run_1d(ctx, k, count));
  }
  if (!ba->bias) return CLT_OK;
  /* Local size L: a power of two up to 256; tiles of tc <= 16 columns (enough for
   * 64-byte row segments) and L / tc row lanes, fewer when there are few rows. */
  clt_kernel *k = &ba->bias_grad;
  size_t local = pow2_floor(k->local_1d < 256 ? k->local_1d : 256);
  size_t tc = 1;
  while (tc < 16 && tc < (size_t)cols && tc * 2 <= local) tc *= 2;
  size_t lanes = local / tc;
  while (lanes > 1 && lanes / 2 >= rows) lanes /= 2;
  local = tc * lanes;
  size_t groups = ((size_t)cols + tc - 1) / tc;
  clt_arg_mem(k, dy);
  clt_arg_mem(k, db);
  clt_arg_int(k, (int)rows);
  clt_arg_int(k, cols);
  clt_arg_int(k, (int)tc);
  clt_arg_local(k, local * sizeof(float));
  return clt_run_1d_local(ctx, k, groups, local);
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
