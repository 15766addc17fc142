#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/device_open.h"
#include "runtime/devices.h"
#include "runtime/env_settings.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "temp_files.h"

static clt_ctx *test_ctx;
static int test_ctx_tried;

clt_ctx *clt_test_ctx(void) {
  if (test_ctx_tried) return test_ctx;
  test_ctx_tried = 1;
  clt_device_list list;
  if (clt_device_list_query(&list) != CLT_OK || list.device_count == 0) {
    clt_device_list_free(&list);
    return NULL;
  }
  const char *spec = getenv("CLTRAIN_TEST_DEVICE");
  int index = 0;
  if (spec && *spec) {
    if (clt_device_select(&list, spec, &index) != CLT_OK) {
      fprintf(stderr, "CLTRAIN_TEST_DEVICE: %s\n", clt_last_error());
      clt_device_list_free(&list);
      return NULL;
    }
  } else if (clt_device_select(&list, "portable computing", &index) != CLT_OK) {
    clt_clear_error();
    index = 0;
  }
  /* The settings the CLI would take from the environment (cache folder, limits, tuning). */
  clt_env_settings env;
  clt_env_settings_read(&env, getenv);
  clt_ctx_options opt = {0};
  clt_env_settings_fill_ctx(&env, &opt);
  if (clt_ctx_open(&list.devices[index], &opt, &test_ctx) != CLT_OK) {
    fprintf(stderr, "cannot create a context: %s\n", clt_last_error());
    test_ctx = NULL;
  }
  clt_device_list_free(&list);
  return test_ctx;
}

clt_ctx *clt_test_ctx_or_skip(void) {
  clt_ctx *ctx = clt_test_ctx();
  if (!ctx) {
    fprintf(stderr, "no OpenCL device: skipping (install pocl-opencl-icd)\n");
    exit(CLT_SKIP_CODE);
  }
  fprintf(stderr, "device: %s (%s)\n", ctx->dev.name, ctx->dev.platform_name);
  return ctx;
}

void clt_test_ctx_release(void) {
  clt_ctx_destroy(test_ctx);
  test_ctx = NULL;
  test_ctx_tried = 0;
}

int clt_test_run_on_device(const char *name, const struct CMUnitTest *tests, size_t count,
                           clt_ctx **ctx, int (*setup)(void **), int (*teardown)(void **)) {
  clt_ctx *c = clt_test_ctx_or_skip();
  if (ctx) *ctx = c;
  int failed = _cmocka_run_group_tests(name, tests, count, setup, teardown);
  clt_test_ctx_release();
  if (ctx) *ctx = NULL;
  return failed;
}

clt_ctx *clt_test_ctx_with(const char *kernel_dir, const char *cache_dir, int no_cache) {
  clt_ctx *base = clt_test_ctx();
  assert_non_null(base);
  clt_ctx_options opt = {0};
  opt.kernel_dir = kernel_dir;
  opt.cache_dir = cache_dir;
  opt.no_kernel_cache = no_cache;
  clt_env_settings env; /* the rest as the CLI would take it from the environment */
  clt_env_settings_read(&env, getenv);
  clt_env_settings_fill_ctx(&env, &opt);
  clt_ctx *ctx = NULL;
  if (clt_ctx_open(&base->dev, &opt, &ctx) != CLT_OK)
    fail_msg("clt_ctx_open: %s", clt_last_error());
  assert_non_null(ctx);
  return ctx;
}

void clt_test_make_kernel_dir(char *buf, size_t size) {
  clt_test_make_subdir(buf, size, "kernels");
  char path[1024];
  snprintf(path, sizeof path, "%s/common.clh", buf);
  clt_test_copy_file(CLT_SOURCE_DIR "/cl/common.clh", path);
}

double *clt_test_alloc(size_t n) {
  double *a = calloc(n ? n : 1, sizeof *a);
  assert_non_null(a);
  return a;
}

void clt_test_fill_uniform(double *a, size_t n, double lo, double hi, uint32_t seed) {
  for (size_t i = 0; i < n; i++)
    a[i] = lo + (hi - lo) * (double)clt_uniform(seed, 0x7e57u, (uint32_t)i);
}

double *clt_test_random(size_t n, double lo, double hi, uint32_t seed) {
  double *a = clt_test_alloc(n);
  clt_test_fill_uniform(a, n, lo, hi, seed);
  clt_test_round_to_float(a, n);
  return a;
}

cl_mem clt_test_upload(clt_ctx *ctx, const double *a, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
  cl_mem mem = NULL;
  if (clt_buffer_create(ctx, n * sizeof(float), &mem) != CLT_OK ||
      clt_buffer_write(ctx, mem, 0, n * sizeof(float), f) != CLT_OK) {
    fprintf(stderr, "upload failed: %s\n", clt_last_error());
    abort();
  }
  free(f);
  return mem;
}

cl_mem clt_test_zeros(clt_ctx *ctx, size_t n) {
  cl_mem mem = NULL;
  if (clt_buffer_create(ctx, n * sizeof(float), &mem) != CLT_OK ||
      clt_buffer_zero(ctx, mem, 0, n * sizeof(float)) != CLT_OK) {
    fprintf(stderr, "allocation failed: %s\n", clt_last_error());
    abort();
  }
  return mem;
}

cl_mem clt_test_filled(clt_ctx *ctx, size_t n, double value) {
  double *a = clt_test_alloc(n);
  for (size_t i = 0; i < n; i++) a[i] = value;
  cl_mem mem = clt_test_upload(ctx, a, n);
  free(a);
  return mem;
}

void clt_test_download(clt_ctx *ctx, cl_mem mem, double *out, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  if (clt_buffer_read(ctx, mem, 0, n * sizeof(float), f) != CLT_OK) {
    fprintf(stderr, "download failed: %s\n", clt_last_error());
    abort();
  }
  for (size_t i = 0; i < n; i++) out[i] = f[i];
  free(f);
}

double clt_test_rel_error(const char *what, const double *got, const double *want, size_t n,
                          double floor, double tol) {
  double scale = floor, worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  for (size_t i = 0; i < n; i++) {
    double e = fabs(got[i] - want[i]);
    if (!(e <= worst)) { /* also catches NaN */
      worst = isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  double rel = worst / scale;
  if (!(rel <= tol) && n > 0)
    fprintf(stderr, "%s: relative error %.3g > %.3g at [%zu]: got %.9g want %.9g\n", what, rel, tol,
            at, got[at], want[at]);
  return rel;
}

void clt_test_round_to_float(double *a, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] = (double)(float)a[i];
}
