/* Batch normalisation over N, H, W per channel (docs/INTERNALS.md "batchnorm").
 * x is viewed as [M, C] with M = N*H*W rows. saved [4C]: mean, inv_std = 1 / sqrt(var
 * + eps) (forward, training), then sum(dy), sum(dy * xhat) (backward). state [2C]:
 * running_mean, running_var. */

/* The per-channel sums run in two stages, the same on every device: batchnorm_partial sums
 * a chunk of R rows per work-item (channels side by side in dimension 0, so neighbouring
 * work-items read neighbouring floats), batchnorm_finalize adds the G chunks of a channel
 * in chunk order. partial [G, C] (and [G, C] more for the second sum of `what` 2).
 * what: 0 sum x; 1 sum (x - mean)^2 with mean = saved[c]; 2 sum dy and sum dy * xhat. */
__kernel void batchnorm_partial(__global const float *x, __global const float *dy,
                                __global const float *saved, __global float *partial, int M,
                                int C, int R, int G, int what) {
  int c = get_global_id(0), g = get_global_id(1);
  if (c >= C || g >= G) return;
  int first = g * R, end = min(M, first + R);
  float s = 0.0f, t = 0.0f;
  if (what == 0) {
    for (int j = first; j < end; j++) s += x[(size_t)j * C + c];
  } else if (what == 1) {
    float mean = saved[c];
    for (int j = first; j < end; j++) {
      float d = x[(size_t)j * C + c] - mean;
      s += d * d;
    }
  } else {
    float mean = saved[c], inv_std = saved[C + c];
    for (int j = first; j < end; j++) {
      size_t i = (size_t)j * C + c;
      s += dy[i];
      t += dy[i] * ((x[i] - mean) * inv_std);
    }
    partial[(size_t)G * C + (size_t)g * C + c] = t;
  }
  partial[(size_t)g * C + c] = s;
}

/* what 0: saves the batch mean. 1: saves inv_std = 1 / sqrt(var + eps) (biased variance)
 * and updates the running statistics in place. 2: dbeta[c] += sum dy, dgamma[c] += sum dy *
 * xhat, both also saved for batchnorm_backward_dx. */
__kernel void batchnorm_finalize(__global const float *partial, __global float *saved,
                                 __global float *state, __global float *dgamma,
                                 __global float *dbeta, int M, int C, int G, float momentum,
                                 float epsilon, int what) {
  int c = get_global_id(0);
  if (c >= C) return;
  float s = 0.0f, t = 0.0f;
  for (int g = 0; g < G; g++) s += partial[(size_t)g * C + c];
  if (what == 0) {
    saved[c] = s / (float)M;
  } else if (what == 1) {
    float var = s / (float)M;
    saved[C + c] = 1.0f / sqrt(var + epsilon);
    state[c] = momentum * state[c] + (1.0f - momentum) * saved[c];
    state[C + c] = momentum * state[C + c] + (1.0f - momentum) * var;
  } else {
    for (int g = 0; g < G; g++) t += partial[(size_t)G * C + (size_t)g * C + c];
    dbeta[c] += s;
    dgamma[c] += t;
    saved[2 * C + c] = s;
    saved[3 * C + c] = t;
  }
}

/* The elementwise kernels run on a 2-D range [C, M] (channel, row): no index division.
 * Training: y [M, C] = gamma * (x - mean) * inv_std + beta with the saved batch statistics. */
__kernel void batchnorm_apply(__global const float *x, __global float *y,
                              __global const float *gamma, __global const float *beta,
                              __global const float *saved, int M, int C) {
  int c = get_global_id(0), j = get_global_id(1);
  if (c >= C || j >= M) return;
  size_t i = (size_t)j * C + c;
  y[i] = gamma[c] * ((x[i] - saved[c]) * saved[C + c]) + beta[c];
}

/* Inference: as batchnorm_apply with the running statistics. */
__kernel void batchnorm_infer(__global const float *x, __global float *y,
                              __global const float *gamma, __global const float *beta,
                              __global const float *state, int M, int C, float epsilon) {
  int c = get_global_id(0), j = get_global_id(1);
  if (c >= C || j >= M) return;
  size_t i = (size_t)j * C + c;
  float inv_std = 1.0f / sqrt(state[C + c] + epsilon);
  y[i] = gamma[c] * ((x[i] - state[c]) * inv_std) + beta[c];
}

/* dx (written) = gamma * inv_std / M * (M * dy - sum dy - xhat * sum(dy * xhat)),
 * evaluated as gamma * inv_std * (dy - (sum dy + xhat * sum(dy * xhat)) / M). */
__kernel void batchnorm_backward_dx(__global const float *x, __global const float *dy,
                                    __global const float *gamma, __global const float *saved,
                                    __global float *dx, int M, int C, float inv_m) {
  int c = get_global_id(0), j = get_global_id(1);
  if (c >= C || j >= M) return;
  size_t i = (size_t)j * C + c;
  float inv_std = saved[C + c];
  float xhat = (x[i] - saved[c]) * inv_std;
  dx[i] = gamma[c] * inv_std * (dy[i] - (saved[2 * C + c] + xhat * saved[3 * C + c]) * inv_m);
}
