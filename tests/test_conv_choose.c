/* The conv layer's algorithm choice (src/nn/layers/conv_choose.h): implicit and direct forced
 * give what im2col + GEMM gives (forward y, backward dx, dW, db), auto measures at its first
 * forward and stores the winner in the cache folder, a later layer reuses the stored choice
 * without timing, and a corrupt or foreign store is rebuilt silently. The float64 checks of
 * every algorithm are in test_layer_conv and `cltrain check` (conv/implicit-*). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/conv_choose.h"
#include "runtime/gemm_choose.h"
#include "nn/layers/layers.h"
#include "runtime/context.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static const clt_layer_ops *ops = &clt_layer_conv;
static int warnings;

static void count_warning(const char *message) {
  (void)message;
  warnings++;
}

/* One layer: 2 x 9x7x8 input, 16 filters 3x3, same padding, relu; not the first layer. */
#define N  2
#define H  9
#define W  7
#define C  8
#define F  16
#define KS 3

typedef struct results {
  double *y, *dx, *dw, *db;
} results;

static void results_free(results *r) {
  free(r->y);
  free(r->dx);
  free(r->dw);
  free(r->db);
}

static const char *layer_text(const char *algorithm, char *buf, size_t size) {
  snprintf(buf, size,
           "[conv]\nfilters = %d\nsize = %d\npadding = same\nactivation = relu\nalgorithm = %s\n",
           F, KS, algorithm);
  return buf;
}

/* Builds the layer with algorithm on ctx, runs a forward and a backward (with dx) on fixed
 * inputs; the results into *r (NULL: not kept); the algorithm that ran into *ran. */
static void run_layer(clt_ctx *ctx, const char *algorithm, results *r, clt_layer_info *ran) {
  char text[256];
  clt_shape in = {H, W, C}, out;
  void *self = clt_test_layer_build(ops, layer_text(algorithm, text, sizeof text), in, &out, NULL);
  OK(ops->prepare(self, ctx));
  clt_layer_sizes sz;
  ops->sizes(self, N, &sz);
  size_t nx = (size_t)N * H * W * C, ny = (size_t)N * out.h * out.w * F,
         nw = (size_t)F * KS * KS * C;
  double *x = clt_test_random(nx, -1, 1, 1), *w = clt_test_random(nw, -0.3, 0.3, 2);
  double *b = clt_test_random(F, -0.5, 0.5, 3), *dy = clt_test_random(ny, -1, 1, 4);
  clt_pass p;
  memset(&p, 0, sizeof p);
  p.ctx = ctx;
  p.batch = N;
  p.training = 1;
  p.layer_index = 1;
  p.x = clt_test_upload(ctx, x, nx);
  p.y = clt_test_zeros(ctx, ny);
  p.dy = clt_test_upload(ctx, dy, ny);
  p.dx = clt_test_zeros(ctx, nx);
  p.params[0] = clt_test_upload(ctx, w, nw);
  p.params[1] = clt_test_upload(ctx, b, F);
  p.grads[0] = clt_test_zeros(ctx, nw);
  p.grads[1] = clt_test_zeros(ctx, F);
  p.workspace = clt_test_zeros(ctx, sz.workspace_floats ? sz.workspace_floats : 1);
  OK(ops->forward(self, &p));
  OK(ops->backward(self, &p));
  if (r) {
    r->y = clt_test_alloc(ny);
    r->dx = clt_test_alloc(nx);
    r->dw = clt_test_alloc(nw);
    r->db = clt_test_alloc(F);
    clt_test_download(ctx, p.y, r->y, ny);
    clt_test_download(ctx, p.dx, r->dx, nx);
    clt_test_download(ctx, p.grads[0], r->dw, nw);
    clt_test_download(ctx, p.grads[1], r->db, F);
  }
  if (ran) ops->info(self, ran);
  cl_mem bufs[] = {p.x,         p.y,        p.dy,       p.dx,       p.params[0],
                   p.params[1], p.grads[0], p.grads[1], p.workspace};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clReleaseMemObject(bufs[i]);
  free(x);
  free(w);
  free(b);
  free(dy);
  ops->destroy(self);
}

static void expect_same(const results *a, const results *b) {
  size_t ny = (size_t)N * H * W * F, nx = (size_t)N * H * W * C, nw = (size_t)F * KS * KS * C;
  EXPECT_CLOSE("y", a->y, b->y, ny, 1e-3, 1e-4);
  EXPECT_CLOSE("dx", a->dx, b->dx, nx, 1e-3, 1e-4);
  EXPECT_CLOSE("dW", a->dw, b->dw, nw, 1e-3, 1e-4);
  EXPECT_CLOSE("db", a->db, b->db, F, 1e-3, 1e-4);
}

static void test_forced_match_im2col(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  results ref, got;
  clt_layer_info info;
  run_layer(ctx, "im2col", &ref, &info);
  assert_string_equal(info.algorithm, "im2col");
  run_layer(ctx, "implicit", &got, &info);
  assert_string_equal(info.algorithm, "implicit");
  expect_same(&ref, &got);
  results_free(&got);
  results_free(&ref);
}

/* The implicit algorithm's weight transpose and chunk reduce come from cl/conv_shared.cl
 * built with no shape options: one program (one compile of each kernel) for every layer. */
static void test_shape_free_kernels_shared(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  run_layer(ctx, "implicit", NULL, NULL);
  int shared = 0;
  for (int i = 0; i < ctx->program_count; i++)
    if (strcmp(ctx->programs[i].file, "conv_shared.cl") == 0) {
      assert_string_equal(ctx->programs[i].options, ctx->std_option);
      shared++;
    }
  assert_int_equal(shared, 1);
}

