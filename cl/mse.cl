/* The regression head: mean squared error (nn/layers/mse.c).
 *
 * mse_forward: one work-item per sample; copies the prediction to y, and with targets
 * writes the per-sample squared error and absolute error (the same saved layout as
 * cl/softmax.cl, so softmax_xent_reduce adds the batch sums: loss sum, and in the
 * "correct" slot the sum of absolute errors), and in training the input gradient
 * dx = 2 (x - t) / N. Targets are the float bits of the labels buffer. */

__kernel void mse_forward(__global const float *x,       /* [N] predictions */
                          __global float *y,             /* [N] */
                          __global const float *targets, /* [N]; used when has_targets */
                          int has_targets,
                          __global float *saved, /* [2N]; used when has_targets */
                          __global float *dx,    /* [N]; used when write_dx */
                          int write_dx, int n,
                          int divisor /* samples the loss averages over: N, or the global batch */) {
  int s = (int)get_global_id(0);
  if (s >= n) return;
  float p = x[s];
  y[s] = p;
  if (!has_targets) return;
  float e = p - targets[s];
  saved[s] = e * e;
  saved[n + s] = fabs(e);
  if (write_dx) dx[s] = 2.0f * e / (float)divisor;
}
