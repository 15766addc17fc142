/* Implicit-GEMM convolution over NHWC (docs/INTERNALS.md "conv", "implicit"): the three
 * products of a conv layer computed with the K loop walking (kh, kw, c) in x itself, no
 * im2col matrix. Each work-item holds a register tile of float vectors (work-group 1: on
 * PoCL each work-item is then plain SIMD code, as in cl/gemm_cpu.cl). Built per layer with
 * the shape as constants (src/nn/layers/conv_implicit.c):
 *   CI_K, CI_S     window size and stride
 *   CI_C, CI_F     input channels and filters
 *   CI_FV, CI_NV   filters per vector (divides CI_F) and vectors per work-item (forward,
 *                  weight gradient; CI_FV * CI_NV divides CI_F)
 *   CI_PM          output pixels per forward work-item
 *   CI_CV, CI_CN   channels per vector (divides CI_C) and vectors per input-gradient
 *                  work-item (CI_CV * CI_CN divides CI_C)
 *   CI_DM          input pixels per input-gradient work-item
 *   CI_TM          consecutive channels of one tap per weight-gradient work-item
 *                  (divides CI_C)
 *   BIAS_ACT       the activation fused into the forward's store (CLT_ACT_* code)
 * x is [N, H, W, C]; y, dz are [R, F] with R = N*OH*OW; W is [F, KKC] with taps in
 * (kh, kw, c) order; pt, pl the top and left padding. A tap outside x (padding) reads from
 * zero, max(C, F) zeros, instead of masking every product.
 * Every sum runs over its K in a fixed order with fma: the same bits on every run.
 * A plain build (no options: `cltrain check`'s build rows) gets one small variant. */
#ifndef CI_K
#define CI_K     3
#define CI_S     1
#define CI_C     4
#define CI_F     8
#define CI_FV    4
#define CI_NV    2
#define CI_PM    4
#define CI_CV    4
#define CI_CN    1
#define CI_DM    4
#define CI_TM    2
#define BIAS_ACT CLT_ACT_RELU
#endif

#define CI_KKC (CI_K * CI_K * CI_C)

#define CI_CAT_(a, b) a##b
#define CI_CAT(a, b)  CI_CAT_(a, b)
#if CI_FV == 1
#define FVEC         float
#define FLOAD(p)     (*(p))
#define FSTORE(v, p) (*(p) = (v))
#else
#define FVEC         CI_CAT(float, CI_FV)
#define FLOAD(p)     CI_CAT(vload, CI_FV)(0, p)
#define FSTORE(v, p) CI_CAT(vstore, CI_FV)(v, 0, p)
#endif
#if CI_CV == 1
#define CVEC         float
#define CLOAD(p)     (*(p))
#define CSTORE(v, p) (*(p) = (v))
#else
#define CVEC         CI_CAT(float, CI_CV)
#define CLOAD(p)     CI_CAT(vload, CI_CV)(0, p)
#define CSTORE(v, p) CI_CAT(vstore, CI_CV)(v, 0, p)
#endif

inline FVEC ci_act(FVEC z, float alpha) {
#if BIAS_ACT == CLT_ACT_RELU
  return fmax(z, (FVEC)0.0f);
#elif BIAS_ACT == CLT_ACT_LEAKY_RELU
  return select(alpha * z, z, z > (FVEC)0.0f);
#elif BIAS_ACT == CLT_ACT_SIGMOID
  return 1.0f / (1.0f + exp(-z));
#elif BIAS_ACT == CLT_ACT_TANH
  return tanh(z);
#else
  return z;
#endif
}

/* W arrives transposed to wt [KKC, F] (conv_weights_transpose, cl/conv_shared.cl). */

/* y [R, F] (written) = act(b + x * W^T): work-item (pb, fb) computes output pixels
 * r = pb*PM .. pb*PM + PM - 1 (the last ones clamped, not stored) and filters
 * fb*FV*NV .. + FV*NV - 1. b is read only when has_bias is 1. */
