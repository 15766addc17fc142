/* Device-side training metrics: the loss head accumulates into a small float
 * buffer that the host reads back every few steps, never every step. */
#ifndef CLT_NN_METRICS_H
#define CLT_NN_METRICS_H

enum {
  CLT_METRIC_LOSS_SUM = 0,  /* sum over samples of the per-sample loss */
  CLT_METRIC_CORRECT = 1,   /* number of samples classified correctly */
  CLT_METRIC_COUNT = 2,     /* number of samples */
  CLT_METRIC_NONFINITE = 3, /* > 0 once any per-sample loss was NaN or infinite */
  CLT_METRIC_FLOATS = 4
};

#endif
