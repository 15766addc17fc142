/* Direct convolution for layers with few input channels (docs/INTERNALS.md "conv",
 * "direct"): no im2col matrix, the window is read from x itself. Built only with the
 * shape as constants (src/nn/layers/conv_direct.c):
 *   CD_K, CD_S   window size and stride
 *   CD_C, CD_F   input channels and filters
 *   CD_FV        filters per vector (1, 2, 4, 8 or 16; divides CD_F)
 *   CD_GPW       groups of CD_FV filters per weight-gradient work-item
 *   CD_PW        output pixels of one row per forward work-item
 *   BIAS_ACT     the fused activation (CLT_ACT_* code)
 * so that every loop below has a constant trip count and is unrolled: the taps
 * (kh, kw, c) of one output pixel are CD_KKC scalars and the filters are vectors of
 * CD_FV, one accumulator vector per tap. CPUs (PoCL) then run each work-item as plain
 * SIMD code with no dependence on the implicit vectoriser. x is [N, H, W, C] (NHWC);
 * y, dy are [R, F] with R = N*OH*OW; W is [F, KKC] with taps in (kh, kw, c) order.
 * A plain build (no options: `cltrain check`'s build rows) gets one small variant. */
#ifndef CD_K
#define CD_K 3
#define CD_S 1
#define CD_C 1
#define CD_F 8
#define CD_FV 4
#define CD_GPW 2
#define CD_PW 2
#define BIAS_ACT CLT_ACT_RELU
#endif

#define CD_KKC (CD_K * CD_K * CD_C)
#define CD_GROUPS (CD_F / CD_FV)

#define CD_CAT_(a, b) a##b
#define CD_CAT(a, b) CD_CAT_(a, b)
#if CD_FV == 1
#define VEC float
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
#define VEC CD_CAT(float, CD_FV)
#define VLOAD(p) CD_CAT(vload, CD_FV)(0, p)
#define VSTORE(v, p) CD_CAT(vstore, CD_FV)(v, 0, p)
#endif

/* The activation of common.clh's clt_act / clt_act_grad, on a vector. */
inline VEC cd_act(VEC z, float alpha) {
#if BIAS_ACT == CLT_ACT_RELU
  return fmax(z, (VEC)0.0f);
#elif BIAS_ACT == CLT_ACT_LEAKY_RELU
  return select(alpha * z, z, z > (VEC)0.0f);
#elif BIAS_ACT == CLT_ACT_SIGMOID
  return 1.0f / (1.0f + exp(-z));
#elif BIAS_ACT == CLT_ACT_TANH
  return tanh(z);
#else
  return z;
#endif
}

inline VEC cd_act_grad(VEC y, float alpha) {
#if BIAS_ACT == CLT_ACT_RELU
  return select((VEC)0.0f, (VEC)1.0f, y > (VEC)0.0f);
#elif BIAS_ACT == CLT_ACT_LEAKY_RELU
  return select((VEC)alpha, (VEC)1.0f, y > (VEC)0.0f);
#elif BIAS_ACT == CLT_ACT_SIGMOID
  return y * (1.0f - y);
#elif BIAS_ACT == CLT_ACT_TANH
  return 1.0f - y * y;
#else
  return (VEC)1.0f;
#endif
}

/* W arrives transposed to wt [KKC, F] (conv_weights_transpose, cl/conv_shared.cl). */

/* y [R, F] (written) = act(b + sum over taps of x * W): work-item (ob, t), t = n*OH + oh,
 * computes output pixels ow = ob*PW .. ob*PW + PW - 1 of row (n, oh), every filter. The
 * window of those pixels is read once into xs; then, per group of CD_FV filters, the
 * weights of every tap are loaded once and used for all PW pixels. Taps outside the
 * input (padding) read 0. b is read only when has_bias is 1. */
__kernel void conv_direct_forward(__global const float *x, __global const float *wt,
                                  __global const float *b, __global float *y, int N, int H, int W,
                                  int OH, int OW, int pt, int pl, int has_bias, float alpha) {
  int ob = get_global_id(0);
  int t = get_global_id(1);
  int n = t / OH;
  int oh = t - n * OH;
  int ow0 = ob * CD_PW;
  if (n >= N || ow0 >= OW) return;
  __global const float *xn = x + (size_t)n * H * W * CD_C;
  float xs[CD_PW][CD_KKC];
#pragma unroll
  for (int p = 0; p < CD_PW; p++) {
    int iw0 = (ow0 + p) * CD_S - pl;
#pragma unroll
    for (int kh = 0; kh < CD_K; kh++) {
      int ih = oh * CD_S - pt + kh;
#pragma unroll
      for (int kw = 0; kw < CD_K; kw++) {
        int iw = iw0 + kw;
        int inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
#pragma unroll
        for (int c = 0; c < CD_C; c++)
          xs[p][(kh * CD_K + kw) * CD_C + c] = inside ? xn[(ih * W + iw) * CD_C + c] : 0.0f;
      }
    }
  }
  __global float *yr = y + ((size_t)t * OW + ow0) * CD_F;
  int pixels = min(CD_PW, OW - ow0);
#pragma unroll
  for (int g = 0; g < CD_GROUPS; g++) {
    VEC wv[CD_KKC];
#pragma unroll
    for (int tap = 0; tap < CD_KKC; tap++) wv[tap] = VLOAD(wt + tap * CD_F + g * CD_FV);
    VEC bias = has_bias ? VLOAD(b + g * CD_FV) : (VEC)0.0f;
#pragma unroll
    for (int p = 0; p < CD_PW; p++) {
      if (p < pixels) {
        VEC acc = bias;
#pragma unroll
        for (int tap = 0; tap < CD_KKC; tap++) acc += xs[p][tap] * wv[tap];
        VSTORE(cd_act(acc, alpha), yr + p * CD_F + g * CD_FV);
      }
    }
  }
}