__kernel void conv_implicit_forward(__global const float *x, __global const float *wt,
                                    __global const float *b, __global float *y,
                                    __global const float *zero, int rows, int H, int W, int OH,
                                    int OW, int pt, int pl, int has_bias, float alpha) {
  int pb = get_global_id(0);
  int f0 = get_global_id(1) * (CI_FV * CI_NV);
  int r0 = pb * CI_PM;
  if (r0 >= rows || f0 >= CI_F) return;
  int ih0[CI_PM], iw0[CI_PM];
  __global const float *xb[CI_PM];
#pragma unroll
  for (int p = 0; p < CI_PM; p++) {
    uint r = (uint)min(r0 + p, rows - 1);
    uint t = r / (uint)OW; /* n*OH + oh; unsigned: see cl/conv.cl's col2im */
    uint ow = r - t * (uint)OW;
    uint n = t / (uint)OH;
    uint oh = t - n * (uint)OH;
    ih0[p] = (int)oh * CI_S - pt;
    iw0[p] = (int)ow * CI_S - pl;
    xb[p] = x + (size_t)n * H * W * CI_C;
  }
  FVEC acc[CI_PM][CI_NV];
#pragma unroll
  for (int p = 0; p < CI_PM; p++)
#pragma unroll
    for (int v = 0; v < CI_NV; v++) acc[p][v] = (FVEC)0.0f;
  for (int kh = 0; kh < CI_K; kh++)
    for (int kw = 0; kw < CI_K; kw++) {
      /* Each pixel's C channels of this tap, or CI_C zeros for a tap in the padding: no
       * mask in the loop below. */
      __global const float *src[CI_PM];
#pragma unroll
      for (int p = 0; p < CI_PM; p++) {
        int ih = ih0[p] + kh, iw = iw0[p] + kw;
        int ok = ih >= 0 && ih < H && iw >= 0 && iw < W;
        src[p] = ok ? xb[p] + (ih * W + iw) * CI_C : zero;
      }
      __global const float *wk = wt + (size_t)(kh * CI_K + kw) * CI_C * CI_F + f0;
      for (int c = 0; c < CI_C; c++) {
        FVEC bv[CI_NV];
#pragma unroll
        for (int v = 0; v < CI_NV; v++) bv[v] = FLOAD(wk + c * CI_F + v * CI_FV);
#pragma unroll
        for (int p = 0; p < CI_PM; p++) {
          float a = src[p][c];
#pragma unroll
          for (int v = 0; v < CI_NV; v++) acc[p][v] = fma((FVEC)a, bv[v], acc[p][v]);
        }
      }
    }
  FVEC bias[CI_NV];
#pragma unroll
  for (int v = 0; v < CI_NV; v++) bias[v] = has_bias ? FLOAD(b + f0 + v * CI_FV) : (FVEC)0.0f;
#pragma unroll
  for (int p = 0; p < CI_PM; p++)
    if (r0 + p < rows) {
#pragma unroll
      for (int v = 0; v < CI_NV; v++)
        FSTORE(ci_act(acc[p][v] + bias[v], alpha), y + (size_t)(r0 + p) * CI_F + f0 + v * CI_FV);
    }
}

/* dx [N, H, W, C] (written) = the transposed convolution of dz [R, F] with W: work-item
 * (ib, cb) computes input pixels i = ib*DM .. + DM - 1 (i = (n*H + ih)*W + iw; the last
 * ones clamped, not stored) and channels cb*CV*CN .. + CV*CN - 1, summing over the taps
 * (kh, kw) whose output pixel oh = (ih + pt - kh) / S (exact, in range; likewise ow)
 * exists, then over the filters. */
