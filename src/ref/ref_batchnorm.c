/* Batch normalisation over N, H, W per channel, Keras conventions
 * (INTERNALS.md "batchnorm"). */
#include "ref/ref.h"

#include <math.h>

/* Biased batch mean and variance of channel c over the M = N*H*W values. */
static void channel_stats(clt_ref_shape in, const double *x, int c, double *mean, double *var) {
  long M = (long)in.n * in.h * in.w;
  double s = 0.0;
  for (long j = 0; j < M; j++) s += x[j * in.c + c];
  double mu = s / (double)M;
  double q = 0.0;
  for (long j = 0; j < M; j++) q += (x[j * in.c + c] - mu) * (x[j * in.c + c] - mu);
  *mean = mu;
  *var = q / (double)M;
}

void clt_ref_batchnorm_forward(const clt_ref_batchnorm *p, clt_ref_shape in, int training,
                               const double *x, const double *gamma, const double *beta,
                               double *running_mean, double *running_var, double *y,
                               double *batch_mean, double *batch_var) {
  long M = (long)in.n * in.h * in.w; /* rows of the [M, C] view of NHWC */
  for (int c = 0; c < in.c; c++) {
    double mean, var;
    if (training) {
      channel_stats(in, x, c, &mean, &var);
      running_mean[c] = p->momentum * running_mean[c] + (1.0 - p->momentum) * mean;
      running_var[c] = p->momentum * running_var[c] + (1.0 - p->momentum) * var;
      if (batch_mean) batch_mean[c] = mean;
      if (batch_var) batch_var[c] = var;
    } else {
      mean = running_mean[c];
      var = running_var[c];
    }
    double inv = 1.0 / sqrt(var + p->epsilon);
    for (long j = 0; j < M; j++) {
      double xhat = (x[j * in.c + c] - mean) * inv;
      y[j * in.c + c] = gamma[c] * xhat + beta[c];
    }
  }
}

void clt_ref_batchnorm_backward(const clt_ref_batchnorm *p, clt_ref_shape in, const double *x,
                                const double *gamma, const double *dy, double *dx, double *dgamma,
                                double *dbeta) {
  long M = (long)in.n * in.h * in.w;
  for (int c = 0; c < in.c; c++) {
    double mean, var;
    channel_stats(in, x, c, &mean, &var);
    double inv = 1.0 / sqrt(var + p->epsilon);
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (long j = 0; j < M; j++) {
      double xhat = (x[j * in.c + c] - mean) * inv;
      sum_dy += dy[j * in.c + c];
      sum_dy_xhat += dy[j * in.c + c] * xhat;
    }
    dbeta[c] += sum_dy;
    dgamma[c] += sum_dy_xhat;
    for (long j = 0; j < M; j++) {
      double xhat = (x[j * in.c + c] - mean) * inv;
      dx[j * in.c + c] =
          gamma[c] * inv / (double)M * ((double)M * dy[j * in.c + c] - sum_dy - xhat * sum_dy_xhat);
    }
  }
}
