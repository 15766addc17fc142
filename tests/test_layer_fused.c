/* Bias and activation fused into the forward GEMM (clt_bias_act_gemm_forward, bias_act.h):
 * dense and conv (im2col + GEMM, and 1x1) forward and backward against the float64
 * reference with the GEMM forced to engine variants (fused: the forward launches no
 * bias_act_forward and its GEMM carries the epilogue in its profile name) and to CLBlast
 * (not fused: the separate bias_act_forward runs), for every activation, with and without
 * bias. Backward reads the stored output y in both cases (act' from y), so the gradients
 * must match the reference as well.
 *
 * Tolerance: 1e-4 of the largest magnitude of the reference tensor, as test_layer_dense and
 * test_layer_conv (sums of at most 105 O(1) products; exp and tanh within a few ulp); a
 * missing bias or activation is O(0.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/layers.h"
#include "ref/ref.h"
#include "runtime/gemm_choose.h"
#include "runtime/profile.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/test_util.h"

#define TOL   1e-4
#define FLOOR 1e-3

static clt_ctx *pctx; /* a context with profiling queues on the test device */

static int setup(void **state) {
  (void)state;
  clt_ctx *base = clt_test_ctx();
  clt_ctx_options opt = {0};
  opt.profiling = 1;
  return clt_ctx_create(&base->dev, &opt, &pctx) == CLT_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  clt_ctx_destroy(pctx);
  return 0;
}

typedef struct layer_case {
  int conv;        /* 0: dense, 1: conv 3x3 same (im2col), 2: conv 1x1 (GEMM on x) */
  int n, h, w, c;  /* input */
  int outputs;     /* units or filters */
  int bias;        /* 0 or 1 */
  const char *act; /* NULL: linear */
  double alpha;    /* leaky_relu's, else 0 */
} layer_case;