__kernel void conv_implicit_dx(__global const float *dz, __global const float *w,
                               __global float *dx, __global const float *zero, int inputs, int H,
                               int W, int OH, int OW, int pt, int pl) {
  int ib = get_global_id(0);
  int c0 = get_global_id(1) * (CI_CV * CI_CN);
  int i0 = ib * CI_DM;
  if (i0 >= inputs || c0 >= CI_C) return;
  int ph[CI_DM], pw[CI_DM];
  __global const float *db[CI_DM];
#pragma unroll
  for (int p = 0; p < CI_DM; p++) {
    uint i = (uint)min(i0 + p, inputs - 1);
    uint t = i / (uint)W; /* n*H + ih */
    uint iw = i - t * (uint)W;
    uint n = t / (uint)H;
    uint ih = t - n * (uint)H;
    ph[p] = (int)ih + pt;
    pw[p] = (int)iw + pl;
    db[p] = dz + (size_t)n * OH * OW * CI_F;
  }
  CVEC acc[CI_DM][CI_CN];
#pragma unroll
  for (int p = 0; p < CI_DM; p++)
#pragma unroll
    for (int v = 0; v < CI_CN; v++) acc[p][v] = (CVEC)0.0f;
  for (int kh = 0; kh < CI_K; kh++)
    for (int kw = 0; kw < CI_K; kw++) {
      /* Each pixel's F gradients of the output pixel this tap reaches, or CI_F zeros. */
      __global const float *src[CI_DM];
      int any = 0;
#pragma unroll
      for (int p = 0; p < CI_DM; p++) {
        int a = ph[p] - kh, b = pw[p] - kw;
        /* a, b >= 0 before the unsigned division (exact when the remainder is 0). */
        uint oh = (uint)max(a, 0) / CI_S, ow = (uint)max(b, 0) / CI_S;
        int ok = a >= 0 && b >= 0 && (int)oh * CI_S == a && (int)ow * CI_S == b && (int)oh < OH &&
                 (int)ow < OW;
        src[p] = ok ? db[p] + ((int)oh * OW + (int)ow) * CI_F : zero;
        any |= ok;
      }
      if (!any) continue; /* strides > 1: taps no pixel of the tile receives */
      __global const float *wk = w + (kh * CI_K + kw) * CI_C + c0;
      for (int f = 0; f < CI_F; f++) {
        CVEC bv[CI_CN];
#pragma unroll
        for (int v = 0; v < CI_CN; v++) bv[v] = CLOAD(wk + (size_t)f * CI_KKC + v * CI_CV);
#pragma unroll
        for (int p = 0; p < CI_DM; p++) {
          float a = src[p][f];
#pragma unroll
          for (int v = 0; v < CI_CN; v++) acc[p][v] = fma((CVEC)a, bv[v], acc[p][v]);
        }
      }
    }
#pragma unroll
  for (int p = 0; p < CI_DM; p++)
    if (i0 + p < inputs) {
#pragma unroll
      for (int v = 0; v < CI_CN; v++)
        CSTORE(acc[p][v], dx + (size_t)(i0 + p) * CI_C + c0 + v * CI_CV);
    }
}

/* The weight gradient's chunk sums: work-item (tb, fb, k) sums, over output pixels
 * r = k*chunk .. min((k+1)*chunk, R) - 1, dz[r, f] * x(r, tap) for TM consecutive
 * channels of one tap (tap block tb: (kh, kw) = tb / (C/TM), c0 = (tb % (C/TM))*TM) and
 * filters fb*FV*NV .. + FV*NV - 1, into part [chunks, KKC, F]. conv_implicit_reduce adds
 * the chunks in order: no atomics. */
__kernel void conv_implicit_dw(__global const float *x, __global const float *dz,
                               __global float *part, int H, int W, int OH, int OW, int pt, int pl,
                               int rows, int chunk) {
  int tb = get_global_id(0);
  int f0 = get_global_id(1) * (CI_FV * CI_NV);
  int k = get_global_id(2);
  int r0 = k * chunk;
  if (tb >= CI_K * CI_K * (CI_C / CI_TM) || f0 >= CI_F || r0 >= rows) return;
  int r1 = min(r0 + chunk, rows);
  int khw = tb / (CI_C / CI_TM);
  int c0 = (tb - khw * (CI_C / CI_TM)) * CI_TM;
  int kh = khw / CI_K, kw = khw - (khw / CI_K) * CI_K;
  FVEC acc[CI_TM][CI_NV];
#pragma unroll
  for (int q = 0; q < CI_TM; q++)
#pragma unroll
    for (int v = 0; v < CI_NV; v++) acc[q][v] = (FVEC)0.0f;
  uint ut = (uint)r0 / (uint)OW; /* unsigned: see cl/conv.cl's col2im */
  int ow = (int)((uint)r0 - ut * (uint)OW);
  uint un = ut / (uint)OH;
  int oh = (int)(ut - un * (uint)OH);
  int n = (int)un;
  for (int r = r0; r < r1; r++) {
    int ih = oh * CI_S - pt + kh, iw = ow * CI_S - pl + kw;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
      __global const float *xp = x + ((size_t)(n * H + ih) * W + iw) * CI_C + c0;
      FVEC d[CI_NV];
#pragma unroll
      for (int v = 0; v < CI_NV; v++) d[v] = FLOAD(dz + (size_t)r * CI_F + f0 + v * CI_FV);
#pragma unroll
      for (int q = 0; q < CI_TM; q++) {
        float a = xp[q];
#pragma unroll
        for (int v = 0; v < CI_NV; v++) acc[q][v] = fma((FVEC)a, d[v], acc[q][v]);
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
  __global float *pk = part + ((size_t)k * CI_KKC + khw * CI_C + c0) * CI_F + f0;
#pragma unroll
  for (int q = 0; q < CI_TM; q++)
#pragma unroll
    for (int v = 0; v < CI_NV; v++) FSTORE(acc[q][v], pk + q * CI_F + v * CI_FV);
}

/* conv_implicit_reduce (cl/conv_shared.cl) then adds part's chunks into dW. */
