/* Bias, fused activation and their gradients, shared by conv and dense
 * (docs/INTERNALS.md "conv", "dense", "Activations"). A layer's output is a
 * row-major matrix [rows, cols]: rows = output pixels (or samples), cols =
 * filters (or units). act is a CLT_ACT_* code from common.clh, alpha the
 * leaky_relu slope.
 *
 * Launches are 2-D or 3-D with the column (the contiguous index) in dimension
 * 0: CPU devices run dimension 0 as the innermost, vectorised loop of a
 * work-group; GPUs read consecutive floats with neighbouring work-items. The
 * column index stays 64-bit in addresses, so that CPU compilers see consecutive
 * addresses (see conv.cl). */

/* The activation: conv and dense build this file with -DBIAS_ACT=<CLT_ACT_* code>,
 * so that the switch in clt_act folds away (a switch in the body keeps CPU
 * compilers from vectorising); without it (a plain build of every file) the
 * kernel argument act is used. */
#ifndef BIAS_ACT
#define BIAS_ACT act
#endif

/* y [rows, cols] = act(y + b[col]) in place; work-item (col, 0, row). b is read
 * only when has_bias is 1 (it may then be any buffer otherwise). */
__kernel void bias_act_forward(__global float *y, __global const float *b, int rows, int cols,
                               int has_bias, int act, float alpha) {
  size_t f = get_global_id(0);
  int r = get_global_id(2);
  if (f >= (size_t)cols || r >= rows) return;
  size_t i = (size_t)r * cols + f;
  float z = y[i];
  if (has_bias) z += b[f];
  y[i] = clt_act(BIAS_ACT, z, alpha);
}

/* dy [count] *= act'(y) in place: dy becomes dz, the gradient before the
 * activation. The derivative is taken from the output y. 1-D. */
__kernel void act_backward_inplace(__global float *dy, __global const float *y, int count, int act,
                                   float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  dy[i] *= clt_act_grad(BIAS_ACT, y[i], alpha);
}

/* Column sums of a [rows, cols] matrix m by chunks of rows, deterministic and
 * without atomics. A work-group of TC x LANES work-items (f, lane) (LANES a power
 * of two; dimension 2 of size 1) sums chunk g = get_group_id(1), rows [g*chunk,
 * min((g+1)*chunk, rows)), of TC adjacent columns: lane l takes rows r0 + l,
 * r0 + l + LANES, ... (in four partial sums, by row mod 4 LANES), so that the
 * group reads LANES whole rows at a time
 * (coalesced on GPUs), then the lanes are added by a tree in local memory part
 * [TC * LANES]. The sum of column f goes to out[g * cols + f] (written, or added
 * when accumulate is 1).
 *
 * The row loop has the same bounds for the whole group and no condition on f
 * (a padding work-item reads column cols - 1 and discards its sum), so that a
 * CPU device can run it with the group's columns as vectors inside: a test of f
 * in the loop would be hoisted out of it by the compiler and hide that.
 *
 * bias_grad of dz [rows, cols] is one launch (out = db, accumulate 1) when one
 * chunk holds every row, else two: chunk sums into a scratch [G, cols], then the
 * sums of its G rows into db. */
__kernel void col_sums(__global const float *m, __global float *out, int rows, int cols, int chunk,
                       int accumulate, __local float *part) {
  size_t f = get_global_id(0);
  size_t fc = min(f, (size_t)cols - 1); /* clamped: see above */
  int tc = get_local_size(0);
  int lanes = get_local_size(1);
  int lane = get_local_id(1);
  int lid = lane * tc + (int)get_local_id(0);
  int g = get_group_id(1);
  int r0 = g * chunk;
  int r1 = min(r0 + chunk, rows);
  /* Four partial sums (rows r, r + LANES, r + 2 LANES, r + 3 LANES of each step) so
   * that a CPU running a work-item's loop alone is not held up by one chain of
   * dependent additions. */
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (int rr = r0; rr < r1; rr += 4 * lanes) {
    int r = rr + lane;
    size_t i = (size_t)r * cols + fc, step = (size_t)lanes * cols;
    if (r < r1) s0 += m[i];
    if (r + lanes < r1) s1 += m[i + step];
    if (r + 2 * lanes < r1) s2 += m[i + 2 * step];
    if (r + 3 * lanes < r1) s3 += m[i + 3 * step];
  }
  part[lid] = (s0 + s1) + (s2 + s3);
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int h = lanes / 2; h > 0; h /= 2) {
    if (lane < h) part[lid] += part[lid + h * tc];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lane == 0 && f < (size_t)cols && r0 < rows) {
    size_t o = (size_t)g * cols + f;
    out[o] = accumulate ? out[o] + part[lid] : part[lid];
  }
}
