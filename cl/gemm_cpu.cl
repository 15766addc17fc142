/* Engine SGEMM for CPU devices (PoCL): C = alpha * op(A) op(B) + beta * C, row-major.
 *
 * One work-item per work-group computes an MR x (16 * NV) tile of C in MR * NV float16
 * accumulators: per k it loads NV float16 of op(B)'s row k and MR scalars of op(A)'s
 * column k (broadcast), and does MR * NV vector FMAs. With a work-group of 1 PoCL
 * compiles the work-item body as is, so the explicit vectors become AVX/AVX-512 code.
 *
 * Build options (#defines, see src/runtime/gemm_engine.c): MR rows per tile; NV float16
 * column vectors per tile (NR = 16 NV columns); KU K-loop unroll; MB or NB, and KC
 * (gemm_cpu_blocked, gemm_cpu_nblocked) tiles per work-item along M or N and the K block. The layouts are run-time strides, so that one
 * program serves every transpose pair and packing (PoCL compiles each program for seconds):
 *   op(A)[row0 + r][p] = a[a_off + tile * a_ts + r * a_rs + p * a_ps], rows clamped to
 *     a_rows - 1 (row-major A: a_ts = MR lda, a_rs = lda, a_ps = 1; transposed: a_ts = MR,
 *     a_rs = 1, a_ps = lda; packed by gemm_pack into K-major panels: k MR, 1, MR);
 *   op(B)[p][col0 + j] = b[b_off + tile * b_ts + p * b_ps + j], j < NR contiguous (B as is:
 *     b_ts = NR, b_ps = ldb; packed panels: k NR, NR; the host packs whenever B is
 *     transposed or n is not a multiple of NR).
 * Every C element is a sum over p = 0 .. k-1 in order, one fma per term, then
 * alpha * sum (+ beta * C): the same bits as every other engine variant (gemm_local.cl).
 *
 * Epilogue, only in programs built with -DEPI (below): every kernel that stores
 * C (gemm_cpu, _packed, _blocked, _nblocked, gemm_split_reduce) takes two more arguments,
 * bias and slope, and stores act(alpha * sum (+ beta * C) + bias[col]). */

/* Defaults, so that the file builds on its own (cltrain check's build group). */
#ifndef MR
#define MR 8
#endif
#ifndef NV
#define NV 2
#endif
#ifndef KU
#define KU 4
#endif

#define NR (16 * NV)

/* The epilogue: -DEPI with EPI_BIAS (0 or 1) and EPI_ACT (a CLT_ACT_* code, common.clh).
 * Bias is added after the beta term, in its own statement (no contraction into an fma), and
 * the activation is clt_act's formula: the same arithmetic as cl/bias_act.cl run after the
 * GEMM. Without -DEPI the macros are empty and the kernels take no extra arguments. */
#ifdef EPI
#ifndef EPI_BIAS
#define EPI_BIAS 0
#endif
#ifndef EPI_ACT
#define EPI_ACT CLT_ACT_LINEAR
#endif
#define EPI_ARGS , __global const float *bias, const float slope
#if EPI_ACT == CLT_ACT_RELU
#define EPI_ACT_V(z) fmax((z), (float16)(0.0f))
#elif EPI_ACT == CLT_ACT_LEAKY_RELU
#define EPI_ACT_V(z) select(slope * (z), (z), (z) > (float16)(0.0f))
#elif EPI_ACT == CLT_ACT_SIGMOID
#define EPI_ACT_V(z) (1.0f / (1.0f + exp(-(z))))
#elif EPI_ACT == CLT_ACT_TANH
#define EPI_ACT_V(z) tanh(z)
#else
#define EPI_ACT_V(z) (z)
#endif
#define EPI_V16(x, col)                                                                            \
  {                                                                                                \
    if (EPI_BIAS) x = x + vload16(0, bias + (col));                                                \
    x = EPI_ACT_V(x);                                                                              \
  }
#define EPI_S(x, col)                                                                              \
  {                                                                                                \
    if (EPI_BIAS) x = x + bias[col];                                                               \
    x = clt_act(EPI_ACT, x, slope);                                                                \
  }
#else
#define EPI_ARGS
#define EPI_V16(x, col)
#define EPI_S(x, col)
#endif

/* acc[r][v] += op(A)[r][p] * op(B)[p][16 v ..], with A_AT and B_ROW defined by the kernel. */
#define STEP(p)                                                                                    \
  {                                                                                                \
    float16 bv[NV];                                                                                \
    _Pragma("unroll") for (int v = 0; v < NV; v++) bv[v] = vload16(v, B_ROW(p));                   \
    _Pragma("unroll") for (int r = 0; r < MR; r++) {                                               \
      const float16 av = (float16)(A_AT(r, p));                                                    \
      _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = fma(av, bv[v], acc[r][v]);        \
    }                                                                                              \
  }

