/* maxpool and avgpool over NHWC, square window K, stride S, no padding
 * (docs/INTERNALS.md "maxpool, avgpool"). One work-item per output element in
 * forward; backward is a gather: one work-item per input element sums the dy of
 * every window that covers it (correct for overlapping windows, no atomics).
 *
 * Every kernel is a 3-D launch (c, column, t) with the channel c in dimension 0
 * and t = n * rows + row: the pixel arithmetic depends on dimensions 1 and 2
 * only, so CPU devices do it once per pixel (dimension 0 is their innermost,
 * vectorised loop) and GPUs read and write consecutive channels. As in conv.cl,
 * the guard tests the sample n (the one division by a run-time value) first, c
 * stays 64-bit in addresses and the window loops have compile-time trip counts,
 * so that CPU compilers hoist the pixel arithmetic and vectorise over channels. */

/* K and S: the pooling layer builds this file with -DPOOL_K=<K> -DPOOL_S=<S>, so
 * the window loops have constant trip counts and are unrolled (POOL_UNROLL);
 * without them (a plain build of every file) the kernel arguments are used. */
#ifdef POOL_K
#define POOL_UNROLL _Pragma("unroll")
#else
#define POOL_K K
#define POOL_S S
#define POOL_UNROLL
#endif

/* Input row h lies in the windows of output rows oh = h / S - a at offset kh =
 * h % S + a * S, for a = 0 .. POOL_TAPS - 1 with kh < K and 0 <= oh < OH. */
#define POOL_TAPS ((POOL_K + POOL_S - 1) / POOL_S)

/* x [N, H, W, C] -> y [N, OH, OW, C]; work-item (c, ow, n*OH + oh).
 * argmax [N, OH, OW, C] (the saved buffer read as int): offset kh * K + kw of the
 * first maximum (strict >) in scan order; written only when save is 1 (training). */
__kernel void maxpool_forward(__global const float *x, __global float *y, __global int *argmax,
                              int save, int N, int H, int W, int C, int OH, int OW, int K,
                              int S) {
  size_t c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int n = t / OH; /* before the guard */
  int oh = t - n * OH;
  if (n >= N || ow >= OW || c >= (size_t)C) return;
  size_t base = (size_t)((n * H + oh * POOL_S) * W + ow * POOL_S) * C + c;
  float best = x[base];
  int at = 0;
  POOL_UNROLL
  for (int kh = 0; kh < POOL_K; kh++)
    POOL_UNROLL
    for (int kw = 0; kw < POOL_K; kw++) {
      float v = x[base + (size_t)((kh * W + kw) * C)];
      if (v > best) {
        best = v;
        at = kh * POOL_K + kw;
      }
    }
  size_t o = (size_t)(t * OW + ow) * C + c;
  y[o] = best;
  if (save) argmax[o] = at;
}

/* dx [N, H, W, C] (written) = sum of dy over the windows whose argmax is this
 * element, in (oh, ow) order; work-item (c, w, n*H + h). Any K and S. */
__kernel void maxpool_backward(__global const float *dy, __global const int *argmax,
                               __global float *dx, int N, int H, int W, int C, int OH, int OW,
                               int K, int S) {
  size_t c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H; /* before the guard */
  int h = t - n * H;
  int oh0 = h / POOL_S, ow0 = w / POOL_S;
  int kh0 = h - oh0 * POOL_S, kw0 = w - ow0 * POOL_S;
  if (n >= N || w >= W || c >= (size_t)C) return;
  float sum = 0.0f;
  POOL_UNROLL
  for (int a = POOL_TAPS - 1; a >= 0; a--) {
    int kh = kh0 + a * POOL_S, oh = oh0 - a;
    if (kh >= POOL_K || oh < 0 || oh >= OH) continue;
    POOL_UNROLL
    for (int b = POOL_TAPS - 1; b >= 0; b--) {
      int kw = kw0 + b * POOL_S, ow = ow0 - b;
      if (kw >= POOL_K || ow < 0 || ow >= OW) continue;
      size_t o = (size_t)((n * OH + oh) * OW + ow) * C + c;
      if (argmax[o] == kh * POOL_K + kw) sum += dy[o];
    }
  }
  dx[(size_t)(t * W + w) * C + c] = sum;
}

/* As maxpool_backward for windows that do not overlap (S >= K): input (h, w) lies
 * in at most one window, oh = h / S and ow = w / S, at offset (h % S, w % S)
 * when both are < K (and that window exists). */
__kernel void maxpool_backward_disjoint(__global const float *dy, __global const int *argmax,
                                        __global float *dx, int N, int H, int W, int C, int OH,
                                        int OW, int K, int S) {
  size_t c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H; /* before the guard */
  int h = t - n * H;
  int oh = h / POOL_S, ow = w / POOL_S;
  int kh = h - oh * POOL_S, kw = w - ow * POOL_S;
  if (n >= N || w >= W || c >= (size_t)C) return;
  float v = 0.0f;
  if (kh < POOL_K && kw < POOL_K && oh < OH && ow < OW) { /* window (oh, ow) holds it */
    size_t o = (size_t)((n * OH + oh) * OW + ow) * C + c;
    if (argmax[o] == kh * POOL_K + kw) v = dy[o];
  }
  dx[(size_t)(t * W + w) * C + c] = v;
}

