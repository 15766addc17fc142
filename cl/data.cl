/* Batch assembly on the device from a data set uploaded once. */

/* x[s, j] = images[order[start + s], j]; labels_out[s] = labels[order[start + s]]
 * for s < n, j < sample. One work-item per float of the batch. */
__kernel void gather_batch(__global const float *images, __global const int *labels,
                           __global const int *order, int start, int n, int sample,
                           __global float *x, __global int *labels_out) {
  int gid = get_global_id(0);
  if (gid >= n * sample) return;
  int s = gid / sample;
  int j = gid - s * sample;
  int idx = order[start + s];
  x[gid] = images[(long)idx * sample + j];
  if (j == 0) labels_out[s] = labels[idx];
}
