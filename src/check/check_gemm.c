/* gemm/<layout>: SGEMM (runtime/gemm.h) in the three layouts the layers use (NN: dense and
 * conv dx; NT: forward; TN: weight gradients) and TT, row-major, against a host double GEMM, run
 * with every engine variant the device can run (runtime/gemm_choose.h,
 * clt_gemm_check_variants: register tiles, packings, cache blocking, local-memory tilings),
 * CLBlast, and whatever the chooser picks for the shape on this device. Shapes have odd
 * extents (batch-1 rows, primes, not multiples of any tile); K longer than the blocked
 * variants' K blocks. Operands sit at offsets inside their buffers with leading dimensions
 * larger than their rows, the gaps filled with junk that must not be read or written.
 * Three calls per shape: beta 0 over NaN in C (it must not be read), then beta 1 (2 op(A)
 * op(B)), then alpha -0.5 and beta 0.75 (back to op(A) op(B)). A fourth call asks for the
 * fused epilogue (clt_sgemm_epi, beta 0): C = act(op(A) op(B) + bias), the activation
 * changing with variant, layout and shape so that each one meets every activation; where
 * the GEMM does not fuse (CLBlast) C must be the plain product.
 *
 * Tolerance: 1e-5 of max |C_ref|. Inputs are uniform in [-1, 1), so a float32 dot product
 * of k terms has a rounding error of about sqrt(k) * 2^-24 * |a||b| (1e-6 relative at
 * k = 419), in any summation order; a layout or leading-dimension mistake is O(1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "ref/ref.h"
#include "runtime/gemm.h"
#include "runtime/gemm_choose.h"
#include "runtime/memory.h"

#define TOL_GEMM 1e-5
#define SLOPE    0.1f /* leaky_relu's, in the epilogue call */

typedef struct gemm_case {
  const char *name;
  clt_trans ta, tb;
} gemm_case;

static const gemm_case cases[] = {
    {"NN", CLT_N, CLT_N},
    {"NT", CLT_N, CLT_T},
    {"TN", CLT_T, CLT_N},
    {"TT", CLT_T, CLT_T},
};

typedef struct gemm_shape {
  size_t m, n, k;
} gemm_shape;

/* 5x133x1: k 1 and n past four 32-wide tiles (the blocked-along-N variants' NB). */
static const gemm_shape shapes_default[] = {
    {1, 13, 37}, {67, 45, 131}, {401, 387, 419}, {5, 133, 1}};
static const gemm_shape shapes_quick[] = {{1, 5, 3}, {7, 5, 3}, {17, 35, 11}, {5, 133, 1}};

/* c[m, n] = op(a) x op(b) in double; a is [m, k] (or [k, m] with ta), b [k, n] (or [n, k]),
 * dense. */
static void host_gemm(clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k, const double *a,
                      const double *b, double *c) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t p = 0; p < k; p++) {
        double av = ta == CLT_T ? a[p * m + i] : a[i * k + p];
        double bv = tb == CLT_T ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      c[i * n + j] = s;
    }
}

/* A buffer holding rows x cols of dense (NULL: fill) at offset off with leading dimension ld,
 * every other float (head, row gaps, CHECK_PAD tail) the sentinel. */
static clt_status upload_strided(clt_ctx *ctx, const double *dense, float fill, size_t rows,
                                 size_t cols, size_t off, size_t ld, cl_mem *out, size_t *total) {
  *total = off + rows * ld + CHECK_PAD;
  float *f = malloc(*total * sizeof *f);
  if (!f) return clt_check_oom();
  for (size_t i = 0; i < *total; i++) f[i] = (float)CHECK_SENTINEL;
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++)
      f[off + r * ld + c] = dense ? (float)dense[r * cols + c] : fill;
  clt_status st = clt_buffer_create(ctx, *total * sizeof(float), out);
  if (st == CLT_OK) st = clt_buffer_write(ctx, *out, 0, *total * sizeof(float), f);
  free(f);
  if (st != CLT_OK) clt_buffer_release(out);
  return st;
}

typedef struct operands {
  cl_mem a, b, c, bias;
  size_t a_off, lda, b_off, ldb, c_off, ldc, c_total;
  const double *host_bias; /* [n] */
} operands;

