/* The non-finite-loss guard of the training loop (src/train/trainer.c): after each
 * step's forward pass, one work-item looks at the head's NONFINITE metric flag and
 * records the first global step at which it was set. The host reads the guard with
 * the metrics, so no step waits for it. */

/* metrics: CLT_METRIC_FLOATS accumulators (src/nn/metrics.h; [3] is the flag).
 * guard[0]: 0 while every loss so far was finite, else the 1-based global step of the
 * first non-finite one (kept until the host zeroes it). */
__kernel void nonfinite_guard(__global const float *metrics, __global uint *guard, uint step) {
  if (get_global_id(0) != 0) return;
  if (metrics[3] > 0.0f && guard[0] == 0u) guard[0] = step;
}