/* A context whose cache folder is a new folder of the test's temporary folder. */
static clt_ctx *cache_ctx(const char *name) {
  char dir[1024];
  clt_test_make_subdir(dir, sizeof dir, name);
  clt_ctx *ctx = clt_test_ctx_with(NULL, dir, 0);
  assert_true(ctx->cache_enabled);
  return ctx;
}

static clt_conv_shape layer_shape(void) {
  /* same padding, 3x3, stride 1: one pixel on every side */
  clt_conv_shape s = {H, W, C, F, KS, 1, 1, 1, 1, 1, N};
  return s;
}

static void test_auto_stores_and_reuses(void **state) {
  (void)state;
  clt_ctx *ctx = cache_ctx("store");
  results ref, got;
  clt_layer_info info;
  run_layer(ctx, "im2col", &ref, NULL);
  run_layer(ctx, "auto", &got, &info);
  assert_true(info.measured);
  assert_true(ctx->conv_select_seconds > 0);
  expect_same(&ref, &got);
  results_free(&got);
  /* Stored: one decision for the shape, the one that ran. */
  clt_conv_shape s = layer_shape();
  clt_conv_choice c;
  assert_true(clt_conv_choice_find(ctx, &s, &c));
  assert_string_equal(c.forward, info.algorithm);
  assert_string_equal(c.backward, info.algorithm_backward);
  /* Reused without timing: store another algorithm by hand, a new layer runs it. */
  static const char *const fwd[3] = {"implicit", "im2col", "implicit"};
  static const char *const bwd[3] = {"im2col", "implicit", "implicit-dw"};
  for (int i = 0; i < 3; i++) {
    snprintf(c.forward, sizeof c.forward, "%s", fwd[i]);
    snprintf(c.backward, sizeof c.backward, "%s", bwd[i]);
    OK(clt_conv_choice_store(ctx, &c));
    double spent = ctx->conv_select_seconds;
    run_layer(ctx, "auto", &got, &info);
    assert_string_equal(info.algorithm, fwd[i]);
    assert_string_equal(info.algorithm_backward, bwd[i]);
    assert_true(info.measured);
    assert_true(ctx->conv_select_seconds == spent);
    expect_same(&ref, &got);
    results_free(&got);
  }
  results_free(&ref);
  clt_ctx_destroy(ctx);
}

/* A budget spent while a layer's candidates are timed: the layer runs the unmeasured rule,
 * says it was not measured, and stores nothing (a later run times it whole). */
static void test_budget_cut_stores_nothing(void **state) {
  (void)state;
  clt_ctx *ctx = cache_ctx("budget");
  results ref, got;
  clt_layer_info info;
  run_layer(ctx, "im2col", &ref, NULL);
  /* Not spent when the layer starts choosing, spent before its first candidate ends. */
  ctx->gemm_budget = ctx->conv_select_seconds + clt_gemm_selection_seconds(ctx, NULL) + 1e-9;
  run_layer(ctx, "auto", &got, &info);
  assert_false(info.measured);
  expect_same(&ref, &got);
  clt_conv_shape s = layer_shape();
  clt_conv_choice c;
  assert_false(clt_conv_choice_find(ctx, &s, &c));
  results_free(&got);
  results_free(&ref);
  clt_ctx_destroy(ctx);
}

static void test_corrupt_store_rebuilt(void **state) {
  (void)state;
  clt_ctx *ctx = cache_ctx("corrupt");
  char path[4096], key[128];
  assert_int_equal(clt_conv_choices_path(ctx, path, sizeof path), 0);
  clt_conv_choices_key(ctx, key, sizeof key);
  /* Garbage, a foreign key, a right key with a bad line: each ignored, then rewritten. */
  char right_key_bad_line[256];
  snprintf(right_key_bad_line, sizeof right_key_bad_line,
           "%s\n9 7 8 16 3 1 1 1 1 1 2 implicit fft 1 1\n", key);
  const char *bodies[3] = {"\x01\x02 not a store\n", "cltrain-conv-choices-2 0123\n",
                           right_key_bad_line};
  results ref, got;
  run_layer(ctx, "im2col", &ref, NULL);
  clt_set_warning_handler(count_warning);
  warnings = 0;
  for (int i = 0; i < 3; i++) {
    clt_test_write_file(path, bodies[i], strlen(bodies[i]));
    clt_conv_choice *list = NULL;
    assert_int_equal(clt_conv_choices_load(path, key, &list), 0);
    clt_clear_error();
    clt_layer_info info;
    run_layer(ctx, "auto", &got, &info);
    assert_true(info.measured);
    expect_same(&ref, &got);
    results_free(&got);
    assert_int_equal(clt_conv_choices_load(path, key, &list), 1);
    assert_string_equal(list[0].forward, info.algorithm);
    assert_string_equal(list[0].backward, info.algorithm_backward);
    free(list);
  }
  clt_set_warning_handler(NULL);
  assert_int_equal(warnings, 0); /* silently */
  results_free(&ref);
  clt_ctx_destroy(ctx);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  /* Never read or touch the user's cache; measure (CTest sets CLTRAIN_GEMM=default). */
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("default-cache"), 1);
  setenv("CLTRAIN_GEMM", "auto", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forced_match_im2col),
      cmocka_unit_test(test_shape_free_kernels_shared),
      cmocka_unit_test(test_auto_stores_and_reuses),
      cmocka_unit_test(test_budget_cut_stores_nothing),
      cmocka_unit_test(test_corrupt_store_rebuilt),
  };
  int failed = CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