/* y = mean over the K*K window; inv_area = 1 / (K*K). Work-item (c, ow, n*OH + oh). */
__kernel void avgpool_forward(__global const float *x, __global float *y, int N, int H, int W,
                              int C, int OH, int OW, int K, int S, float inv_area) {
  size_t c = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int n = t / OH; /* before the guard */
  int oh = t - n * OH;
  if (n >= N || ow >= OW || c >= (size_t)C) return;
  size_t base = (size_t)((n * H + oh * POOL_S) * W + ow * POOL_S) * C + c;
  float sum = 0.0f;
  POOL_UNROLL
  for (int kh = 0; kh < POOL_K; kh++)
    POOL_UNROLL
    for (int kw = 0; kw < POOL_K; kw++) sum += x[base + (size_t)((kh * W + kw) * C)];
  y[(size_t)(t * OW + ow) * C + c] = sum * inv_area;
}

/* dx (written) = sum over the windows covering this element of dy / (K*K), in
 * (oh, ow) order. Work-item (c, w, n*H + h). */
__kernel void avgpool_backward(__global const float *dy, __global float *dx, int N, int H, int W,
                               int C, int OH, int OW, int K, int S, float inv_area) {
  size_t c = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H; /* before the guard */
  int h = t - n * H;
  int oh0 = h / POOL_S, ow0 = w / POOL_S;
  int kh0 = h - oh0 * POOL_S, kw0 = w - ow0 * POOL_S;
  if (n >= N || w >= W || c >= (size_t)C) return;
  float sum = 0.0f;
  POOL_UNROLL
  for (int a = POOL_TAPS - 1; a >= 0; a--) {
    int oh = oh0 - a;
    if (kh0 + a * POOL_S >= POOL_K || oh < 0 || oh >= OH) continue;
    POOL_UNROLL
    for (int b = POOL_TAPS - 1; b >= 0; b--) {
      int ow = ow0 - b;
      if (kw0 + b * POOL_S >= POOL_K || ow < 0 || ow >= OW) continue;
      sum += dy[(size_t)((n * OH + oh) * OW + ow) * C + c];
    }
  }
  dx[(size_t)(t * W + w) * C + c] = sum * inv_area;
}

/* Vector variants of maxpool_forward and maxpool_backward_disjoint for C a multiple of
 * POOL_V (4, 8 or 16; the layer picks the widest that divides C): work-item dimension 0
 * walks vectors of POOL_V channels, so each one is a vector load, compare and select
 * (explicit SIMD on CPUs, wide accesses on GPUs). Same results as the scalar kernels:
 * the first maximum in scan order (strict >), NaN never replacing the running best. */
#ifndef POOL_V
#define POOL_V 4
#endif
#define POOL_CAT_(a, b) a##b
#define POOL_CAT(a, b) POOL_CAT_(a, b)
#define POOL_FV POOL_CAT(float, POOL_V)
#define POOL_IV POOL_CAT(int, POOL_V)
#define POOL_VLOAD(p) POOL_CAT(vload, POOL_V)(0, p)
#define POOL_VSTORE(v, p) POOL_CAT(vstore, POOL_V)(v, 0, p)

__kernel void maxpool_forward_vec(__global const float *x, __global float *y,
                                  __global int *argmax, int save, int N, int H, int W, int C,
                                  int OH, int OW, int K, int S) {
  int cv = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int n = t / OH;
  int oh = t - n * OH;
  int c = cv * POOL_V;
  if (n >= N || ow >= OW || c >= C) return;
  size_t base = (size_t)((n * H + oh * POOL_S) * W + ow * POOL_S) * C + c;
  POOL_FV best = POOL_VLOAD(x + base);
  POOL_IV at = (POOL_IV)0;
  POOL_UNROLL
  for (int kh = 0; kh < POOL_K; kh++)
    POOL_UNROLL
    for (int kw = 0; kw < POOL_K; kw++) {
      POOL_FV v = POOL_VLOAD(x + base + (size_t)((kh * W + kw) * C));
      POOL_IV greater = v > best;
      best = select(best, v, greater);
      at = select(at, (POOL_IV)(kh * POOL_K + kw), greater);
    }
  size_t o = (size_t)(t * OW + ow) * C + c;
  POOL_VSTORE(best, y + o);
  if (save) POOL_VSTORE(at, argmax + o);
}

__kernel void maxpool_backward_disjoint_vec(__global const float *dy, __global const int *argmax,
                                            __global float *dx, int N, int H, int W, int C,
                                            int OH, int OW, int K, int S) {
  int cv = get_global_id(0);
  int w = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H;
  int h = t - n * H;
  int oh = h / POOL_S, ow = w / POOL_S;
  int kh = h - oh * POOL_S, kw = w - ow * POOL_S;
  int c = cv * POOL_V;
  if (n >= N || w >= W || c >= C) return;
  POOL_FV v = (POOL_FV)0.0f;
  if (kh < POOL_K && kw < POOL_K && oh < OH && ow < OW) {
    size_t o = (size_t)((n * OH + oh) * OW + ow) * C + c;
    v = select((POOL_FV)0.0f, POOL_VLOAD(dy + o),
               POOL_VLOAD(argmax + o) == (POOL_IV)(kh * POOL_K + kw));
  }
  POOL_VSTORE(v, dx + (size_t)(t * W + w) * C + c);
}