/* C[trow + r][col0 + 16 v ..] = alpha * sum (+ beta * C), then the epilogue (with -DEPI),
 * element-wise guarded unless full. */
#define STORE(sum, trow, r, v, full)                                                               \
  {                                                                                                \
    __global float *cr = c + (size_t)((trow) + (r)) * ldc + col0 + 16 * (v);                       \
    if (full) {                                                                                    \
      float16 out = alpha * (sum);                                                                 \
      if (beta != 0.0f) out = fma((float16)alpha, (sum), beta * vload16(0, cr));                   \
      EPI_V16(out, col0 + 16 * (v));                                                               \
      vstore16(out, 0, cr);                                                                        \
    } else if ((trow) + (r) < m) {                                                                 \
      float t_[16];                                                                                \
      vstore16((sum), 0, t_);                                                                      \
      for (int e = 0; e < 16 && col0 + 16 * (v) + e < n; e++) {                                    \
        float o_ = beta != 0.0f ? fma(alpha, t_[e], beta * cr[e]) : alpha * t_[e];                 \
        EPI_S(o_, col0 + 16 * (v) + e);                                                            \
        cr[e] = o_;                                                                                \
      }                                                                                            \
    }                                                                                              \
  }

#define GEMM_ARGS                                                                                  \
  const int m, const int n, const int k, const float alpha, __global const float *a,               \
      const int a_off, const int a_ts, const int a_rs, const int a_ps, const int a_rows,           \
      __global const float *b, const int b_off, const int b_ts, const int b_ps, const float beta,  \
      __global float *c, const int c_off, const int ldc

#define A_AT(r, p) ap[arow[r] + (p) * a_ps]
#define B_ROW(p) (bp + (size_t)(p) * b_ps)

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_cpu(GEMM_ARGS EPI_ARGS) {
  const int ti = get_global_id(0), tj = get_global_id(1);
  const int row0 = ti * MR, col0 = tj * NR;
  if (row0 >= m || col0 >= n) return;
  c += c_off;
  __global const float *ap = a + a_off + (size_t)ti * a_ts;
  __global const float *bp = b + b_off + (size_t)tj * b_ts;
  /* Rows past the operand read its last row (valid memory); they are never stored. */
  int arow[MR];
#pragma unroll
  for (int r = 0; r < MR; r++) arow[r] = min(r, a_rows - 1 - row0) * a_rs;

  float16 acc[MR][NV];
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) acc[r][v] = (float16)(0.0f);

  int p = 0;
  for (; p + KU <= k; p += KU) {
#pragma unroll
    for (int u = 0; u < KU; u++) STEP(p + u)
  }
  for (; p < k; p++) STEP(p)

  const int full = row0 + MR <= m && col0 + NR <= n;
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) STORE(acc[r][v], row0, r, v, full);
}

/* Both operands packed (gemm_pack_a, gemm_pack_b): the strides are compile-time constants,
 * so the K loop walks two pointers by MR and NR floats (run-time strides cost PoCL about 15%
 * of the inner loop's speed). a_ts, a_rs, a_ps, a_rows and b_ps are ignored; rows past m
 * are the zero padding of A's last panel. */
#define AP_AT(r, p) ap[(p) * MR + (r)]
#define BP_ROW(p) (bp + (p) * NR)
#define PSTEP(p)                                                                                   \
  {                                                                                                \
    float16 bv[NV];                                                                                \
    _Pragma("unroll") for (int v = 0; v < NV; v++) bv[v] = vload16(v, BP_ROW(p));                  \
    _Pragma("unroll") for (int r = 0; r < MR; r++) {                                               \
      const float16 av = (float16)(AP_AT(r, p));                                                   \
      _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = fma(av, bv[v], acc[r][v]);        \
    }                                                                                              \
  }

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_cpu_packed(GEMM_ARGS EPI_ARGS) {
  const int ti = get_global_id(0), tj = get_global_id(1);
  const int row0 = ti * MR, col0 = tj * NR;
  if (row0 >= m || col0 >= n) return;
  c += c_off;
  __global const float *ap = a + a_off + (size_t)ti * k * MR;
  __global const float *bp = b + b_off + (size_t)tj * k * NR;
  float16 acc[MR][NV];
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) acc[r][v] = (float16)(0.0f);
  int p = 0;
  for (; p + KU <= k; p += KU, ap += KU * MR, bp += KU * NR) {
#pragma unroll
    for (int u = 0; u < KU; u++) PSTEP(u)
  }
  for (; p < k; p++, ap += MR, bp += NR) PSTEP(0)
  const int full = row0 + MR <= m && col0 + NR <= n;
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) STORE(acc[r][v], row0, r, v, full);
}

