/* Bias, fused activation and their gradients, shared by conv and dense
 * (docs/INTERNALS.md "conv", "dense", "Activations"). A layer's output is a
 * row-major matrix [rows, cols]: rows = output pixels (or samples), cols =
 * filters (or units). act is a CLT_ACT_* code from common.clh, alpha the
 * leaky_relu slope. */

/* y [rows, cols] = act(y + b[col]) in place; count = rows * cols. b is read
 * only when has_bias is 1 (it may then be any buffer otherwise). */
__kernel void bias_act_forward(__global float *y, __global const float *b, int count, int cols,
                               int has_bias, int act, float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  float z = y[i];
  if (has_bias) z += b[i % cols];
  y[i] = clt_act(act, z, alpha);
}

/* dy [count] *= act'(y) in place: dy becomes dz, the gradient before the
 * activation. The derivative is taken from the output y. */
__kernel void act_backward_inplace(__global float *dy, __global const float *y, int count, int act,
                                   float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  dy[i] *= clt_act_grad(act, y[i], alpha);
}

/* db [cols] += column sums of dz [rows, cols]. No atomics: one work-group per
 * tile of tc adjacent columns (tc a power of two dividing the local size L,
 * also a power of two). Work-item lid handles column lid % tc of the tile and
 * lane lid / tc of lanes = L / tc: it sums rows lane, lane + lanes, ...; the
 * tc work-items of one lane read tc consecutive floats of a row (coalesced).
 * The lanes are then added by a tree in local memory part [L]. */
__kernel void bias_grad(__global const float *dz, __global float *db, int rows, int cols, int tc,
                        __local float *part) {
  int lid = get_local_id(0);
  int lanes = (int)get_local_size(0) / tc;
  int lane = lid / tc;
  int f = (int)get_group_id(0) * tc + lid % tc;
  float s = 0.0f;
  if (f < cols)
    for (int r = lane; r < rows; r += lanes) s += dz[r * cols + f];
  part[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int h = lanes / 2; h > 0; h /= 2) {
    if (lane < h) part[lid] += part[lid + h * tc];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lane == 0 && f < cols) db[f] += part[lid];
}
