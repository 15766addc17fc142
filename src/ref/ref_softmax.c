/* Softmax + cross-entropy head, fused (INTERNALS.md "softmax"). */
#include "ref/ref.h"

#include <math.h>

double clt_ref_softmax_xent(int n, int k, const double *z, const int32_t *labels, double *dz,
                            int *correct) {
  double loss = 0.0;
  int right = 0;
  for (int s = 0; s < n; s++) {
    const double *zs = z + (long)s * k;
    int first_max = 0;
    for (int j = 1; j < k; j++)
      if (zs[j] > zs[first_max]) first_max = j;
    double m = zs[first_max];
    double sum = 0.0;
    for (int j = 0; j < k; j++) sum += exp(zs[j] - m);
    double lse = m + log(sum);
    int t = labels[s];
    loss += lse - zs[t];
    if (first_max == t) right++;
    if (dz)
      for (int j = 0; j < k; j++)
        dz[(long)s * k + j] = (exp(zs[j] - lse) - (j == t ? 1.0 : 0.0)) / (double)n;
  }
  if (correct) *correct = right;
  return loss / (double)n;
}