/* Split K (for small C and long k): work-item (ti, tj, s) sums p in [s kc, (s + 1) kc) of its
 * tile into part[s] (mpad x npad, unscaled); gemm_split_reduce then adds the splits in order.
 * A different summation order from the other variants: different bits (the chooser treats
 * it like CLBlast). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void
gemm_cpu_split(GEMM_ARGS, const int kc, __global float *part, const int part_off) {
  const int ti = get_global_id(0), tj = get_global_id(1), sp = get_global_id(2);
  const int row0 = ti * MR, col0 = tj * NR;
  const int mpad = get_global_size(0) * MR, npad = get_global_size(1) * NR;
  const int p0 = sp * kc, p1 = min(k, p0 + kc);
  __global const float *ap = a + a_off + (size_t)ti * a_ts;
  __global const float *bp = b + b_off + (size_t)tj * b_ts;
  int arow[MR];
#pragma unroll
  for (int r = 0; r < MR; r++) arow[r] = min(r, a_rows - 1 - row0) * a_rs;
  float16 acc[MR][NV];
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) acc[r][v] = (float16)(0.0f);
  int p = p0;
  for (; p + KU <= p1; p += KU) {
#pragma unroll
    for (int u = 0; u < KU; u++) STEP(p + u)
  }
  for (; p < p1; p++) STEP(p)
  __global float *out = part + part_off + (size_t)sp * mpad * npad + (size_t)row0 * npad + col0;
#pragma unroll
  for (int r = 0; r < MR; r++)
#pragma unroll
    for (int v = 0; v < NV; v++) vstore16(acc[r][v], 0, out + (size_t)r * npad + 16 * v);
}

/* C[i][j] = alpha * (part[0] + part[1] + ...)[i][j] (+ beta C), splits added in order, then
 * the epilogue (with -DEPI). */
__kernel void gemm_split_reduce(const int m, const int n, const int splits, const int mpad,
                                const int npad, __global const float *part, const int part_off,
                                const float alpha,
                                const float beta, __global float *c, const int c_off,
                                const int ldc EPI_ARGS) {
  const int j = get_global_id(0), i = get_global_id(1);
  if (i >= m || j >= n) return;
  float sum = 0.0f;
  part += part_off;
  for (int s = 0; s < splits; s++) sum += part[(size_t)s * mpad * npad + (size_t)i * npad + j];
  __global float *cp = c + c_off + (size_t)i * ldc + j;
  float out = beta != 0.0f ? fma(alpha, sum, beta * *cp) : alpha * sum;
  EPI_S(out, j);
  *cp = out;
}

#if defined(MB) && MB > 1
/* Cache-blocked form (A and B packed, strides as in gemm_cpu_packed): a work-item computes
 * MB tiles of MR x NR stacked in M, with K in blocks of KC: per block, each tile resumes its
 * partial sums from private memory, so the block of B's panel (KC x NR) stays in L1 while MB
 * panels of A stream past it from L2. A partial sum is stored and reloaded as the same
 * float, so every element still sees one fma per p in order: the same bits as gemm_cpu. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_cpu_blocked(GEMM_ARGS EPI_ARGS) {
  const int tb = get_global_id(0), tj = get_global_id(1);
  const int row0 = tb * MB * MR, col0 = tj * NR;
  if (row0 >= m || col0 >= n) return;
  c += c_off;
  const int tiles = min(MB, (m - row0 + MR - 1) / MR);
  __global const float *b0 = b + b_off + (size_t)tj * k * NR;
  __global const float *a0 = a + a_off + (size_t)tb * MB * k * MR;
  float16 part[MB][MR][NV]; /* zero first: k may be 0 (C = beta C) */
  for (int t = 0; t < MB; t++)
#pragma unroll
    for (int r = 0; r < MR; r++)
