/* The reference adapters of check_layers.c's <layer>/<case> rows: per layer type, the
 * section's keys read as docs/INTERNALS.md defines them, the float64 reference (src/ref)
 * run on the case's inputs, and the tolerances of the comparison, each with its reason. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "nn/activation.h"
#include "nn/ini.h"
#include "ref/ref.h"
#include "runtime/rng.h"

static int key_int(const clt_ini_section *sec, const char *key, int def) {
  int v = def;
  if (clt_ini_get_int(sec, key, def, INT_MIN, INT_MAX, &v) != CLT_OK) v = def;
  return v;
}

static double key_double(const clt_ini_section *sec, const char *key, double def) {
  double v = def;
  if (clt_ini_get_float(sec, key, def, -INFINITY, INFINITY, &v) != CLT_OK) v = def;
  return v;
}

static int key_bool(const clt_ini_section *sec, const char *key, int def) {
  bool v = def;
  if (clt_ini_get_bool(sec, key, def, &v) != CLT_OK) v = def;
  return v;
}

static clt_activation key_act(const clt_ini_section *sec) {
  const char *name = "linear";
  clt_activation act = CLT_ACT_LINEAR;
  if (clt_ini_get_string(sec, "activation", "linear", &name) == CLT_OK)
    clt_activation_from_name(name, &act);
  return act;
}

static clt_ref_shape ref_in(const clt_check_layer_io *io) {
  return (clt_ref_shape){io->n, io->in.h, io->in.w, io->in.c};
}

static const char *expect_params(const clt_check_layer_io *io, int count, size_t first,
                                 size_t second) {
  static char why[160];
  size_t want[2] = {first, second};
  if (io->param_count != count) {
    snprintf(why, sizeof why, "the layer reports %d parameter tensors; the reference has %d",
             io->param_count, count);
    return why;
  }
  for (int i = 0; i < count && i < 2; i++)
    if (io->param_floats[i] != want[i]) {
      snprintf(why, sizeof why, "parameter tensor %d has %zu floats; the reference has %zu", i,
               io->param_floats[i], want[i]);
      return why;
    }
  return NULL;
}

/* conv, dense: 1e-4. Each value is a float32 sum of up to a few hundred O(1) products,
 * summed in any order (CLBlast tiles, FMA), with exp/tanh to a few ulp: rounding is about
 * terms * 2^-24 ~ 1e-5 at worst; an indexing error is O(1). */
#define TOL_GEMM_LAYER 1e-4

static const char *conv_ref(clt_check_layer_io *io) {
  const clt_ini_section *sec = io->sec;
  clt_ref_conv p = {0};
  p.filters = key_int(sec, "filters", 1);
  p.size = key_int(sec, "size", 1);
  p.stride = key_int(sec, "stride", 1);
  p.bias = key_bool(sec, "bias", 1);
  p.act = key_act(sec);
  p.alpha = key_double(sec, "alpha", 0.01);
  const char *pad = "valid";
  clt_ini_get_string(sec, "padding", "valid", &pad);
  clt_ref_padding mode = CLT_REF_PAD_NUMBER;
  if (strcmp(pad, "valid") == 0) mode = CLT_REF_PAD_VALID;
  if (strcmp(pad, "same") == 0) mode = CLT_REF_PAD_SAME;
  clt_ref_shape in = ref_in(io);
  clt_ref_conv_set_padding(&p, mode, mode == CLT_REF_PAD_NUMBER ? atoi(pad) : 0, in);
  const char *why = expect_params(
      io, p.bias ? 2 : 1, (size_t)p.filters * p.size * p.size * io->in.c, (size_t)p.filters);
  if (why) return why;
  clt_ref_conv_forward(&p, in, io->x, io->params[0], p.bias ? io->params[1] : NULL, io->y);
  if (io->training)
    clt_ref_conv_backward(&p, in, io->x, io->params[0], io->y, io->dy, io->dx, io->grads[0],
                          p.bias ? io->grads[1] : NULL);
  io->tol_y = io->tol_dx = io->tol_params = TOL_GEMM_LAYER;
  io->floor_dx = 1e-3;
  return NULL;
}

