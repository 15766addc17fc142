/* maxpool and avgpool over NHWC, square window K, stride S, no padding
 * (docs/INTERNALS.md "maxpool, avgpool"). One work-item per output element in
 * forward; backward is a gather: one work-item per input element sums the dy of
 * every window that covers it (correct for overlapping windows, no atomics).
 *
 * Every kernel is a 3-D launch (c, column, t) with the channel c in dimension 0
 * and t = n * rows + row: the pixel arithmetic depends on dimensions 1 and 2
 * only, so CPU devices do it once per pixel (dimension 0 is their innermost,
 * vectorised loop) and GPUs read and write consecutive channels. */

/* The output rows oh whose window [oh*S, oh*S + K) covers input row h, as
 * [*lo, *hi] (empty when *lo > *hi). */
inline void pool_cover(int h, int K, int S, int OH, int *lo, int *hi) {
  *lo = h < K ? 0 : (h - K) / S + 1;
  *hi = min(h / S, OH - 1);
}

/* x [N, H, W, C] -> y [N, OH, OW, C]; work-item (c, ow, n*OH + oh). argmax
 * [N, OH, OW, C] (the saved buffer read as int): offset kh * K + kw of the first
 * maximum (strict >) in scan order; written only when save is 1 (training). */
__kernel void maxpool_forward(__global const float *x, __global float *y, __global int *argmax,
                              int save, int NOH, int H, int W, int C, int OH, int OW, int K,
                              int S) {
  int c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || ow >= OW || t >= NOH) return;
  int n = t / OH;
  int oh = t - n * OH;
  int base = ((n * H + oh * S) * W + ow * S) * C + c;
  float best = x[base];
  int at = 0;
  for (int kh = 0; kh < K; kh++)
    for (int kw = 0; kw < K; kw++) {
      float v = x[base + (kh * W + kw) * C];
      if (v > best) {
        best = v;
        at = kh * K + kw;
      }
    }
  int o = (t * OW + ow) * C + c;
  y[o] = best;
  if (save) argmax[o] = at;
}

/* dx [N, H, W, C] (written) = sum of dy over the windows whose argmax is this
 * element; work-item (c, w, n*H + h). General form: any K and S. */
__kernel void maxpool_backward(__global const float *dy, __global const int *argmax,
                               __global float *dx, int NH, int H, int W, int C, int OH, int OW,
                               int K, int S) {
  int c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || w >= W || t >= NH) return;
  int n = t / H;
  int h = t - n * H;
  int oh_lo, oh_hi, ow_lo, ow_hi;
  pool_cover(h, K, S, OH, &oh_lo, &oh_hi);
  pool_cover(w, K, S, OW, &ow_lo, &ow_hi);
  float sum = 0.0f;
  for (int oh = oh_lo; oh <= oh_hi; oh++)
    for (int ow = ow_lo; ow <= ow_hi; ow++) {
      int o = ((n * OH + oh) * OW + ow) * C + c;
      if (argmax[o] == (h - oh * S) * K + (w - ow * S)) sum += dy[o];
    }
  dx[(t * W + w) * C + c] = sum;
}

/* As maxpool_backward for windows that do not overlap (S >= K): input (h, w) lies
 * in at most one window, oh = h / S and ow = w / S, at offset (h % S, w % S)
 * when both are < K (and that window exists). */
__kernel void maxpool_backward_disjoint(__global const float *dy, __global const int *argmax,
                                        __global float *dx, int NH, int H, int W, int C, int OH,
                                        int OW, int K, int S) {
  int c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || w >= W || t >= NH) return;
  int n = t / H;
  int h = t - n * H;
  int oh = h / S, ow = w / S;
  int kh = h - oh * S, kw = w - ow * S;
  int o = -1; /* the output whose window holds this input, if any */
  if (kh < K && kw < K && oh < OH && ow < OW) o = ((n * OH + oh) * OW + ow) * C + c;
  float v = 0.0f;
  if (o >= 0 && argmax[o] == kh * K + kw) v = dy[o];
  dx[(t * W + w) * C + c] = v;
}

/* y = mean over the K*K window; inv_area = 1 / (K*K). Work-item (c, ow, n*OH + oh). */
__kernel void avgpool_forward(__global const float *x, __global float *y, int NOH, int H, int W,
                              int C, int OH, int OW, int K, int S, float inv_area) {
  int c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || ow >= OW || t >= NOH) return;
  int n = t / OH;
  int oh = t - n * OH;
  int base = ((n * H + oh * S) * W + ow * S) * C + c;
  float sum = 0.0f;
  for (int kh = 0; kh < K; kh++)
    for (int kw = 0; kw < K; kw++) sum += x[base + (kh * W + kw) * C];
  y[(t * OW + ow) * C + c] = sum * inv_area;
}

/* dx (written) = sum over the windows covering this element of dy / (K*K).
 * Work-item (c, w, n*H + h). */
__kernel void avgpool_backward(__global const float *dy, __global float *dx, int NH, int H, int W,
                               int C, int OH, int OW, int K, int S, float inv_area) {
  int c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || w >= W || t >= NH) return;
  int n = t / H;
  int h = t - n * H;
  int oh_lo, oh_hi, ow_lo, ow_hi;
  pool_cover(h, K, S, OH, &oh_lo, &oh_hi);
  pool_cover(w, K, S, OW, &ow_lo, &ow_hi);
  float sum = 0.0f;
  for (int oh = oh_lo; oh <= oh_hi; oh++)
    for (int ow = ow_lo; ow <= ow_hi; ow++) sum += dy[((n * OH + oh) * OW + ow) * C + c];
  dx[(t * W + w) * C + c] = sum * inv_area;
}