/* Reads C back into got (scaled) and fails r when anything outside C changed. */
static clt_status read_c(clt_ctx *ctx, gemm_shape s, const operands *o, double scale, double *got,
                         float *host_c, const char *what, clt_check_result *r, int *outside) {
  CLT_TRY(clt_buffer_read(ctx, o->c, 0, o->c_total * sizeof(float), host_c));
  for (size_t i = 0; i < s.m; i++)
    for (size_t j = 0; j < s.n; j++) got[i * s.n + j] = scale * host_c[o->c_off + i * o->ldc + j];
  *outside = 0;
  for (size_t i = 0; i < o->c_total; i++) {
    size_t e = i < o->c_off ? 0 : i - o->c_off;
    int inside = i >= o->c_off && e / o->ldc < s.m && e % o->ldc < s.n;
    if (!inside && host_c[i] != (float)CHECK_SENTINEL) {
      clt_check_failf(r, "%s: wrote outside C: float %zu of the buffer is %.9g", what, i,
                      host_c[i]);
      *outside = 1;
      return CLT_OK;
    }
  }
  return CLT_OK;
}

/* The epilogue call: C = act(op(A) op(B) + bias) over whatever C holds (beta 0). */
static clt_status run_epilogue(clt_ctx *ctx, const gemm_case *gc, gemm_shape s, const operands *o,
                               const double *want, double *got, float *host_c, const char *vname,
                               int act, clt_check_result *r) {
  clt_gemm_epi epi = {o->bias, act, SLOPE};
  int fused = 0, outside = 0;
  CLT_TRY(clt_sgemm_epi(ctx, gc->ta, gc->tb, s.m, s.n, s.k, 1.0f, o->a, o->a_off, o->lda, o->b,
                        o->b_off, o->ldb, 0.0f, o->c, o->c_off, o->ldc, &epi, &fused));
  char what[160];
  snprintf(what, sizeof what, "%s: C %zux%zux%zu + bias, %s%s", vname, s.m, s.n, s.k,
           clt_activation_name((clt_activation)act), fused ? "" : " (not fused: plain product)");
  CLT_TRY(read_c(ctx, s, o, 1.0, got, host_c, what, r, &outside));
  if (outside) return CLT_OK;
  double *expect = malloc(s.m * s.n * sizeof *expect);
  if (!expect) return clt_check_oom();
  /* The scale is that of the product before the activation: the product's rounding error
   * passes through (tanh, sigmoid: with slope <= 1) to outputs that may be much smaller. */
  double scale = 1e-30;
  for (size_t i = 0; i < s.m; i++)
    for (size_t j = 0; j < s.n; j++) {
      double z = want[i * s.n + j] + (fused ? o->host_bias[j] : 0.0);
      expect[i * s.n + j] = fused ? clt_ref_act((clt_activation)act, SLOPE, z) : z;
      if (fabs(z) > scale) scale = fabs(z);
    }
  clt_check_compare(r, what, got, expect, s.m * s.n, scale, TOL_GEMM);
  free(expect);
  return CLT_OK;
}

/* Runs the three calls with the current variant and compares; C restored to NaN first. Then
 * the epilogue call with activation act. */
static clt_status run_calls(clt_ctx *ctx, const gemm_case *gc, gemm_shape s, const operands *o,
                            const double *want, double *got, float *host_c, const char *vname,
                            int act, clt_check_result *r) {
  static const float alpha[3] = {1.0f, 1.0f, -0.5f}, beta[3] = {0.0f, 1.0f, 0.75f};
  static const double scale[3] = {1.0, 0.5, 1.0};
  for (size_t i = 0; i < o->c_total; i++) host_c[i] = (float)CHECK_SENTINEL;
  for (size_t i = 0; i < s.m; i++)
    for (size_t j = 0; j < s.n; j++) host_c[o->c_off + i * o->ldc + j] = NAN;
  CLT_TRY(clt_buffer_write(ctx, o->c, 0, o->c_total * sizeof(float), host_c));
  char what[128];
  for (int call = 0; call < 3; call++) {
    CLT_TRY(clt_sgemm(ctx, gc->ta, gc->tb, s.m, s.n, s.k, alpha[call], o->a, o->a_off, o->lda, o->b,
                      o->b_off, o->ldb, beta[call], o->c, o->c_off, o->ldc));
    snprintf(what, sizeof what, "%s: C %zux%zux%zu alpha %g beta %g", vname, s.m, s.n, s.k,
             alpha[call], beta[call]);
    int outside = 0;
    CLT_TRY(read_c(ctx, s, o, scale[call], got, host_c, what, r, &outside));
    if (outside) return CLT_OK;
    clt_check_compare(r, what, got, want, s.m * s.n, 1e-30, TOL_GEMM);
  }
  return run_epilogue(ctx, gc, s, o, want, got, host_c, vname, act, r);
}

