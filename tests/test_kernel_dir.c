/* --kernel-dir: programs built from a folder on disk, build failures with
 * their log, missing files and kernels. Needs a device (skips without one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/memory.h"
#include "runtime/program.h"
#include "util/test_util.h"

static char root_dir[512];
static char kernel_dir[600];
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

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, size, f), size);
  assert_int_equal(fclose(f), 0);
}

static void write_text(const char *dir, const char *name, const char *text) {
  char path[800];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  write_file(path, text, strlen(text));
}

static void copy_file(const char *from, const char *to) {
  FILE *f = fopen(from, "rb");
  if (!f) fail_msg("cannot open %s", from);
  char buf[4096];
  size_t n;
  FILE *g = fopen(to, "wb");
  assert_non_null(g);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) assert_int_equal(fwrite(buf, 1, n, g), n);
  fclose(f);
  assert_int_equal(fclose(g), 0);
}

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static clt_ctx *open_ctx(const char *kdir) {
  clt_ctx *base = clt_test_ctx();
  assert_non_null(base);
  clt_ctx_options opt = {0};
  opt.kernel_dir = kdir;
  opt.no_kernel_cache = 1;
  clt_ctx *c = NULL;
  if (clt_ctx_create(&base->dev, &opt, &c) != CLT_OK)
    fail_msg("clt_ctx_create: %s", clt_last_error());
  assert_non_null(c);
  assert_string_equal(c->kernel_dir, kdir);
  assert_int_equal(c->cache_enabled, 0);
  return c;
}

static int group_setup(void **state) {
  (void)state;
  char path[800];
  snprintf(kernel_dir, sizeof kernel_dir, "%s/kernels", root_dir);
  if (mkdir(kernel_dir, 0755) != 0) return -1;
  snprintf(path, sizeof path, "%s/common.clh", kernel_dir);
  copy_file(CLT_SOURCE_DIR "/cl/common.clh", path);
  write_text(kernel_dir, "good.cl", good_source);
  write_text(kernel_dir, "bad.cl", bad_source);
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
  clt_status st = clt_kernel_create(ctx, "good.cl", "add_one", options, &k);
  if (st != CLT_OK) fail_msg("clt_kernel_create: %s", clt_last_error());
  assert_true(k.local_1d >= 1);
  /* One more value than launched, to see that the guard stops at n. */
  float *host = malloc((size_t)(n + 1) * sizeof *host);
  assert_non_null(host);
  for (int i = 0; i <= n; i++) host[i] = (float)i;
  cl_mem buf = NULL;
  size_t bytes = (size_t)(n + 1) * sizeof *host;
  assert_int_equal(clt_buffer_create(ctx, bytes, &buf), CLT_OK);
  assert_int_equal(clt_buffer_write(ctx, buf, 0, bytes, host), CLT_OK);
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, n);
  st = clt_run_1d(ctx, &k, (size_t)n);
  if (st != CLT_OK) fail_msg("clt_run_1d: %s", clt_last_error());
  assert_int_equal(clt_buffer_read(ctx, buf, 0, bytes, host), CLT_OK);
  for (int i = 0; i < n; i++)
    if (host[i] != (float)i + add) fail_msg("a[%d] = %g, want %g", i, host[i], (float)i + add);
  assert_true(host[n] == (float)n); /* past n: untouched */
  /* The argument counter starts again for the next launch. */
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, n);
  assert_int_equal(clt_run_1d(ctx, &k, (size_t)n), CLT_OK);
  assert_int_equal(clt_buffer_read(ctx, buf, 0, bytes, host), CLT_OK);
  assert_true(host[0] == 2.0f * add);
  assert_true(host[n] == (float)n);
  clt_buffer_release(&buf);
  clt_kernel_release(&k);
  free(host);
}