static const layer_case cases[] = {
    {0, 3, 7, 5, 3, 13, 1, "relu", 0},    {0, 1, 1, 1, 10, 1, 0, "sigmoid", 0},
    {0, 3, 4, 4, 2, 37, 1, "tanh", 0},    {0, 2, 1, 1, 33, 17, 1, "leaky_relu", 0.2},
    {0, 5, 1, 3, 11, 40, 1, NULL, 0},     {0, 2, 1, 1, 7, 33, 0, "relu", 0},
    {1, 2, 6, 5, 3, 5, 1, "relu", 0},     {1, 3, 5, 4, 2, 7, 0, "tanh", 0},
    {1, 2, 5, 5, 3, 33, 1, "sigmoid", 0}, {2, 2, 4, 5, 6, 13, 1, "leaky_relu", 0.1},
    {2, 3, 3, 3, 5, 9, 1, NULL, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Builds the case's layer on pctx and its reference results into c (sz: its sizes). */
static void *build(const layer_case *tc, uint32_t seed, clt_layer_sizes *sz, clt_test_weighted *c) {
  char text[256];
  const clt_layer_ops *ops = tc->conv ? &clt_layer_conv : &clt_layer_dense;
  if (tc->conv)
    snprintf(text, sizeof text,
             "[conv]\nfilters = %d\nsize = %d\npadding = %s\nalgorithm = im2col\n", tc->outputs,
             tc->conv == 1 ? 3 : 1, tc->conv == 1 ? "same" : "valid");
  else
    snprintf(text, sizeof text, "[dense]\nunits = %d\n", tc->outputs);
  clt_activation act;
  double alpha;
  clt_test_bias_act_keys(text, sizeof text, tc->bias, tc->act, tc->alpha, &act, &alpha);
  clt_shape in = {tc->h, tc->w, tc->c}, out;
  void *self = clt_test_layer_build(ops, text, in, &out, pctx);
  ops->sizes(self, tc->n, sz);
  size_t nx = (size_t)tc->n * clt_shape_size(in), ny = (size_t)tc->n * clt_shape_size(out);
  size_t nw =
      (size_t)tc->outputs * (tc->conv ? ((tc->conv == 1 ? 9 : 1) * (size_t)tc->c) : nx / tc->n);
  clt_test_weighted_alloc(c, tc->n, tc->bias, nx, ny, nw, (size_t)tc->outputs, 0.4, seed);
  if (tc->conv) {
    clt_ref_conv p = {0};
    p.filters = tc->outputs, p.size = tc->conv == 1 ? 3 : 1, p.stride = 1, p.bias = tc->bias;
    p.act = act, p.alpha = alpha;
    clt_ref_shape rin = {tc->n, tc->h, tc->w, tc->c};
    clt_ref_conv_set_padding(&p, tc->conv == 1 ? CLT_REF_PAD_SAME : CLT_REF_PAD_VALID, 0, rin);
    clt_ref_conv_forward(&p, rin, c->x, c->w, c->b, c->y);
    clt_ref_conv_backward(&p, rin, c->x, c->w, c->y, c->dy, c->dx, c->dw, c->db);
  } else {
    clt_ref_dense p = {0};
    p.units = tc->outputs, p.bias = tc->bias, p.act = act, p.alpha = alpha;
    int inputs = (int)(nx / tc->n);
    clt_ref_dense_forward(&p, tc->n, inputs, c->x, c->w, c->b, c->y);
    clt_ref_dense_backward(&p, tc->n, inputs, c->x, c->w, c->y, c->dy, c->dx, c->dw, c->db);
  }
  return self;
}

/* Launches of the kernel named name recorded (any scope), and whether a forward GEMM
 * (sgemm_NT) carried an epilogue (" +bias", " +relu", ...). */
static long launches(const char *name, int *nt_fused) {
  clt_profiler *p = pctx->profiler;
  long count = 0;
  for (int i = 0; i < p->count; i++) {
    const char *e = p->entries[i].name, *slash = strchr(e, '/');
    const char *k = slash ? slash + 1 : e; /* "SCOPE/KERNEL" */
    if (strcmp(k, name) == 0) count += p->entries[i].count;
    if (strncmp(k, "sgemm_NT", 8) == 0 && strstr(k, " +")) *nt_fused = 1;
  }
  return count;
}

/* Every case with the GEMM forced to v: results against the reference, and fusion as
 * expected (fused: every case has a bias or an activation). */
static void run_variant(const char *vname, int fused) {
  clt_gemm_variant v;
  assert_true(clt_gemm_variant_parse(vname, &v));
  if (!clt_gemm_variant_fits(pctx, &v)) return;
  clt_gemm_force(pctx, &v);
  for (size_t i = 0; i < NCASES; i++) {
    const layer_case *tc = &cases[i];
    clt_layer_sizes sz;
    clt_test_weighted c;
    void *self = build(tc, 900 + (uint32_t)i, &sz, &c);
    const clt_layer_ops *ops = tc->conv ? &clt_layer_conv : &clt_layer_dense;
    OK(clt_profiler_start(pctx));
    clt_test_weighted_check(ops, self, pctx, &sz, &c, FLOOR, TOL);
    OK(clt_profiler_collect(pctx));
    int nt_fused = 0;
    long separate = launches("bias_act_forward", &nt_fused);
    clt_profiler_stop(pctx);
    if (nt_fused != fused || (separate > 0) == fused)
      fail_msg("%s, case %zu (%s %s, bias %d): forward GEMM fused %d, bias_act_forward launched "
               "%ld times; expected %s",
               vname, i, tc->conv ? "conv" : "dense", tc->act ? tc->act : "linear", tc->bias,
               nt_fused, separate, fused ? "fused" : "separate");
    clt_test_weighted_free(&c);
    ops->destroy(self);
  }
  clt_gemm_force(pctx, NULL);
}

static void test_engine_cpu_tile(void **state) {
  (void)state;
  run_variant("cpu:8x32:k4", 1);
}

static void test_engine_packed_small_tile(void **state) {
  (void)state;
  run_variant("cpu:3x16:k1:pa:pb", 1);
}

static void test_engine_local(void **state) {
  (void)state;
  run_variant("local:4:3x5:k3", 1);
}

static void test_clblast_separate(void **state) {
  (void)state;
  run_variant("clblast", 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_engine_cpu_tile),
      cmocka_unit_test(test_engine_packed_small_tile),
      cmocka_unit_test(test_engine_local),
      cmocka_unit_test(test_clblast_separate),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, teardown);
}