#pragma unroll
      for (int v = 0; v < NV; v++) part[t][r][v] = (float16)(0.0f);
  for (int p0 = 0; p0 < k; p0 += KC) {
    const int p1 = min(k, p0 + KC);
    for (int t = 0; t < tiles; t++) {
      __global const float *ap = a0 + ((size_t)t * k + p0) * MR;
      __global const float *bp = b0 + (size_t)p0 * NR;
      float16 acc[MR][NV];
#pragma unroll
      for (int r = 0; r < MR; r++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[r][v] = part[t][r][v];
      int p = p0;
      for (; p + KU <= p1; p += KU, ap += KU * MR, bp += KU * NR) {
#pragma unroll
        for (int u = 0; u < KU; u++) PSTEP(u)
      }
      for (; p < p1; p++, ap += MR, bp += NR) PSTEP(0)
#pragma unroll
      for (int r = 0; r < MR; r++)
#pragma unroll
        for (int v = 0; v < NV; v++) part[t][r][v] = acc[r][v];
    }
  }
  for (int t = 0; t < tiles; t++) {
    const int trow = row0 + t * MR;
    const int full = trow + MR <= m && col0 + NR <= n;
#pragma unroll
    for (int r = 0; r < MR; r++)
#pragma unroll
      for (int v = 0; v < NV; v++) STORE(part[t][r][v], trow, r, v, full);
  }
}
#endif

#if defined(NB) && NB > 1
/* Cache-blocked along N (A and B packed): a work-item computes NB tiles of MR x NR side by
 * side in N, with K in blocks of KC: the block of A's micro-panel (MR x KC) stays in L1 while
 * the NB blocks of B (KC x NR each) stream past it from L2, where the work-items that follow
 * (the next rows of tiles, same columns) find them again. Partial sums as in
 * gemm_cpu_blocked: the same bits as gemm_cpu. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_cpu_nblocked(GEMM_ARGS EPI_ARGS) {
  const int ti = get_global_id(0), tb = get_global_id(1);
  const int row0 = ti * MR, col_first = tb * NB * NR;
  if (row0 >= m || col_first >= n) return;
  c += c_off;
  const int tiles = min(NB, (n - col_first + NR - 1) / NR);
  __global const float *a0 = a + a_off + (size_t)ti * k * MR;
  __global const float *b0 = b + b_off + (size_t)tb * NB * k * NR;
  float16 part[NB][MR][NV]; /* zero first: k may be 0 (C = beta C) */
  for (int t = 0; t < NB; t++)
#pragma unroll
    for (int r = 0; r < MR; r++)
#pragma unroll
      for (int v = 0; v < NV; v++) part[t][r][v] = (float16)(0.0f);
  for (int p0 = 0; p0 < k; p0 += KC) {
    const int p1 = min(k, p0 + KC);
    for (int t = 0; t < tiles; t++) {
      __global const float *ap = a0 + (size_t)p0 * MR;
      __global const float *bp = b0 + ((size_t)t * k + p0) * NR;
      float16 acc[MR][NV];
#pragma unroll
      for (int r = 0; r < MR; r++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[r][v] = part[t][r][v];
      int p = p0;
      for (; p + KU <= p1; p += KU, ap += KU * MR, bp += KU * NR) {
#pragma unroll
        for (int u = 0; u < KU; u++) PSTEP(u)
      }
      for (; p < p1; p++, ap += MR, bp += NR) PSTEP(0)
#pragma unroll
      for (int r = 0; r < MR; r++)
#pragma unroll
        for (int v = 0; v < NV; v++) part[t][r][v] = acc[r][v];
    }
  }
  for (int t = 0; t < tiles; t++) {
    const int col0 = col_first + t * NR;
    const int full = row0 + MR <= m && col0 + NR <= n;
#pragma unroll
    for (int r = 0; r < MR; r++)
#pragma unroll
      for (int v = 0; v < NV; v++) STORE(part[t][r][v], row0, r, v, full);
  }
}
#endif

/* Packs a logical matrix X (D x K, X(d, p) = src[off + d sd + p sk]) into panels of W rows
 * of d: dst[dst_off + (d / W) K W + p W + d % W], zero for d >= D. Work-item (p, t) copies
 * the W values of panel t at p (W a compile-time constant: MR for A, NR for B). */
#define PACK_BODY(W)                                                                               \
  const int p = get_global_id(0), t = get_global_id(1);                                            \
  if (p >= k || t >= panels) return;                                                               \
  __global float *out = dst + dst_off + ((size_t)t * k + p) * (W);                                 \
  _Pragma("unroll") for (int e = 0; e < (W); e++) {                                                \
    const int d = t * (W) + e;                                                                     \
    out[e] = d < d_count ? src[off + (size_t)d * sd + (size_t)p * sk] : 0.0f;                      \
  }

__kernel void gemm_pack_a(__global const float *src, const int off, const int sd, const int sk,
                          const int d_count, const int k, const int panels, __global float *dst,
                          const int dst_off) {
  PACK_BODY(MR)
}

__kernel void gemm_pack_b(__global const float *src, const int off, const int sd, const int sk,
                          const int d_count, const int k, const int panels, __global float *dst,
                          const int dst_off) {
  PACK_BODY(NR)
}