static void test_good_builds_and_runs(void **state) {
  (void)state;
  cl_program a = NULL, b = NULL;
  clt_status st = clt_program_get(ctx, "good.cl", "", &a);
  if (st != CLT_OK) fail_msg("good.cl: %s", clt_last_error());
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
  clt_clear_error();
  clt_status st = clt_program_get(ctx, "bad.cl", "", &prog);
  assert_int_equal(st, CLT_ERR_BUILD);
  const char *msg = clt_last_error();
  fprintf(stderr, "build failure message (expected):\n%s\n", msg);
  assert_non_null(strstr(msg, "bad.cl"));
  assert_non_null(strstr(msg, ctx->dev.name));
  assert_non_null(strstr(msg, "-cl-std=CL1.2"));
  assert_non_null(strstr(msg, "clt_no_such_symbol")); /* the build log */
  assert_non_null(strstr(msg, "error"));
  /* Asking again fails again (nothing half-built was kept), and so does a kernel. */
  assert_int_equal(clt_program_get(ctx, "bad.cl", "", &prog), CLT_ERR_BUILD);
  clt_kernel k;
  assert_int_equal(clt_kernel_create(ctx, "bad.cl", "broken", "", &k), CLT_ERR_BUILD);
  /* The extra options appear too. */
  assert_int_equal(clt_program_get(ctx, "bad.cl", "-DCLT_MARKER=7", &prog), CLT_ERR_BUILD);
  assert_non_null(strstr(clt_last_error(), "-DCLT_MARKER=7"));
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
  char path[800];
  snprintf(path, sizeof path, "%s/missing.cl", kernel_dir);
  clt_clear_error();
  assert_int_equal(clt_program_get(ctx, "missing.cl", "", &prog), CLT_ERR_MISSING_INPUT);
  assert_non_null(strstr(clt_last_error(), path));
  clt_kernel k;
  assert_int_equal(clt_kernel_create(ctx, "missing.cl", "add_one", "", &k), CLT_ERR_MISSING_INPUT);
}

static void test_missing_common_header(void **state) {
  (void)state;
  char dir[700];
  snprintf(dir, sizeof dir, "%s/no-common", root_dir);
  assert_int_equal(mkdir(dir, 0755), 0);
  write_text(dir, "good.cl", good_source);
  clt_ctx *other = open_ctx(dir);
  cl_program prog = NULL;
  clt_clear_error();
  assert_int_equal(clt_program_get(other, "good.cl", "", &prog), CLT_ERR_MISSING_INPUT);
  assert_non_null(strstr(clt_last_error(), "common.clh"));
  clt_ctx_destroy(other);
  remove_tree(dir);
}

static void test_missing_kernel_dir(void **state) {
  (void)state;
  char dir[700];
  snprintf(dir, sizeof dir, "%s/does-not-exist", root_dir);
  clt_ctx *other = open_ctx(dir);
  cl_program prog = NULL;
  clt_clear_error();
  assert_int_equal(clt_program_get(other, "good.cl", "", &prog), CLT_ERR_MISSING_INPUT);
  assert_non_null(strstr(clt_last_error(), dir));
  clt_ctx_destroy(other);
}

static void test_missing_kernel_name(void **state) {
  (void)state;
  clt_kernel k;
  clt_clear_error();
  clt_status st = clt_kernel_create(ctx, "good.cl", "no_such_kernel", "", &k);
  assert_int_not_equal(st, CLT_OK);
  assert_non_null(strstr(clt_last_error(), "no_such_kernel"));
  assert_null(k.k);
  clt_kernel_release(&k); /* safe on a failed kernel */
  /* The program itself is still fine. */
  run_add_one("", 37, 1.0f);
}

static void test_wrong_arguments(void **state) {
  (void)state;
  /* A missing argument is reported by the launch, not a crash. */
  clt_kernel k;
  assert_int_equal(clt_kernel_create(ctx, "good.cl", "add_one", "", &k), CLT_OK);
  cl_mem buf = NULL;
  assert_int_equal(clt_buffer_create(ctx, 64, &buf), CLT_OK);
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, 4);
  clt_arg_int(&k, 5); /* one too many */
  clt_clear_error();
  assert_int_not_equal(clt_run_1d(ctx, &k, 4), CLT_OK);
  assert_non_null(strstr(clt_last_error(), "add_one"));
  /* The error is not sticky: a correct launch afterwards works. */
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, 4);
  assert_int_equal(clt_run_1d(ctx, &k, 4), CLT_OK);
  assert_int_equal(clt_ctx_finish(ctx), CLT_OK);
  clt_buffer_release(&buf);
  clt_kernel_release(&k);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(root_dir, sizeof root_dir, "%s/clt-test-kernel-dir-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(root_dir)) {
    perror("mkdtemp");
    return 1;
  }
  /* The shared test context must not touch the user's cache folder either. */
  char cache[700];
  snprintf(cache, sizeof cache, "%s/cache", root_dir);
  setenv("CLTRAIN_CACHE_DIR", cache, 1);
  clt_ctx *base = clt_test_ctx();
  if (!base) {
    remove_tree(root_dir);
    fprintf(stderr, "no OpenCL device: skipping (install pocl-opencl-icd)\n");
    return CLT_SKIP_CODE;
  }
  fprintf(stderr, "device: %s (%s)\n", base->dev.name, base->dev.platform_name);
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
  int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
  clt_test_ctx_release();
  remove_tree(root_dir);
  return failed;
}
