/* Bias, fused activation and their gradients, shared by conv and dense
 * (docs/INTERNALS.md "conv", "dense", "Activations"). A layer's output is a
 * row-major matrix [rows, cols]: rows = output pixels (or samples), cols =
 * filters (or units). act is a CLT_ACT_* code from common.clh, alpha the
 * leaky_relu slope.
 *
 * Launches are 2-D or 3-D with the column (the contiguous index) in dimension
 * 0: CPU devices run dimension 0 as the innermost, vectorised loop of a
 * work-group; GPUs read consecutive floats with neighbouring work-items. */

/* y [rows, cols] = act(y + b[col]) in place; work-item (col, row). b is read
 * only when has_bias is 1 (it may then be any buffer otherwise). */
__kernel void bias_act_forward(__global float *y, __global const float *b, int rows, int cols,
                               int has_bias, int act, float alpha) {
  int f = get_global_id(0);
  int r = get_global_id(1);
  if (f >= cols || r >= rows) return;
  int i = r * cols + f;
  float z = y[i];
  if (has_bias) z += b[f];
  y[i] = clt_act(act, z, alpha);
}

/* dy [count] *= act'(y) in place: dy becomes dz, the gradient before the
 * activation. The derivative is taken from the output y. 1-D. */
__kernel void act_backward_inplace(__global float *dy, __global const float *y, int count, int act,
                                   float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  dy[i] *= clt_act_grad(act, y[i], alpha);
}

/* Column sums of a [rows, cols] matrix by chunks of rows, deterministic and
 * without atomics. Work-item (f, g): g = get_group_id(1) (the launch has local
 * size 1 in dimensions 1 and 2) is a chunk of rows [g*chunk, min((g+1)*chunk,
 * rows)), summed in row order for column f into out[g * cols + f] (written, or
 * added when accumulate is 1). The loop bounds are the same for every work-item
 * of a group, so a CPU device can run the group's columns as vectors inside it.
 *
 * With act != CLT_ACT_LINEAR the matrix is dz = dy * act'(y), made here in place
 * in dy (the act_backward_inplace of the same elements, fused into this pass);
 * with CLT_ACT_LINEAR, y is not read (it may be any buffer) and dy is not written.
 *
 * bias_grad of dz [rows, cols] is one launch (out = db, accumulate 1) when one
 * chunk holds every row, else two: chunk sums into a scratch [G, cols], then the
 * sums of its G rows into db. */
__kernel void col_sums(__global float *dy, __global const float *y, __global float *out, int rows,
                       int cols, int chunk, int accumulate, int act, float alpha) {
  int f = get_global_id(0);
  int g = get_group_id(1);
  int r0 = g * chunk;
  int r1 = min(r0 + chunk, rows);
  float s = 0.0f;
  if (act == CLT_ACT_LINEAR) {
    for (int r = r0; r < r1; r++)
      if (f < cols) s += dy[r * cols + f];
  } else {
    for (int r = r0; r < r1; r++)
      if (f < cols) {
        int i = r * cols + f;
        float z = dy[i] * clt_act_grad(act, y[i], alpha);
        dy[i] = z;
        s += z;
      }
  }
  if (f < cols && r0 < rows) {
    int o = g * cols + f;
    out[o] = accumulate ? out[o] + s : s;
  }
}