/* The weight and bias gradients from chunks of output pixels, no im2col: work-item
 * (gg, k) walks rows r = k*chunk .. min((k+1)*chunk, R) - 1 for the CD_GPW groups of
 * CD_FV filters from group gg*CD_GPW, reads the row's window from x once into xs, forms
 * dz = dy * act'(y) (written back into dy when write_dz is 1, for an input gradient that
 * follows), and sums dz (the bias gradient) and dz * x(tap) for every tap. Its sums go
 * to part [chunks, KKC + 1, F]: part[k][tap][f], tap KKC being the bias.
 * conv_direct_reduce then adds the chunks in order: no atomics, the same bits on every
 * run. */
__kernel void conv_direct_wgrad(__global const float *x, __global float *dy,
                                __global const float *y, __global float *part, int H, int W,
                                int OH, int OW, int pt, int pl, int rows, int chunk, int write_dz,
                                float alpha) {
  int gg = get_global_id(0);
  int k = get_global_id(1);
  int r0 = k * chunk;
  if (gg >= CD_GROUPS / CD_GPW || r0 >= rows) return;
  int r1 = min(r0 + chunk, rows);
  VEC acc[CD_GPW][CD_KKC + 1];
#pragma unroll
  for (int q = 0; q < CD_GPW; q++)
#pragma unroll
    for (int tap = 0; tap <= CD_KKC; tap++) acc[q][tap] = (VEC)0.0f;
  /* Unsigned division and the remainder by subtraction: a signed / and % pair compiles
   * to LLVM's freeze, which Oclgrind 21.10 cannot run under --uninitialized (it aborts
   * the kernel; as in cl/conv.cl's col2im). r0 >= 0, OW > 0. */
  const uint ut = (uint)r0 / (uint)OW;
  int ow = (int)((uint)r0 - ut * (uint)OW);
  int t = (int)ut; /* n*OH + oh */
  int n = t / OH;
  int oh = t - n * OH;
  for (int r = r0; r < r1; r++) {
    __global const float *xn = x + (size_t)n * H * W * CD_C;
    int iw0 = ow * CD_S - pl;
    float xs[CD_KKC];
#pragma unroll
    for (int kh = 0; kh < CD_K; kh++) {
      int ih = oh * CD_S - pt + kh;
#pragma unroll
      for (int kw = 0; kw < CD_K; kw++) {
        int iw = iw0 + kw;
        int inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
#pragma unroll
        for (int c = 0; c < CD_C; c++)
          xs[(kh * CD_K + kw) * CD_C + c] = inside ? xn[(ih * W + iw) * CD_C + c] : 0.0f;
      }
    }
#pragma unroll
    for (int q = 0; q < CD_GPW; q++) {
      size_t o = (size_t)r * CD_F + (gg * CD_GPW + q) * CD_FV;
      VEC dz = VLOAD(dy + o) * cd_act_grad(VLOAD(y + o), alpha);
      if (write_dz) VSTORE(dz, dy + o);
      acc[q][CD_KKC] += dz;
#pragma unroll
      for (int tap = 0; tap < CD_KKC; tap++) acc[q][tap] += xs[tap] * dz;
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
  __global float *pk = part + (size_t)k * (CD_KKC + 1) * CD_F + gg * CD_GPW * CD_FV;
#pragma unroll
  for (int q = 0; q < CD_GPW; q++)
#pragma unroll
    for (int tap = 0; tap <= CD_KKC; tap++) VSTORE(acc[q][tap], pk + tap * CD_F + q * CD_FV);
}

/* dW [F, KKC] += and db [F] += (has_bias) the sums over the chunks of part, in chunk
 * order. 1-D over (KKC + 1) * F. */
__kernel void conv_direct_reduce(__global const float *part, __global float *dw,
                                 __global float *db, int chunks, int has_bias) {
  int i = get_global_id(0);
  if (i >= (CD_KKC + 1) * CD_F) return;
  float s = 0.0f;
  for (int k = 0; k < chunks; k++) s += part[(size_t)k * (CD_KKC + 1) * CD_F + i];
  int tap = i / CD_F;
  int f = i - tap * CD_F;
  if (tap < CD_KKC)
    dw[f * CD_KKC + tap] += s;
  else if (has_bias)
    db[f] += s;
}
