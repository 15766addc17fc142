/* The loss head: softmax + cross-entropy, fused (docs/INTERNALS.md "softmax").
 *
 * softmax_xent_forward: one work-item per sample; writes the probabilities, the
 * per-sample loss and correctness, and (training) the input gradient, in one pass.
 * softmax_xent_reduce: one work-group; adds the batch sums into the metrics.
 *
 * saved layout (floats): [0, N) per-sample loss, [N, 2N) per-sample correct (0 or 1).
 *
 * A label outside [0, K) reads no logit: its loss is NaN (so the batch raises the
 * non-finite metric flag), it is not correct, and its gradient row is softmax / N
 * (no one-hot term). divisor is N, or the global batch when N samples are one shard of it
 * (data-parallel training: the shards' gradients then sum to the whole batch's). */

__kernel void softmax_xent_forward(__global const float *z,    /* [N, K] logits */
                                   __global float *y,          /* [N, K] probabilities */
                                   __global const int *labels, /* [N]; used when has_labels */
                                   int has_labels,
                                   __global float *saved, /* [2N]; used when has_labels */
                                   __global float *dz,    /* [N, K]; used when write_dz */
                                   int write_dz, int n, int k,
                                   int divisor /* samples the loss averages over (>= n) */) {
  int s = (int)get_global_id(0);
  if (s >= n) return;
  __global const float *zs = z + (size_t)s * (size_t)k;

  /* First maximum (strict >): the predicted class. A NaN logit makes sum NaN below. */
  int first_max = 0;
  float m = zs[0];
  for (int j = 1; j < k; j++) {
    float v = zs[j];
    if (v > m) {
      m = v;
      first_max = j;
    }
  }
  float sum = 0.0f;
  for (int j = 0; j < k; j++) sum += exp(zs[j] - m);
  float log_sum = log(sum);
  float inv_sum = 1.0f / sum;

  int t = -1;
  if (has_labels) {
    t = labels[s];
    int valid = t >= 0 && t < k;
    /* loss = lse - z[t] = log(sum) - (z[t] - m), without cancelling large m. */
    saved[s] = valid ? log_sum - (zs[t] - m) : NAN;
    saved[n + s] = (valid && first_max == t) ? 1.0f : 0.0f;
  }

  __global float *ys = y + (size_t)s * (size_t)k;
  float inv_n = 1.0f / (float)divisor;
  for (int j = 0; j < k; j++) {
    float p = exp(zs[j] - m) * inv_sum;
    ys[j] = p;
    if (write_dz) dz[(size_t)s * (size_t)k + j] = (p - (j == t ? 1.0f : 0.0f)) * inv_n;
  }
}

/* One work-group of local size L (a power of two). Work-item i first sums samples
 * i, i + L, i + 2L, ... in order, then a tree in local memory: the order of the
 * additions is fixed, so the sum is the same bit for bit on every run. */
__kernel void softmax_xent_reduce(__global const float *saved, /* [2N] */
                                  __global float *metrics,     /* CLT_METRIC_FLOATS */
                                  __local float *loss_part,    /* [L] */
                                  __local float *correct_part, /* [L] */
                                  int n) {
  int i = (int)get_local_id(0);
  int l = (int)get_local_size(0);
  float loss = 0.0f, correct = 0.0f;
  for (int s = i; s < n; s += l) {
    loss += saved[s];
    correct += saved[n + s];
  }
  loss_part[i] = loss;
  correct_part[i] = correct;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int width = l / 2; width > 0; width /= 2) {
    if (i < width) {
      loss_part[i] += loss_part[i + width];
      correct_part[i] += correct_part[i + width];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (i == 0) {
    float total = loss_part[0];
    metrics[0] += total;                     /* CLT_METRIC_LOSS_SUM */
    metrics[1] += correct_part[0];           /* CLT_METRIC_CORRECT */
    metrics[2] += (float)n;                  /* CLT_METRIC_COUNT */
    if (!isfinite(total)) metrics[3] = 1.0f; /* CLT_METRIC_NONFINITE */
  }
}
