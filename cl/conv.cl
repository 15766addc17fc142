/* im2col and col2im for the conv layer (docs/INTERNALS.md "conv").
 * x and dx are [N, H, W, C] (NHWC); col and dcol are [N*OH*OW, K*K*C]: row =
 * output pixel (n, oh, ow), columns in (kh, kw, c) order. pt and pl are the
 * top and left padding; the bottom and right padding need no argument because
 * positions past the input read as 0.
 *
 * Both are 3-D launches with the contiguous index in dimension 0 and the pixel
 * in dimensions 1 and 2, so that the divisions that split a pixel index are
 * done once per pixel, not once per element: on CPU devices (PoCL) dimension 0
 * is the innermost, vectorised loop of a work-group and code that depends only
 * on dimensions 1 and 2 is hoisted out of it; on GPUs neighbouring work-items
 * touch neighbouring floats. Three details make this work on CPUs:
 * - the one division by a run-time value (the sample n of a pixel row) comes
 *   first and the guard tests n before the channel: a division under a
 *   condition that depends on dimension 0 cannot leave its loop (it might
 *   trap), and compilers sink a division to where it is used;
 * - the dimension-0 index stays 64-bit in addresses (a 32-bit index widened per
 *   element hides that the addresses are consecutive: gathers, not vector loads);
 * - the kernel body has no loop of its own with a run-time trip count (the
 *   vectoriser takes the innermost loop), hence the window size and stride as
 *   compile-time constants below. */

/* K and S: the conv layer builds this file with -DCONV_K=<K> -DCONV_S=<S>, so
 * loops over the window have constant trip counts and are unrolled (CONV_UNROLL:
 * the vectoriser needs them gone); without them (a plain build of every file)
 * the kernel arguments K and S are used. */
#ifdef CONV_K
#define CONV_UNROLL _Pragma("unroll")
#else
#define CONV_K K
#define CONV_S S
#define CONV_UNROLL
#endif

/* col (written) from x. Work-item (j, ow*K + kh, t) with j = kw*C + c in [0, K*C)
 * and t = n*OH + oh writes entry (row t*OW + ow, column kh*K*C + j). For fixed
 * (row, kh) the K*C entries j are a contiguous run of x (input columns iw0 ..
 * iw0 + K - 1 of row ih), so j needs no division: it is inside the input exactly
 * when iw0*C + j is in [0, W*C). */
__kernel void im2col(__global const float *x, __global float *col, int N, int H, int W, int C,
                     int OH, int OW, int K, int S, int pt, int pl) {
  size_t j = get_global_id(0);
  int d1 = get_global_id(1);
  int t = get_global_id(2);
  int ow = d1 / CONV_K;
  int kh = d1 - ow * CONV_K;
  int n = t / OH; /* before the guard (see the top) */
  int oh = t - n * OH;
  int kc = CONV_K * C;
  if (n >= N || ow >= OW || j >= (size_t)kc) return;
  int ih = oh * CONV_S - pt + kh;
  long xw = (long)((ow * CONV_S - pl) * C) + (long)j; /* offset within input row ih */
  float v = 0.0f;
  if (ih >= 0 && ih < H && xw >= 0 && xw < W * C) v = x[(long)((n * H + ih) * W * C) + xw];
  col[(size_t)(((t * OW + ow) * CONV_K + kh) * kc) + j] = v;
}

/* dx (written) from dcol: a gather, one work-item (c, iw, t) per input element
 * (t = n*H + ih), summing every dcol entry (oh, ow, kh, kw) that read it:
 * ih + pt = oh*S + kh and iw + pl = ow*S + kw with 0 <= kh, kw < K. The kh that
 * qualify are kh0 + a*S (kh0 = (ih + pt) % S, a = 0, 1, ...) with kh < K and oh in
 * [0, OH); likewise kw. Summed in (kh, kw) order. No atomics. */
