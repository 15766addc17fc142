/* Activations (INTERNALS.md "Activations") and shape helpers of the float64 reference. */
#include "ref/ref.h"

#include <math.h>
#include <stdlib.h>

long clt_ref_shape_count(clt_ref_shape s) {
  return (long)s.n * s.h * s.w * s.c;
}

double clt_ref_act(clt_activation act, double alpha, double x) {
  switch (act) {
  case CLT_ACT_LINEAR:
    return x;
  case CLT_ACT_RELU:
    return x > 0.0 ? x : 0.0;
  case CLT_ACT_LEAKY_RELU:
    return x > 0.0 ? x : alpha * x;
  case CLT_ACT_SIGMOID:
    return 1.0 / (1.0 + exp(-x));
  case CLT_ACT_TANH:
    return tanh(x);
  default:
    abort(); /* an unknown code is a broken invariant: the parser only makes known ones */
  }
}

double clt_ref_act_grad(clt_activation act, double alpha, double y) {
  switch (act) {
  case CLT_ACT_LINEAR:
    return 1.0;
  case CLT_ACT_RELU:
    return y > 0.0 ? 1.0 : 0.0;
  case CLT_ACT_LEAKY_RELU:
    return y > 0.0 ? 1.0 : alpha;
  case CLT_ACT_SIGMOID:
    return y * (1.0 - y);
  case CLT_ACT_TANH:
    return 1.0 - y * y;
  default:
    abort();
  }
}

void clt_ref_act_forward(clt_activation act, double alpha, long count, const double *x, double *y) {
  for (long i = 0; i < count; i++) y[i] = clt_ref_act(act, alpha, x[i]);
}

void clt_ref_act_backward(clt_activation act, double alpha, long count, const double *y,
                          const double *dy, double *dx) {
  for (long i = 0; i < count; i++) dx[i] = dy[i] * clt_ref_act_grad(act, alpha, y[i]);
}