static const char *dense_ref(clt_check_layer_io *io) {
  const clt_ini_section *sec = io->sec;
  clt_ref_dense p = {0};
  p.units = key_int(sec, "units", 1);
  p.bias = key_bool(sec, "bias", 1);
  p.act = key_act(sec);
  p.alpha = key_double(sec, "alpha", 0.01);
  int inputs = (int)clt_shape_size(io->in);
  const char *why = expect_params(io, p.bias ? 2 : 1, (size_t)p.units * inputs, (size_t)p.units);
  if (why) return why;
  clt_ref_dense_forward(&p, io->n, inputs, io->x, io->params[0], p.bias ? io->params[1] : NULL,
                        io->y);
  if (io->training)
    clt_ref_dense_backward(&p, io->n, inputs, io->x, io->params[0], io->y, io->dy, io->dx,
                           io->grads[0], p.bias ? io->grads[1] : NULL);
  io->tol_y = io->tol_dx = io->tol_params = TOL_GEMM_LAYER;
  io->floor_dx = 1e-3;
  return NULL;
}

static clt_ref_pool pool_keys(const clt_ini_section *sec) {
  clt_ref_pool p;
  p.size = key_int(sec, "size", 1);
  p.stride = key_int(sec, "stride", p.size);
  return p;
}

/* maxpool: y is a copy of one input value (exact); dx sums at most ceil(K/S)^2 float dy
 * values (1e-6); a gradient routed to the wrong element of a tie is off by O(1). */
static const char *maxpool_ref(clt_check_layer_io *io) {
  clt_ref_pool p = pool_keys(io->sec);
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  clt_ref_maxpool_forward(&p, ref_in(io), io->x, io->y);
  if (io->training) clt_ref_maxpool_backward(&p, ref_in(io), io->x, io->dy, io->dx);
  io->tol_y = 0.0;
  io->tol_dx = 1e-6;
  return NULL;
}

/* avgpool: a float sum of up to K*K values times 1 / (K*K) rounded to float: 2e-6. */
static const char *avgpool_ref(clt_check_layer_io *io) {
  clt_ref_pool p = pool_keys(io->sec);
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  clt_ref_avgpool_forward(&p, ref_in(io), io->x, io->y);
  if (io->training) clt_ref_avgpool_backward(&p, ref_in(io), io->dy, io->dx);
  io->tol_y = io->tol_dx = 2e-6;
  return NULL;
}

/* activation: linear, relu, leaky_relu 1e-6 (one rounding of alpha * x or dy * alpha);
 * sigmoid, tanh 1e-5 (OpenCL C allows exp and tanh several ulp, and backward takes the
 * derivative from the device's y, which carries that error). */
static const char *activation_ref(clt_check_layer_io *io) {
  clt_activation act = key_act(io->sec);
  double alpha = key_double(io->sec, "alpha", 0.01);
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  long count = io->n * (long)clt_shape_size(io->in);
  clt_ref_act_forward(act, alpha, count, io->x, io->y);
  if (io->training) clt_ref_act_backward(act, alpha, count, io->y, io->dy, io->dx);
  io->tol_y = io->tol_dx = (act == CLT_ACT_SIGMOID || act == CLT_ACT_TANH) ? 1e-5 : 1e-6;
  return NULL;
}

/* dropout: the mask is bit for bit (clt_ref_dropout_keep compares in float as the device
 * does), values 1e-6 (x * (1 / (1 - rate)) in float against x / (1 - rate) in double). */
static const char *dropout_ref(clt_check_layer_io *io) {
  double rate = key_double(io->sec, "rate", 0.5);
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  long count = io->n * (long)clt_shape_size(io->in);
  uint32_t stream = clt_stream(io->step, (uint32_t)io->layer_index);
  clt_ref_dropout_forward(rate, io->training, io->seed, stream, count, io->x, io->y);
  if (io->training)
    clt_ref_dropout_backward(rate, io->training, io->seed, stream, count, io->dy, io->dx);
  io->tol_y = io->tol_dx = 1e-6;
  return NULL;
}

/* batchnorm: 1e-5 for y, the running statistics, dgamma and dbeta (per-channel float
 * reductions of M = N*H*W values in a tree; inputs with mean 2 carry a few ulp of the mean
 * into y). dx 1e-5 relative to max(max |dx|, 1): the cancellation in
 * dy - (sum dy + xhat * sum(dy xhat)) / M makes dx all rounding noise when it is near 0
 * (M = 1 gives dx = 0 up to epsilon); 1 is the natural scale of gamma * inv_std * dy. */
