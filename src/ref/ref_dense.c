/* Dense layer, W [U,I] row-major (INTERNALS.md "dense"). */
#include "ref/ref.h"

void clt_ref_dense_forward(const clt_ref_dense *p, int n, int inputs, const double *x,
                           const double *W, const double *b, double *y) {
  int U = p->units, I = inputs;
  for (int s = 0; s < n; s++)
    for (int u = 0; u < U; u++) {
      double z = p->bias ? b[u] : 0.0;
      for (int i = 0; i < I; i++) z += x[(long)s * I + i] * W[(long)u * I + i];
      y[(long)s * U + u] = clt_ref_act(p->act, p->alpha, z);
    }
}

void clt_ref_dense_backward(const clt_ref_dense *p, int n, int inputs, const double *x,
                            const double *W, const double *y, const double *dy, double *dx,
                            double *dW, double *db) {
  int U = p->units, I = inputs;
  for (long j = 0; j < (long)n * I; j++) dx[j] = 0.0;
  for (int s = 0; s < n; s++)
    for (int u = 0; u < U; u++) {
      long o = (long)s * U + u;
      double dz = dy[o] * clt_ref_act_grad(p->act, p->alpha, y[o]);
      if (p->bias) db[u] += dz;
      for (int i = 0; i < I; i++) {
        dW[(long)u * I + i] += dz * x[(long)s * I + i];
        dx[(long)s * I + i] += dz * W[(long)u * I + i];
      }
    }
}
