/* Batch normalisation over N, H, W per channel (docs/INTERNALS.md "batchnorm").
 * x is viewed as [M, C] with M = N*H*W rows. saved [4C]: mean, inv_std = 1 / sqrt(var
 * + eps) (forward, training), then sum(dy), sum(dy * xhat) (backward). state [2C]:
 * running_mean, running_var. The reductions run one work-group per channel; the
 * work-group size must be a power of two (the host picks it). */

/* Sum of v over the work-group, returned to every work-item. scratch holds one float
 * per work-item. */
inline float bn_group_sum(__local float *scratch, float v) {
  int lid = get_local_id(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int span = (int)get_local_size(0) / 2; span > 0; span >>= 1) {
    if (lid < span) scratch[lid] += scratch[lid + span];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float sum = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE); /* scratch is reused by the next call */
  return sum;
}

/* Training: batch mean and biased variance (two passes) of channel c = group id;
 * saves mean and inv_std; updates the running statistics in place. */
__kernel void batchnorm_stats(__global const float *x, __global float *saved, __global float *state,
                              int M, int C, float momentum, float epsilon, __local float *scratch) {
  int c = get_group_id(0);
  if (c >= C) return; /* whole group: no barrier is skipped by part of it */
  int lid = get_local_id(0), L = get_local_size(0);
  float s = 0.0f;
  for (int j = lid; j < M; j += L) s += x[(size_t)j * C + c];
  float mean = bn_group_sum(scratch, s) / (float)M;
  float q = 0.0f;
  for (int j = lid; j < M; j += L) {
    float d = x[(size_t)j * C + c] - mean;
    q += d * d;
  }
  float var = bn_group_sum(scratch, q) / (float)M;
  if (lid == 0) {
    saved[c] = mean;
    saved[C + c] = 1.0f / sqrt(var + epsilon);
    state[c] = momentum * state[c] + (1.0f - momentum) * mean;
    state[C + c] = momentum * state[C + c] + (1.0f - momentum) * var;
  }
}

/* Training: y [M, C] = gamma * (x - mean) * inv_std + beta with the saved batch statistics. */
__kernel void batchnorm_apply(__global const float *x, __global float *y,
                              __global const float *gamma, __global const float *beta,
                              __global const float *saved, int total, int C) {
  int i = get_global_id(0);
  if (i >= total) return;
  int c = i % C;
  y[i] = gamma[c] * ((x[i] - saved[c]) * saved[C + c]) + beta[c];
}

/* Inference: as batchnorm_apply with the running statistics. */
__kernel void batchnorm_infer(__global const float *x, __global float *y,
                              __global const float *gamma, __global const float *beta,
                              __global const float *state, int total, int C, float epsilon) {
  int i = get_global_id(0);
  if (i >= total) return;
  int c = i % C;
  float inv_std = 1.0f / sqrt(state[C + c] + epsilon);
  y[i] = gamma[c] * ((x[i] - state[c]) * inv_std) + beta[c];
}

/* Backward, one work-group per channel: dbeta[c] += sum dy, dgamma[c] += sum dy * xhat;
 * both sums are also saved for batchnorm_backward_dx. */
__kernel void batchnorm_backward_reduce(__global const float *x, __global const float *dy,
                                        __global float *saved, __global float *dgamma,
                                        __global float *dbeta, int M, int C,
                                        __local float *scratch) {
  int c = get_group_id(0);
  if (c >= C) return;
  int lid = get_local_id(0), L = get_local_size(0);
  float mean = saved[c], inv_std = saved[C + c];
  float s = 0.0f, sx = 0.0f;
  for (int j = lid; j < M; j += L) {
    size_t i = (size_t)j * C + c;
    s += dy[i];
    sx += dy[i] * ((x[i] - mean) * inv_std);
  }
  float sum_dy = bn_group_sum(scratch, s);
  float sum_dy_xhat = bn_group_sum(scratch, sx);
  if (lid == 0) {
    dbeta[c] += sum_dy;
    dgamma[c] += sum_dy_xhat;
    saved[2 * C + c] = sum_dy;
    saved[3 * C + c] = sum_dy_xhat;
  }
}

/* dx (written) = gamma * inv_std / M * (M * dy - sum dy - xhat * sum(dy * xhat)),
 * evaluated as gamma * inv_std * (dy - (sum dy + xhat * sum(dy * xhat)) / M). */
__kernel void batchnorm_backward_dx(__global const float *x, __global const float *dy,
                                    __global const float *gamma, __global const float *saved,
                                    __global float *dx, int total, int C, float inv_m) {
  int i = get_global_id(0);
  if (i >= total) return;
  int c = i % C;
  float inv_std = saved[C + c];
  float xhat = (x[i] - saved[c]) * inv_std;
  dx[i] = gamma[c] * inv_std * (dy[i] - (saved[2 * C + c] + xhat * saved[3 * C + c]) * inv_m);
}
