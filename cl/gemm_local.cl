/* Engine SGEMM for GPUs: C = alpha * op(A) op(B) + beta * C, row-major, classic 2-D
 * local-memory tiling.
 *
 * A work-group of TS x TS work-items computes a (TS WM) x (TS WN) block of C. Per step of
 * KT values of k, the group copies the KT-deep slices of op(A) and op(B) into local memory
 * (zeros outside the matrices), then each work-item accumulates its WM x WN register tile
 * with rows ty + TS r and columns tx + TS s, so that neighbouring work-items read
 * neighbouring local words and write neighbouring words of C.
 *
 * Build options: TS (work-group side), WM, WN (register tile), KT (k step), TA, TB
 * (0: op(X) is X, 1: X transposed). Every C element is a sum over p = 0 .. k-1 in order,
 * one fma per term, then alpha * sum (+ beta * C): the same bits as gemm_cpu.cl.
 *
 * Epilogue as in gemm_cpu.cl: built with -DEPI (EPI_BIAS 0 or 1, EPI_ACT a CLT_ACT_* code) the
 * kernel takes two more arguments, bias and slope, and stores
 * act(alpha * sum (+ beta * C) + bias[col]). */

/* Defaults, so that the file builds on its own (cltrain check's build group). */
#ifndef TS
#define TS 16
#endif
#ifndef WM
#define WM 4
#endif
#ifndef WN
#define WN 4
#endif
#ifndef KT
#define KT 16
#endif
#ifndef TA
#define TA 0
#endif
#ifndef TB
#define TB 0
#endif

#ifdef EPI
#ifndef EPI_BIAS
#define EPI_BIAS 0
#endif
#ifndef EPI_ACT
#define EPI_ACT CLT_ACT_LINEAR
#endif
#define EPI_ARGS , __global const float *bias, const float slope
/* Bias in its own statement (no contraction into an fma): as cl/bias_act.cl after the GEMM. */
#define EPI_S(x, col)                                                                              \
  {                                                                                                \
    if (EPI_BIAS) x = x + bias[col];                                                               \
    x = clt_act(EPI_ACT, x, slope);                                                                \
  }
#else
#define EPI_ARGS
#define EPI_S(x, col)
#endif

#define BM (TS * WM)
#define BN (TS * WN)

#if TA
#define A_AT(i, p) a[(size_t)(p) * lda + (i)]
#else
#define A_AT(i, p) a[(size_t)(i) * lda + (p)]
#endif
#if TB
#define B_AT(p, j) b[(size_t)(j) * ldb + (p)]
#else
#define B_AT(p, j) b[(size_t)(p) * ldb + (j)]
#endif

__kernel __attribute__((reqd_work_group_size(TS, TS, 1))) void
gemm_local(const int m, const int n, const int k, const float alpha, __global const float *a,
           const int a_off, const int lda, __global const float *b, const int b_off, const int ldb,
           const float beta, __global float *c, const int c_off, const int ldc EPI_ARGS) {
  __local float la[KT][BM + 1];
  __local float lb[KT][BN + 1];
  const int tx = get_local_id(0), ty = get_local_id(1);
  const int col0 = get_group_id(0) * BN, row0 = get_group_id(1) * BM;
  const int tid = ty * TS + tx;
  a += a_off;
  b += b_off;
  c += c_off;

  float acc[WM][WN];
#pragma unroll
  for (int r = 0; r < WM; r++)
#pragma unroll
    for (int s = 0; s < WN; s++) acc[r][s] = 0.0f;

  for (int p0 = 0; p0 < k; p0 += KT) {
    for (int e = tid; e < KT * BM; e += TS * TS) {
      /* TA: consecutive work-items walk i (contiguous); else p. Unsigned division and the
       * remainder by subtraction: a signed / and % pair compiles to LLVM's freeze, which
       * Oclgrind 21.10 cannot run under --uninitialized (as in cl/conv.cl's col2im). */
      const uint ue = (uint)e, q = ue / (uint)(TA ? BM : KT), rem = ue - q * (uint)(TA ? BM : KT);
      const int p = (int)(TA ? q : rem), i = (int)(TA ? rem : q);
      const int gi = row0 + i, gp = p0 + p;
      la[p][i] = gi < m && gp < k ? A_AT(gi, gp) : 0.0f;
    }
    for (int e = tid; e < KT * BN; e += TS * TS) {
      const uint ue = (uint)e, q = ue / (uint)(TB ? KT : BN), rem = ue - q * (uint)(TB ? KT : BN);
      const int p = (int)(TB ? rem : q), j = (int)(TB ? q : rem);
      const int gj = col0 + j, gp = p0 + p;
      lb[p][j] = gj < n && gp < k ? B_AT(gp, gj) : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    const int steps = min(KT, k - p0);
    for (int p = 0; p < steps; p++) {
      float bv[WN];
#pragma unroll
      for (int s = 0; s < WN; s++) bv[s] = lb[p][tx + TS * s];
#pragma unroll
      for (int r = 0; r < WM; r++) {
        const float av = la[p][ty + TS * r];
#pragma unroll
        for (int s = 0; s < WN; s++) acc[r][s] = fma(av, bv[s], acc[r][s]);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

#pragma unroll
  for (int r = 0; r < WM; r++) {
    const int gi = row0 + ty + TS * r;
    if (gi >= m) continue;
#pragma unroll
    for (int s = 0; s < WN; s++) {
      const int gj = col0 + tx + TS * s;
      if (gj >= n) continue;
      __global float *cp = c + (size_t)gi * ldc + gj;
      float out = beta != 0.0f ? fma(alpha, acc[r][s], beta * *cp) : alpha * acc[r][s];
      EPI_S(out, gj);
      *cp = out;
    }
  }
}