__kernel void col2im(__global const float *dcol, __global float *dx, int N, int H, int W, int C,
                     int OH, int OW, int K, int S, int pt, int pl) {
  size_t c = get_global_id(0);
  int iw = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H; /* before the guard (see the top) */
  int ih = t - n * H;
  int ph = ih + pt, pw = iw + pl; /* position in the padded input, >= 0 */
  /* Unsigned division, the remainder by subtraction (ph, pw >= 0): a signed / and % pair
   * compiles to LLVM's freeze instruction, which Oclgrind 21.10 cannot run under
   * --uninitialized (docs/PORTABILITY.md). */
  int oh0 = (int)((uint)ph / CONV_S), ow0 = (int)((uint)pw / CONV_S); /* the oh of kh0, ... */
  int kh0 = ph - oh0 * CONV_S, kw0 = pw - ow0 * CONV_S;
  if (n >= N || iw >= W || c >= (size_t)C) return;
  int kc = CONV_K * C, kkc = CONV_K * kc;
  int taps = (CONV_K + CONV_S - 1) / CONV_S; /* candidates per dimension */
  float s = 0.0f;
  CONV_UNROLL
  for (int a = 0; a < taps; a++) {
    int kh = kh0 + a * CONV_S, oh = oh0 - a;
    if (kh >= CONV_K || oh < 0 || oh >= OH) continue;
    CONV_UNROLL
    for (int b = 0; b < taps; b++) {
      int kw = kw0 + b * CONV_S, ow = ow0 - b;
      if (kw >= CONV_K || ow < 0 || ow >= OW) continue;
      s += dcol[(size_t)(((n * OH + oh) * OW + ow) * kkc + kh * kc + kw * C) + c];
    }
  }
  dx[(size_t)(t * W + iw) * C + c] = s;
}

/* Vector variants of im2col and col2im for C a multiple of CONV_V (4, 8 or 16; the
 * layer picks the widest that divides C): work-item dimension 0 walks vectors of CONV_V
 * channels, so each work-item moves CONV_V floats with one load and one store and a
 * vector never straddles two taps (all of it is inside the input, or all padding). On
 * CPUs this does not depend on the implicit vectoriser; on GPUs it is a wide load. */
#ifndef CONV_V
#define CONV_V 4
#endif
#define CONV_CAT_(a, b) a##b
#define CONV_CAT(a, b) CONV_CAT_(a, b)
#define CONV_VEC CONV_CAT(float, CONV_V)
#define CONV_VLOAD(p) CONV_CAT(vload, CONV_V)(0, p)
#define CONV_VSTORE(v, p) CONV_CAT(vstore, CONV_V)(v, 0, p)

/* im2col with work-item (jv, ow*K + kh, t): entries j = jv*CONV_V .. + CONV_V - 1. */
__kernel void im2col_vec(__global const float *x, __global float *col, int N, int H, int W,
                         int C, int OH, int OW, int K, int S, int pt, int pl) {
  int jv = get_global_id(0);
  int d1 = get_global_id(1);
  int t = get_global_id(2);
  int ow = d1 / CONV_K;
  int kh = d1 - ow * CONV_K;
  int n = t / OH;
  int oh = t - n * OH;
  int kc = CONV_K * C;
  int j = jv * CONV_V;
  if (n >= N || ow >= OW || j >= kc) return;
  int ih = oh * CONV_S - pt + kh;
  int xw = (ow * CONV_S - pl) * C + j; /* offset within input row ih */
  CONV_VEC v = (CONV_VEC)0.0f;
  if (ih >= 0 && ih < H && xw >= 0 && xw < W * C)
    v = CONV_VLOAD(x + (size_t)((n * H + ih) * W) * C + xw);
  CONV_VSTORE(v, col + (size_t)(((t * OW + ow) * CONV_K + kh) * kc) + j);
}

/* col2im with work-item (cv, iw, t): channels cv*CONV_V .. + CONV_V - 1 of one input
 * pixel, the same gather and order as col2im. */
__kernel void col2im_vec(__global const float *dcol, __global float *dx, int N, int H, int W,
                         int C, int OH, int OW, int K, int S, int pt, int pl) {
  int cv = get_global_id(0);
  int iw = get_global_id(1);
  int t = get_global_id(2);
  int n = t / H;
  int ih = t - n * H;
  int c = cv * CONV_V;
  if (n >= N || iw >= W || c >= C) return;
  int ph = ih + pt, pw = iw + pl;
  int kh0 = ph % CONV_S, kw0 = pw % CONV_S;
  int oh0 = ph / CONV_S, ow0 = pw / CONV_S;
  int kc = CONV_K * C, kkc = CONV_K * kc;
  int taps = (CONV_K + CONV_S - 1) / CONV_S;
  CONV_VEC s = (CONV_VEC)0.0f;
  CONV_UNROLL
  for (int a = 0; a < taps; a++) {
    int kh = kh0 + a * CONV_S, oh = oh0 - a;
    if (kh >= CONV_K || oh < 0 || oh >= OH) continue;
    CONV_UNROLL
    for (int b = 0; b < taps; b++) {
      int kw = kw0 + b * CONV_S, ow = ow0 - b;
      if (kw >= CONV_K || ow < 0 || ow >= OW) continue;
      s += CONV_VLOAD(dcol + (size_t)(((n * OH + oh) * OW + ow) * kkc + kh * kc + kw * C) + c);
    }
  }
  CONV_VSTORE(s, dx + (size_t)(t * W + iw) * C + c);
}
