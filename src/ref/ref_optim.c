/* One optimizer step over a flat parameter vector (INTERNALS.md "Optimizers"). */
#include "ref/ref.h"

#include <math.h>

void clt_ref_sgd_step(const clt_ref_sgd *p, double lr, long n, double *w, const double *g,
                      double *v) {
  double mu = p->momentum;
  for (long i = 0; i < n; i++) {
    double gp = g[i] + p->weight_decay * w[i];
    if (mu == 0.0) {
      w[i] -= lr * gp;
    } else {
      v[i] = mu * v[i] + gp;
      w[i] -= lr * (p->nesterov ? gp + mu * v[i] : v[i]);
    }
  }
}

/* The Adam update proper, with g' given. */
static void adam_update(const clt_ref_adam *p, double lr, long t, double *w, double gp, double *m,
                        double *v) {
  double c1 = 1.0 - pow(p->beta1, (double)t);
  double c2 = 1.0 - pow(p->beta2, (double)t);
  *m = p->beta1 * *m + (1.0 - p->beta1) * gp;
  *v = p->beta2 * *v + (1.0 - p->beta2) * gp * gp;
  *w -= lr * (*m / c1) / (sqrt(*v / c2) + p->epsilon);
}

void clt_ref_adam_step(const clt_ref_adam *p, double lr, long t, long n, double *w, const double *g,
                       double *m, double *v) {
  for (long i = 0; i < n; i++)
    adam_update(p, lr, t, &w[i], g[i] + p->weight_decay * w[i], &m[i], &v[i]);
}

void clt_ref_adamw_step(const clt_ref_adam *p, double lr, long t, long n, double *w,
                        const double *g, double *m, double *v) {
  for (long i = 0; i < n; i++) {
    w[i] -= lr * p->weight_decay * w[i]; /* decoupled decay, applied first */
    adam_update(p, lr, t, &w[i], g[i], &m[i], &v[i]);
  }
}
