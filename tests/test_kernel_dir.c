/* --kernel-dir: programs built from a folder on disk, build failures with
 * their log, missing files and kernels. Needs a device (skips without one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/memory.h"
#include "runtime/program.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static char kernel_dir[1024];
static clt_ctx *ctx; /* kernel_dir = kernel_dir, no on-disk cache */

static const char good_source[] = "#ifndef ADD\n"
                                  "#define ADD 1.0f\n"
                                  "#endif\n"
                                  "__kernel void add_one(__global float *a, int n) {\n"
                                  "  int i = get_global_id(0);\n"
                                  "  if (i < n) a[i] += ADD;\n"
                                  "}\n";

/* Line 3 lacks its semicolon; line 4 uses an undeclared name. */
static const char bad_source[] = "__kernel void broken(__global float *a, int n) {\n"
                                 "  int i = get_global_id(0);\n"
                                 "  if (i < n) a[i] = 1.0f\n"
                                 "  a[0] = clt_no_such_symbol;\n"
                                 "}\n";

static clt_ctx *open_ctx(const char *kdir) {
  clt_ctx *c = clt_test_ctx_with(kdir, NULL, 1);
  assert_string_equal(c->kernel_dir, kdir);
  assert_int_equal(c->cache_enabled, 0);
  return c;
}

static int group_setup(void **state) {
  (void)state;
  clt_test_make_kernel_dir(kernel_dir, sizeof kernel_dir);
  clt_test_write_text(kernel_dir, "good.cl", good_source);
  clt_test_write_text(kernel_dir, "bad.cl", bad_source);
  ctx = open_ctx(kernel_dir);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  clt_ctx_destroy(ctx);
  ctx = NULL;
  return 0;
}

/* Runs add_one (with the given build options) over n values and checks a[i] = i + add. */
static void run_add_one(const char *options, int n, float add) {
  clt_kernel k;
  OK(clt_kernel_create(ctx, "good.cl", "add_one", options, &k));
  assert_true(k.local_1d >= 1);
  /* One more value than launched, to see that the guard stops at n. */
  float *host = malloc((size_t)(n + 1) * sizeof *host);
  assert_non_null(host);
  for (int i = 0; i <= n; i++) host[i] = (float)i;
  cl_mem buf = NULL;
  size_t bytes = (size_t)(n + 1) * sizeof *host;
  OK(clt_buffer_create(ctx, bytes, &buf));
  OK(clt_buffer_write(ctx, buf, 0, bytes, host));
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, n);
  OK(clt_run_1d(ctx, &k, (size_t)n));
  OK(clt_buffer_read(ctx, buf, 0, bytes, host));
  for (int i = 0; i < n; i++)
    if (host[i] != (float)i + add) fail_msg("a[%d] = %g, want %g", i, host[i], (float)i + add);
  assert_true(host[n] == (float)n); /* past n: untouched */
  /* The argument counter starts again for the next launch. */
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, n);
  OK(clt_run_1d(ctx, &k, (size_t)n));
  OK(clt_buffer_read(ctx, buf, 0, bytes, host));
  assert_true(host[0] == 2.0f * add);
  assert_true(host[n] == (float)n);
  clt_buffer_release(&buf);
  clt_kernel_release(&k);
  free(host);
}

static void test_good_builds_and_runs(void **state) {
  (void)state;
  cl_program a = NULL, b = NULL;
  OK(clt_program_get(ctx, "good.cl", "", &a));
  assert_non_null(a);
  /* Built once per context and options. */
  assert_int_equal(clt_program_get(ctx, "good.cl", NULL, &b), CLT_OK);
  assert_ptr_equal(a, b);
  run_add_one("", 37, 1.0f); /* 37 is no multiple of any work-group size */
  run_add_one("", 1, 1.0f);
  run_add_one("", 1000, 1.0f);
  /* Options reach the compiler, and give another program. */
  assert_int_equal(clt_program_get(ctx, "good.cl", "-DADD=5.0f", &b), CLT_OK);
  assert_ptr_not_equal(a, b);
  run_add_one("-DADD=5.0f", 37, 5.0f);
}

static void test_source_is_common_then_file(void **state) {
  (void)state;
  char *text = NULL;
  size_t length = 0;
  assert_int_equal(clt_program_source(ctx, "good.cl", &text, &length), CLT_OK);
  assert_non_null(text);
  assert_int_equal(strlen(text), length);
  assert_non_null(strstr(text, "clt_mix32")); /* from common.clh */
  const char *body = strstr(text, good_source);
  assert_non_null(body);
  assert_int_equal(body + strlen(good_source), text + length); /* the file comes last */
  free(text);
}

