/* maxpool and avgpool over NHWC, square window K, stride S, no padding
 * (docs/INTERNALS.md "maxpool, avgpool"). One work-item per output element in
 * forward; backward is a gather: one work-item per input element sums the dy of
 * every window that covers it (correct for overlapping windows, no atomics). */

/* The output rows oh whose window [oh*S, oh*S + K) covers input row h, as
 * [*lo, *hi] (empty when *lo > *hi). */
inline void pool_cover(int h, int K, int S, int OH, int *lo, int *hi) {
  int first = h - K + 1;
  *lo = first <= 0 ? 0 : (first + S - 1) / S;
  *hi = min(h / S, OH - 1);
}

/* x [N, H, W, C] -> y [N, OH, OW, C]. argmax [N, OH, OW, C] (the saved buffer read
 * as int): offset kh * K + kw of the first maximum (strict >) in scan order; written
 * only when save is 1 (training). */
__kernel void maxpool_forward(__global const float *x, __global float *y, __global int *argmax,
                              int save, int total, int H, int W, int C, int OH, int OW, int K,
                              int S) {
  int o = get_global_id(0);
  if (o >= total) return;
  int c = o % C;
  int t = o / C;
  int ow = t % OW;
  t /= OW;
  int oh = t % OH;
  int n = t / OH;
  __global const float *base = x + (((size_t)n * H + oh * S) * W + ow * S) * C + c;
  float best = base[0];
  int at = 0;
  for (int kh = 0; kh < K; kh++)
    for (int kw = 0; kw < K; kw++) {
      float v = base[((size_t)kh * W + kw) * C];
      if (v > best) {
        best = v;
        at = kh * K + kw;
      }
    }
  y[o] = best;
  if (save) argmax[o] = at;
}

/* dx [N, H, W, C] (written) = sum of dy over the windows whose argmax is this element. */
__kernel void maxpool_backward(__global const float *dy, __global const int *argmax,
                               __global float *dx, int total, int H, int W, int C, int OH, int OW,
                               int K, int S) {
  int i = get_global_id(0);
  if (i >= total) return;
  int c = i % C;
  int t = i / C;
  int w = t % W;
  t /= W;
  int h = t % H;
  int n = t / H;
  int oh_lo, oh_hi, ow_lo, ow_hi;
  pool_cover(h, K, S, OH, &oh_lo, &oh_hi);
  pool_cover(w, K, S, OW, &ow_lo, &ow_hi);
  float sum = 0.0f;
  for (int oh = oh_lo; oh <= oh_hi; oh++)
    for (int ow = ow_lo; ow <= ow_hi; ow++) {
      size_t o = (((size_t)n * OH + oh) * OW + ow) * C + c;
      int at = argmax[o];
      if (oh * S + at / K == h && ow * S + at % K == w) sum += dy[o];
    }
  dx[i] = sum;
}

/* y = mean over the K*K window; inv_area = 1 / (K*K). */
__kernel void avgpool_forward(__global const float *x, __global float *y, int total, int H, int W,
                              int C, int OH, int OW, int K, int S, float inv_area) {
  int o = get_global_id(0);
  if (o >= total) return;
  int c = o % C;
  int t = o / C;
  int ow = t % OW;
  t /= OW;
  int oh = t % OH;
  int n = t / OH;
  __global const float *base = x + (((size_t)n * H + oh * S) * W + ow * S) * C + c;
  float sum = 0.0f;
  for (int kh = 0; kh < K; kh++)
    for (int kw = 0; kw < K; kw++) sum += base[((size_t)kh * W + kw) * C];
  y[o] = sum * inv_area;
}

/* dx (written) = sum over the windows covering this element of dy / (K*K). */
__kernel void avgpool_backward(__global const float *dy, __global float *dx, int total, int H,
                               int W, int C, int OH, int OW, int K, int S, float inv_area) {
  int i = get_global_id(0);
  if (i >= total) return;
  int c = i % C;
  int t = i / C;
  int w = t % W;
  t /= W;
  int h = t % H;
  int n = t / H;
  int oh_lo, oh_hi, ow_lo, ow_hi;
  pool_cover(h, K, S, OH, &oh_lo, &oh_hi);
  pool_cover(w, K, S, OW, &ow_lo, &ow_hi);
  float sum = 0.0f;
  for (int oh = oh_lo; oh <= oh_hi; oh++)
    for (int ow = ow_lo; ow <= ow_hi; ow++) sum += dy[(((size_t)n * OH + oh) * OW + ow) * C + c];
  dx[i] = sum * inv_area;
}
