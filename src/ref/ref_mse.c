/* Mean squared error head (nn/layers/mse.c). */
#include "ref/ref.h"

#include <math.h>

double clt_ref_mse(int n, const double *x, const double *t, double *dx, double *mae) {
  double loss = 0.0, abs_sum = 0.0;
  for (int s = 0; s < n; s++) {
    double e = x[s] - t[s];
    loss += e * e;
    abs_sum += fabs(e);
    if (dx) dx[s] = 2.0 * e / (double)n;
  }
  if (mae) *mae = abs_sum / (double)n;
  return loss / (double)n;
}