static void test_bad_fails_with_log(void **state) {
  (void)state;
  cl_program prog = NULL;
  EXPECT_FAIL(clt_program_get(ctx, "bad.cl", "", &prog), CLT_ERR_BUILD, "bad.cl");
  const char *msg = clt_last_error();
  fprintf(stderr, "build failure message (expected):\n%s\n", msg);
  assert_non_null(strstr(msg, ctx->dev.name));
  assert_non_null(strstr(msg, "-cl-std=CL1.2"));
  assert_non_null(strstr(msg, "clt_no_such_symbol")); /* the build log */
  assert_non_null(strstr(msg, "error"));
  /* Asking again fails again (nothing half-built was kept), and so does a kernel. */
  assert_int_equal(clt_program_get(ctx, "bad.cl", "", &prog), CLT_ERR_BUILD);
  clt_kernel k;
  assert_int_equal(clt_kernel_create(ctx, "bad.cl", "broken", "", &k), CLT_ERR_BUILD);
  /* The extra options appear too. */
  EXPECT_FAIL(clt_program_get(ctx, "bad.cl", "-DCLT_MARKER=7", &prog), CLT_ERR_BUILD,
              "-DCLT_MARKER=7");
  /* The good program is unaffected. */
  run_add_one("", 37, 1.0f);
}

static void test_build_log_line_numbers(void **state) {
  (void)state;
  /* #line keeps the log's line numbers inside the file: the undeclared name is on line 4. */
  cl_program prog = NULL;
  assert_int_equal(clt_program_get(ctx, "bad.cl", "", &prog), CLT_ERR_BUILD);
  const char *msg = clt_last_error();
  /* PoCL and rusticl write "FILE:LINE:COL:" and honour #line; Oclgrind 21.10 does not
   * honour #line (it reports lines counted from the start of common.clh). */
  const char *p = ctx->dev.platform_name;
  if (strstr(p, "Portable Computing") || strstr(p, "rusticl")) {
    assert_non_null(strstr(msg, ":3:")); /* the missing ';' */
    assert_non_null(strstr(msg, ":4:")); /* the undeclared name */
  } else if (!strstr(msg, ":4:")) {
    fprintf(stderr, "note: this build log has no ':4:' position\n");
  }
}

static void test_missing_file(void **state) {
  (void)state;
  cl_program prog = NULL;
  char path[1100];
  snprintf(path, sizeof path, "%s/missing.cl", kernel_dir);
  EXPECT_FAIL(clt_program_get(ctx, "missing.cl", "", &prog), CLT_ERR_MISSING_INPUT, path);
  clt_kernel k;
  assert_int_equal(clt_kernel_create(ctx, "missing.cl", "add_one", "", &k), CLT_ERR_MISSING_INPUT);
}

static void test_missing_common_header(void **state) {
  (void)state;
  char dir[1024];
  clt_test_make_subdir(dir, sizeof dir, "no-common");
  clt_test_write_text(dir, "good.cl", good_source);
  clt_ctx *other = open_ctx(dir);
  cl_program prog = NULL;
  EXPECT_FAIL(clt_program_get(other, "good.cl", "", &prog), CLT_ERR_MISSING_INPUT, "common.clh");
  clt_ctx_destroy(other);
  clt_test_remove_tree(dir);
}

static void test_missing_kernel_dir(void **state) {
  (void)state;
  const char *dir = clt_test_tmp_path("does-not-exist");
  clt_ctx *other = open_ctx(dir);
  cl_program prog = NULL;
  EXPECT_FAIL(clt_program_get(other, "good.cl", "", &prog), CLT_ERR_MISSING_INPUT, dir);
  clt_ctx_destroy(other);
}

static void test_missing_kernel_name(void **state) {
  (void)state;
  clt_kernel k;
  clt_clear_error();
  assert_int_not_equal(clt_kernel_create(ctx, "good.cl", "no_such_kernel", "", &k), CLT_OK);
  EXPECT_MESSAGE_HAS("no_such_kernel");
  assert_null(k.k);
  clt_kernel_release(&k); /* safe on a failed kernel */
  /* The program itself is still fine. */
  run_add_one("", 37, 1.0f);
}

static void test_wrong_arguments(void **state) {
  (void)state;
  /* A missing argument is reported by the launch, not a crash. */
  clt_kernel k;
  OK(clt_kernel_create(ctx, "good.cl", "add_one", "", &k));
  cl_mem buf = NULL;
  OK(clt_buffer_create(ctx, 64, &buf));
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, 4);
  clt_arg_int(&k, 5); /* one too many */
  clt_clear_error();
  assert_int_not_equal(clt_run_1d(ctx, &k, 4), CLT_OK);
  EXPECT_MESSAGE_HAS("add_one");
  /* The error is not sticky: a correct launch afterwards works. */
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, 4);
  OK(clt_run_1d(ctx, &k, 4));
  OK(clt_ctx_finish(ctx));
  clt_buffer_release(&buf);
  clt_kernel_release(&k);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  /* The shared test context must not touch the user's cache folder either. */
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("cache"), 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_builds_and_runs),
      cmocka_unit_test(test_source_is_common_then_file),
      cmocka_unit_test(test_bad_fails_with_log),
      cmocka_unit_test(test_build_log_line_numbers),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_missing_common_header),
      cmocka_unit_test(test_missing_kernel_dir),
      cmocka_unit_test(test_missing_kernel_name),
      cmocka_unit_test(test_wrong_arguments),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, group_setup, group_teardown);
}
