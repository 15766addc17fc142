/* gemm/<layout>: CLBlast SGEMM (runtime/gemm.h) in the three layouts the layers use (NN:
 * dense and conv dx; NT: forward; TN: weight gradients), row-major, against a host double
 * GEMM, for shapes with odd extents: batch-1 rows, a medium product that CLBlast runs with
 * its direct kernel, and one past its threshold for the indirect kernel (with the
 * pad/transpose helpers). Two calls per shape: beta 0 over junk in C (it must not be read),
 * then beta 1 (accumulation, as dW += ...), which must give twice the product.
 *
 * Tolerance: 1e-5 of max |C_ref|. Inputs are uniform in [-1, 1), so a float32 dot product
 * of k terms has a rounding error of about sqrt(k) * 2^-24 * |a||b| (1e-6 relative at
 * k = 419), in any summation order; a layout or leading-dimension mistake is O(1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "runtime/gemm.h"
#include "runtime/memory.h"

#define TOL_GEMM 1e-5

typedef struct gemm_case {
  const char *name;
  clt_trans ta, tb;
} gemm_case;

static const gemm_case cases[] = {
    {"NN", CLT_N, CLT_N},
    {"NT", CLT_N, CLT_T},
    {"TN", CLT_T, CLT_N},
};

typedef struct gemm_shape {
  size_t m, n, k;
} gemm_shape;

static const gemm_shape shapes_default[] = {{1, 13, 37}, {67, 45, 131}, {401, 387, 419}};
static const gemm_shape shapes_quick[] = {{1, 5, 3}, {7, 5, 3}, {17, 13, 11}};

/* c[m, n] = op(a) x op(b) in double; a is [m, k] (or [k, m] with ta), b [k, n] (or [n, k]). */
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

static clt_status run_shape(clt_ctx *ctx, const gemm_case *gc, gemm_shape s, uint32_t seed,
                            clt_check_result *r) {
  size_t na = s.m * s.k, nb = s.k * s.n, nc = s.m * s.n;
  double *a = clt_check_alloc(na), *b = clt_check_alloc(nb), *c = clt_check_alloc(nc);
  double *got = clt_check_alloc(nc);
  cl_mem da = NULL, db = NULL, dc = NULL;
  clt_status st = a && b && c && got ? CLT_OK : clt_check_oom();
  if (st == CLT_OK) {
    clt_check_fill(a, na, -1.0, 1.0, seed, 1u);
    clt_check_fill(b, nb, -1.0, 1.0, seed, 2u);
    host_gemm(gc->ta, gc->tb, s.m, s.n, s.k, a, b, c);
    st = clt_check_upload(ctx, a, na, 0, &da);
  }
  if (st == CLT_OK) st = clt_check_upload(ctx, b, nb, 0, &db);
  if (st == CLT_OK) st = clt_check_upload(ctx, NULL, nc, CHECK_PAD, &dc); /* junk */
  size_t lda = gc->ta == CLT_T ? s.m : s.k, ldb = gc->tb == CLT_T ? s.k : s.n;
  char what[64];
  for (int call = 1; call <= 2 && st == CLT_OK; call++) {
    st = clt_sgemm(ctx, gc->ta, gc->tb, s.m, s.n, s.k, 1.0f, da, 0, lda, db, 0, ldb,
                   call == 1 ? 0.0f : 1.0f, dc, 0, s.n);
    if (st == CLT_OK) st = clt_check_download(ctx, dc, nc, got);
    if (st != CLT_OK) break;
    if (call == 2)
      for (size_t i = 0; i < nc; i++) got[i] *= 0.5; /* C + op(A) op(B) = 2 op(A) op(B) */
    snprintf(what, sizeof what, "C %zux%zux%zu beta %d", s.m, s.n, s.k, call - 1);
    clt_check_compare(r, what, got, c, nc, 1e-30, TOL_GEMM);
    st = clt_check_tail(ctx, dc, nc, CHECK_PAD, what, r);
  }
  clt_ctx_finish(ctx);
  clt_buffer_release(&da);
  clt_buffer_release(&db);
  clt_buffer_release(&dc);
  free(a), free(b), free(c), free(got);
  return st;
}

static clt_status run_gemm(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const gemm_case *gc = check->arg;
  const gemm_shape *shapes = env->quick ? shapes_quick : shapes_default;
  for (int i = 0; i < 3; i++)
    CLT_TRY(run_shape(env->ctx, gc, shapes[i], 700u + 13u * (uint32_t)i, r));
  return CLT_OK;
}

clt_status clt_check_add_gemm(clt_check_list *list, int quick) {
  (void)quick;
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    char name[80];
    snprintf(name, sizeof name, "gemm/%s", cases[i].name);
    CLT_TRY(clt_check_add(list, name, "C: 1e-5 of max |ref| (beta 0 and beta 1)", run_gemm,
                          &cases[i], i));
  }
  return CLT_OK;
}