static const char *batchnorm_ref(clt_check_layer_io *io) {
  clt_ref_batchnorm p;
  p.momentum = key_double(io->sec, "momentum", 0.99);
  p.epsilon = key_double(io->sec, "epsilon", 0.001);
  int C = io->in.c;
  const char *why = expect_params(io, 2, (size_t)C, (size_t)C);
  if (why) return why;
  if (!io->state || io->state_floats != 2 * (size_t)C) return "the layer has no [2C] state";
  clt_ref_shape in = ref_in(io);
  clt_ref_batchnorm_forward(&p, in, io->training, io->x, io->params[0], io->params[1], io->state,
                            io->state + C, io->y, NULL, NULL);
  if (io->training)
    clt_ref_batchnorm_backward(&p, in, io->x, io->params[0], io->dy, io->dx, io->grads[0],
                               io->grads[1]);
  io->tol_y = io->tol_params = io->tol_state = io->tol_dx = 1e-5;
  io->floor_dx = 1.0;
  return NULL;
}

/* softmax (fused with cross-entropy): probabilities and dx 2e-6, mean loss 2e-6 relative to
 * max(|loss|, 1), correct count exact (ties between float logits are as likely as in
 * double: inputs are float values). OpenCL exp and log are within 3-4 ulp. */
static const char *softmax_ref(clt_check_layer_io *io) {
  int k = io->in.c, n = io->n;
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  for (int s = 0; s < n; s++) {
    const double *z = io->x + (size_t)s * k;
    double m = z[0], sum = 0.0;
    for (int j = 1; j < k; j++) m = fmax(m, z[j]);
    for (int j = 0; j < k; j++) sum += exp(z[j] - m);
    for (int j = 0; j < k; j++) io->y[(size_t)s * k + j] = exp(z[j] - m) / sum;
  }
  if (io->labels)
    io->loss =
        clt_ref_softmax_xent(n, k, io->x, io->labels, io->training ? io->dx : NULL, &io->correct);
  io->tol_y = io->tol_dx = io->tol_loss = 2e-6;
  return NULL;
}

/* mse: targets are the labels' float bits; y = x; loss and dx 1e-6; the absolute-error sum
 * exact (integer inputs). */
static const char *mse_ref(clt_check_layer_io *io) {
  int n = io->n;
  const char *why = expect_params(io, 0, 0, 0);
  if (why) return why;
  for (int s = 0; s < n; s++) io->y[s] = io->x[s];
  if (io->labels) {
    double *t = malloc((size_t)n * sizeof *t), mae = 0.0;
    if (!t) return "out of host memory";
    for (int s = 0; s < n; s++) {
      float f;
      memcpy(&f, &io->labels[s], sizeof f);
      t[s] = f;
    }
    io->loss = clt_ref_mse(n, io->x, t, io->training ? io->dx : NULL, &mae);
    io->correct = (int)llround(mae * n);
    free(t);
  }
  io->tol_y = io->tol_dx = io->tol_loss = 1e-6;
  return NULL;
}

static const clt_check_layer_ref refs[] = {
    {"conv", conv_ref, "y, dx, dW, db: 1e-4 of max |ref|"},
    {"dense", dense_ref, "y, dx, dW, db: 1e-4 of max |ref|"},
    {"maxpool", maxpool_ref, "y exact, dx 1e-6 of max |ref|"},
    {"avgpool", avgpool_ref, "y, dx: 2e-6 of max |ref|"},
    {"activation", activation_ref, "y, dx: 1e-6 (sigmoid, tanh 1e-5) of max |ref|"},
    {"dropout", dropout_ref, "mask exact; y, dx 1e-6 of max |ref|"},
    {"batchnorm", batchnorm_ref,
     "y, statistics, dgamma, dbeta 1e-5 of max |ref|; dx 1e-5 of max(max |ref|, 1)"},
    {"softmax", softmax_ref, "p, dz, mean loss 2e-6; correct count exact"},
    {"mse", mse_ref, "y, dx, mean loss 1e-6; absolute-error sum exact"},
};

const clt_check_layer_ref *clt_check_layer_ref_find(const char *layer) {
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (strcmp(refs[i].layer, layer) == 0) return &refs[i];
  return NULL;
}
