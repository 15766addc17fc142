/* Inverted dropout with the shared counter-based generator (INTERNALS.md "dropout"). */
#include "ref/ref.h"

#include "runtime/rng.h"

int clt_ref_dropout_keep(uint32_t seed, uint32_t stream, uint32_t i, double rate) {
  /* Compared in float, as the device kernel does: clt_uniform is a float and the kernel
   * receives the rate as a float. */
  return clt_uniform(seed, stream, i) >= (float)rate;
}

void clt_ref_dropout_forward(double rate, int training, uint32_t seed, uint32_t stream, long count,
                             const double *x, double *y) {
  for (long i = 0; i < count; i++) {
    if (!training)
      y[i] = x[i];
    else
      y[i] = clt_ref_dropout_keep(seed, stream, (uint32_t)i, rate) ? x[i] / (1.0 - rate) : 0.0;
  }
}

void clt_ref_dropout_backward(double rate, int training, uint32_t seed, uint32_t stream, long count,
                              const double *dy, double *dx) {
  for (long i = 0; i < count; i++) {
    if (!training)
      dx[i] = dy[i];
    else
      dx[i] = clt_ref_dropout_keep(seed, stream, (uint32_t)i, rate) ? dy[i] / (1.0 - rate) : 0.0;
  }
}