static clt_status run_shape(clt_ctx *ctx, const gemm_case *gc, gemm_shape s, uint32_t seed,
                            const clt_gemm_variant *variants, int nvariants, clt_check_result *r) {
  size_t na = s.m * s.k, nb = s.k * s.n, nc = s.m * s.n;
  double *a = clt_check_alloc(na), *b = clt_check_alloc(nb), *c = clt_check_alloc(nc);
  double *got = clt_check_alloc(nc), *bias = clt_check_alloc(s.n);
  operands o = {0};
  size_t a_rows = gc->ta == CLT_T ? s.k : s.m, a_cols = gc->ta == CLT_T ? s.m : s.k;
  size_t b_rows = gc->tb == CLT_T ? s.n : s.k, b_cols = gc->tb == CLT_T ? s.k : s.n;
  o.a_off = 5, o.lda = a_cols + 3, o.b_off = 7, o.ldb = b_cols + 1, o.c_off = 3, o.ldc = s.n + 2;
  size_t ta_total = 0, tb_total = 0, bias_total = 0;
  float *host_c = NULL;
  clt_status st = a && b && c && got && bias ? CLT_OK : clt_check_oom();
  if (st == CLT_OK) {
    clt_check_fill(a, na, -1.0, 1.0, seed, 1u);
    clt_check_fill(b, nb, -1.0, 1.0, seed, 2u);
    clt_check_fill(bias, s.n, -1.0, 1.0, seed, 3u);
    o.host_bias = bias;
    host_gemm(gc->ta, gc->tb, s.m, s.n, s.k, a, b, c);
    st = upload_strided(ctx, a, 0, a_rows, a_cols, o.a_off, o.lda, &o.a, &ta_total);
  }
  if (st == CLT_OK) st = upload_strided(ctx, b, 0, b_rows, b_cols, o.b_off, o.ldb, &o.b, &tb_total);
  if (st == CLT_OK) st = upload_strided(ctx, NULL, NAN, s.m, s.n, o.c_off, o.ldc, &o.c, &o.c_total);
  if (st == CLT_OK) st = upload_strided(ctx, bias, 0, 1, s.n, 0, s.n, &o.bias, &bias_total);
  if (st == CLT_OK && !(host_c = malloc(o.c_total * sizeof *host_c))) st = clt_check_oom();
  char vname[48];
  /* Each variant forced in turn, then (i == nvariants) the chooser's own pick. */
  for (int i = 0; i <= nvariants && st == CLT_OK; i++) {
    clt_gemm_force(ctx, i < nvariants ? &variants[i] : NULL);
    if (i < nvariants)
      clt_gemm_variant_name(&variants[i], vname, sizeof vname);
    else
      snprintf(vname, sizeof vname, "chosen");
    /* The epilogue's activation: every one across the variants of each shape and layout. */
    int act = (i + (int)(seed % 5) + 2 * (int)gc->ta + (int)gc->tb) % CLT_ACT_COUNT;
    st = run_calls(ctx, gc, s, &o, c, got, host_c, vname, act, r);
  }
  clt_gemm_force(ctx, NULL);
  clt_ctx_finish(ctx);
  clt_buffer_release(&o.a);
  clt_buffer_release(&o.b);
  clt_buffer_release(&o.c);
  clt_buffer_release(&o.bias);
  free(a), free(b), free(c), free(got), free(bias), free(host_c);
  return st;
}

static clt_status run_gemm(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const gemm_case *gc = check->arg;
  const gemm_shape *shapes = env->quick ? shapes_quick : shapes_default;
  clt_gemm_variant variants[32], def;
  int n = clt_gemm_check_variants(env->ctx, variants, 32);
  /* Where the engine is not the device's default (CPU implementations other than PoCL, on
   * which its kernels run slowly) the largest shape runs CLBlast (last) alone. */
  clt_gemm_default_variant(&env->ctx->dev, &def);
  int engine_default = def.kind != CLT_GEMM_CLBLAST;
  for (int i = 0; i < (int)(sizeof shapes_default / sizeof shapes_default[0]); i++) {
    int skip = (!engine_default && i == 2) ? n - 1 : 0; /* 2: the largest shape */
    CLT_TRY(
        run_shape(env->ctx, gc, shapes[i], 700u + 13u * (uint32_t)i, variants + skip, n - skip, r));
  }
  return CLT_OK;
}

clt_status clt_check_add_gemm(clt_check_list *list, int quick) {
  (void)quick;
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    char name[80];
    snprintf(name, sizeof name, "gemm/%s", cases[i].name);
    CLT_TRY(clt_check_add(
        list, name,
        "C: 1e-5 of max |ref|, every variant (beta 0, beta 1, alpha/beta, bias + activation)",
        run_gemm, &cases[i], i));
  }
  return CLT_OK;
}
