/* Residual connections and global average pooling (docs/INTERNALS.md "add",
 * "global_avgpool"). Tensors are NHWC. The 1-D kernels take one work-item per
 * element and guard i < count (launches round the global size up). */

/* y = x + skip over count elements. */
__kernel void add_forward(__global const float *x, __global const float *skip, __global float *y,
                          int count) {
  int i = get_global_id(0);
  if (i >= count) return;
  y[i] = x[i] + skip[i];
}

/* dst += src over count elements (the skip gradient accumulators). */
__kernel void add_into(__global float *dst, __global const float *src, int count) {
  int i = get_global_id(0);
  if (i >= count) return;
  dst[i] += src[i];
}

/* The pixels of a stride-S 1x1 projection: xs [N, OH, OW, C] (written) from
 * x [N, H, W, C], xs[n, oh, ow, c] = x[n, oh*S, ow*S, c]; work-item (c, ow, n*OH + oh). */
__kernel void skip_gather(__global const float *x, __global float *xs, int N, int H, int W, int C,
                          int OH, int OW, int S) {
  size_t c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int n = t / OH;
  int oh = t - n * OH;
  if (n >= N || ow >= OW || c >= (size_t)C) return;
  xs[(size_t)(t * OW + ow) * C + c] = x[(size_t)((n * H + oh * S) * W + ow * S) * C + c];
}

/* The reverse of skip_gather: dx[n, oh*S, ow*S, c] += dxs[n, oh, ow, c]; other
 * pixels of dx are left alone. Each work-item owns one pixel of dx: no races. */
__kernel void skip_scatter_add(__global const float *dxs, __global float *dx, int N, int H, int W,
                               int C, int OH, int OW, int S) {
  size_t c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int n = t / OH;
  int oh = t - n * OH;
  if (n >= N || ow >= OW || c >= (size_t)C) return;
  dx[(size_t)((n * H + oh * S) * W + ow * S) * C + c] += dxs[(size_t)(t * OW + ow) * C + c];
}

/* y [N, C] = mean over the P = H*W pixels of x [N, P, C]; inv = 1 / P;
 * work-item (c, n). Consecutive c read consecutive addresses. */
__kernel void global_avgpool_forward(__global const float *x, __global float *y, int N, int P,
                                     int C, float inv) {
  int c = get_global_id(0);
  int n = get_global_id(1);
  if (n >= N || c >= C) return;
  __global const float *row = x + (size_t)n * P * C + c;
  float sum = 0.0f;
  for (int p = 0; p < P; p++) sum += row[(size_t)p * C];
  y[(size_t)n * C + c] = sum * inv;
}

/* dx [N, P, C] (written) = dy [N, C] * inv at every pixel; work-item (c, p, n). */
__kernel void global_avgpool_backward(__global const float *dy, __global float *dx, int N, int P,
                                      int C, float inv) {
  int c = get_global_id(0);
  int p = get_global_id(1);
  int n = get_global_id(2);
  if (n >= N || p >= P || c >= C) return;
  dx[((size_t)n * P + p) * C + c] = dy[(size_t)n * C + c] * inv;
}
