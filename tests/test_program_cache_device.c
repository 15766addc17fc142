/* The on-disk program cache with a device: hits, misses and recovery through contexts,
 * foreign and damaged entries, the cache turned off, an unusable folder, embedded
 * programs, drivers with their own cache. test_program_cache.c covers keys and entries
 * without a device. */
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

#include "runtime/memory.h"
#include "runtime/env_settings.h"
#include "runtime/program.h"
#include "runtime/program_cache.h"
#include "runtime/quirks.h"
#include "util/cache_entries.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

/* ---------- with a device ---------- */

static const char probe_source[] = "__kernel void twice_plus_one(__global float *a, int n) {\n"
                                   "  int i = get_global_id(0);\n"
                                   "  if (i < n) a[i] = 2.0f * a[i] + 1.0f;\n"
                                   "}\n";

static char kernel_dir[600];

static void make_kernel_dir(void) {
  if (kernel_dir[0]) return;
  clt_test_make_kernel_dir(kernel_dir, sizeof kernel_dir);
  clt_test_write_text(kernel_dir, "probe.cl", probe_source);
}

static const clt_device_info *test_device(void) {
  clt_ctx *base = clt_test_ctx();
  if (!base) return NULL;
  return &base->dev;
}

/* A context that keeps binaries whatever the driver (the store is what these tests cover). */
static clt_ctx *open_ctx(const char *cache_dir, const char *kdir) {
  assert_non_null(test_device());
  clt_ctx *ctx = clt_test_ctx_with(kdir, cache_dir, 0);
  ctx->program_binaries = ctx->cache_enabled;
  return ctx;
}

static void get_probe(clt_ctx *ctx, const char *options) {
  cl_program prog = NULL;
  OK(clt_program_get(ctx, "probe.cl", options, &prog));
  assert_non_null(prog);
}

/* Builds (or fetches) probe.cl and runs it on 37 values. */
static void run_probe(clt_ctx *ctx) {
  enum { N = 37 };
  clt_kernel k;
  OK(clt_kernel_create(ctx, "probe.cl", "twice_plus_one", "", &k));
  float host[N], out[N];
  for (int i = 0; i < N; i++) host[i] = (float)i - 10.0f;
  cl_mem buf = NULL;
  OK(clt_buffer_create(ctx, sizeof host, &buf));
  OK(clt_buffer_write(ctx, buf, 0, sizeof host, host));
  clt_arg_mem(&k, buf);
  clt_arg_int(&k, N);
  OK(clt_run_1d(ctx, &k, N));
  OK(clt_buffer_read(ctx, buf, 0, sizeof out, out));
  for (int i = 0; i < N; i++)
    if (out[i] != 2.0f * host[i] + 1.0f) fail_msg("out[%d] = %g, want %g", i, out[i], host[i]);
  clt_buffer_release(&buf);
  clt_kernel_release(&k);
}

static int device_setup(void **state) {
  (void)state;
  if (test_device()) make_kernel_dir();
  return 0;
}

#define REQUIRE_DEVICE()                                                                           \
  do {                                                                                             \
    if (!test_device()) {                                                                          \
      fprintf(stderr, "no OpenCL device: skipping the device part\n");                             \
      skip();                                                                                      \
    }                                                                                              \
  } while (0)

/* One context: build probe.cl, expect the given counts, destroy. */
static void probe_expect(const char *cache_dir, int hits, int misses, int run) {
  clt_ctx *ctx = open_ctx(cache_dir, kernel_dir);
  assert_int_equal(ctx->cache_enabled, 1);
  get_probe(ctx, "");
  if (run) run_probe(ctx);
  if (ctx->cache_hits != hits || ctx->cache_misses != misses)
    fail_msg("cache hits %d misses %d, want %d and %d", ctx->cache_hits, ctx->cache_misses, hits,
             misses);
  clt_ctx_destroy(ctx);
}

static void test_device_miss_then_hit(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char cache[600];
  clt_test_make_subdir(cache, sizeof cache, "cache");

  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  assert_int_equal(ctx->cache_enabled, 1);
  assert_string_equal(ctx->cache_dir, cache);
  get_probe(ctx, "");
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(ctx->cache_hits, 0);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 1);
  /* The same program again in this context: no second build request. */
  get_probe(ctx, "");
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(ctx->cache_hits, 0);
  clt_ctx_destroy(ctx);

  /* A new context with the same folder: a hit, and the program works. */
  probe_expect(cache, 1, 0, 1);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 1);

  /* Other options: another key, another entry. */
  ctx = open_ctx(cache, kernel_dir);
  get_probe(ctx, "-DCLT_PROBE_OPTION=1");
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(ctx->cache_hits, 0);
  get_probe(ctx, "");
  assert_int_equal(ctx->cache_hits, 1);
  clt_ctx_destroy(ctx);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 2);

  clt_test_remove_tree(cache);
}

/* The key the runtime uses for probe.cl with no extra options in ctx. */
static void probe_key(clt_ctx *ctx, char key[33]) {
  char *source = NULL;
  size_t length = 0;
  assert_int_equal(clt_program_source(ctx, "probe.cl", &source, &length), CLT_OK);
  clt_cache_key_parts parts = {source,
                               length,
                               ctx->std_option,
                               ctx->dev.name,
                               ctx->dev.driver_version,
                               ctx->dev.platform_version};
  clt_cache_key(&parts, key);
  free(source);
}

/* clt_cache_load (1 or 0) of probe.cl's entry in cache, with its full key; or, with
 * store, stores binary[n] as that entry (a valid entry whose binary is foreign). */
static int probe_entry(const char *cache, const unsigned char *store, size_t n) {
  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  char *source = NULL;
  size_t length = 0;
  assert_int_equal(clt_program_source(ctx, "probe.cl", &source, &length), CLT_OK);
  clt_cache_key_parts parts = {source,
                               length,
                               ctx->std_option,
                               ctx->dev.name,
                               ctx->dev.driver_version,
                               ctx->dev.platform_version};
  char key[33];
  clt_cache_key(&parts, key);
  unsigned char *bin = NULL;
  size_t size = 0;
  int got = store ? clt_cache_store(cache, key, &parts, store, n) == CLT_OK
                  : clt_cache_load(cache, key, &parts, &bin, &size);
  free(bin);
  free(source);
  clt_ctx_destroy(ctx);
  return got;
}

static void test_device_damaged_entry_rebuilt(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char cache[600], key[33], path[700], expected_key[33];
  clt_test_make_subdir(cache, sizeof cache, "cache");
  probe_expect(cache, 0, 1, 0);
  assert_int_equal(clt_test_cache_entries(cache, key), 1);
  clt_test_cache_entry_path(path, sizeof path, cache, key);

  /* The file name is the documented key. */
  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  probe_key(ctx, expected_key);
  clt_ctx_destroy(ctx);
  assert_string_equal(key, expected_key);

  /* Bytes overwritten in the middle. */
  size_t size = 0;
  unsigned char *data = clt_test_read_file(path, &size);
  assert_true(size > 64);
  for (size_t i = size / 2; i < size / 2 + 16; i++) data[i] ^= 0xff;
  clt_test_write_file(path, data, size);
  free(data);
  probe_expect(cache, 0, 1, 1);                     /* builds fine, counts a miss */
  assert_int_equal(probe_entry(cache, NULL, 0), 1); /* rewritten, valid again */
  probe_expect(cache, 1, 0, 1);

  /* Truncated. */
  data = clt_test_read_file(path, &size);
  clt_test_write_file(path, data, size / 2);
  free(data);
  probe_expect(cache, 0, 1, 1);
  assert_int_equal(probe_entry(cache, NULL, 0), 1);
  probe_expect(cache, 1, 0, 1);

  /* An intact entry (good CRC) whose binary the driver rejects: stale, rebuilt.
   * Mesa 22.3 rusticl aborts the process on a foreign binary ("unknown version"
   * panic in clCreateProgramWithBinary), so this case is not tried there. */
  if (!strstr(test_device()->platform_name, "rusticl")) {
    unsigned char *junk = clt_test_cache_fake_binary(4096, 9);
    assert_int_equal(probe_entry(cache, junk, 4096), 1);
    free(junk);
    probe_expect(cache, 0, 1, 1);
    probe_expect(cache, 1, 0, 1);
  }
  assert_int_equal(clt_test_cache_entries(cache, NULL), 1);

  clt_test_remove_tree(cache);
}

/* An entry must prove its key: a valid entry (good CRC) of another program, put under the
 * name of probe.cl's key (a copy, or a hash collision), is rebuilt, never used. */
static void test_device_foreign_entry_rebuilt(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char cache[600], other_dir[600], key[33], path[700], other_path[700];
  clt_test_make_subdir(cache, sizeof cache, "cache");
  clt_test_make_kernel_dir(other_dir, sizeof other_dir);
  /* Another probe.cl: same kernel name and signature, another result (3a, not 2a + 1). */
  clt_test_write_text(other_dir, "probe.cl",
                      "__kernel void twice_plus_one(__global float *a, int n) {\n"
                      "  int i = get_global_id(0);\n"
                      "  if (i < n) a[i] = 3.0f * a[i];\n"
                      "}\n");
  clt_ctx *ctx = open_ctx(cache, other_dir);
  get_probe(ctx, "");
  clt_ctx_destroy(ctx);
  char other_key[33];
  assert_int_equal(clt_test_cache_entries(cache, other_key), 1);
  /* The real probe's key, and the foreign entry copied under it. */
  probe_expect(cache, 0, 1, 0);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 2);
  ctx = open_ctx(cache, kernel_dir);
  probe_key(ctx, key);
  clt_ctx_destroy(ctx);
  clt_test_cache_entry_path(path, sizeof path, cache, key);
  clt_test_cache_entry_path(other_path, sizeof other_path, cache, other_key);
  size_t size = 0;
  unsigned char *data = clt_test_read_file(other_path, &size);
  clt_test_write_file(path, data, size);
  free(data);
  probe_expect(cache, 0, 1, 1); /* a miss: rebuilt, and the right kernel runs */
  probe_expect(cache, 1, 0, 1); /* the rebuilt entry is its own again */
  clt_test_remove_tree(cache);
  clt_test_remove_tree(other_dir);
}

static void test_device_cache_off_by_env(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char cache[600];
  clt_test_make_subdir(cache, sizeof cache, "cache");
  char *saved = clt_test_env_save("CLTRAIN_KERNEL_CACHE");
  setenv("CLTRAIN_KERNEL_CACHE", "0", 1);
  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  clt_test_env_restore("CLTRAIN_KERNEL_CACHE", saved);
  free(saved);
  assert_int_equal(ctx->cache_enabled, 0);
  get_probe(ctx, "");
  run_probe(ctx);
  assert_int_equal(ctx->cache_hits, 0);
  clt_ctx_destroy(ctx);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 0);

  /* And by the option (--no-kernel-cache). */
  ctx = clt_test_ctx_with(kernel_dir, cache, 1);
  assert_int_equal(ctx->cache_enabled, 0);
  get_probe(ctx, "");
  clt_ctx_destroy(ctx);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 0);
  clt_test_remove_tree(cache);
}

static int warnings_seen;
static char last_warning[2048];
static void count_warning(const char *message) {
  warnings_seen++;
  snprintf(last_warning, sizeof last_warning, "%s", message);
}

static void test_device_unusable_cache_dir(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char dir[600], file[700], cache[800];
  clt_test_make_subdir(dir, sizeof dir, "unusable");
  snprintf(file, sizeof file, "%s/file", dir);
  clt_test_write_file(file, "not a folder", 12);
  snprintf(cache, sizeof cache, "%s/sub", file);

  warnings_seen = 0;
  last_warning[0] = '\0';
  clt_set_warning_handler(count_warning);
  clt_clear_error();
  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  assert_int_equal(ctx->cache_enabled, 0);
  assert_int_equal(warnings_seen, 1);
  assert_non_null(strstr(last_warning, cache));
  assert_string_equal(clt_last_error(), ""); /* a warning, not a recorded error */
  /* Builds still work, without more warnings. */
  run_probe(ctx);
  assert_int_equal(ctx->cache_hits, 0);
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(warnings_seen, 1);
  clt_ctx_destroy(ctx);
  clt_set_warning_handler(NULL);
  clt_test_remove_tree(dir);
}

static void test_device_embedded_program(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  const char *const *files = NULL;
  int n = clt_program_files(&files);
  if (n == 0) {
    fprintf(stderr, "no embedded kernel files yet: skipping\n");
    skip();
  }
  for (int i = 0; i < n; i++) {
    size_t len = strlen(files[i]);
    assert_true(len > 3 && strcmp(files[i] + len - 3, ".cl") == 0);
  }
  char cache[600];
  clt_test_make_subdir(cache, sizeof cache, "cache");
  /* The first embedded file that builds (others may be mid-edit). */
  clt_ctx *ctx = open_ctx(cache, NULL);
  const char *file = NULL;
  for (int i = 0; i < n && !file; i++) {
    cl_program prog;
    if (clt_program_get(ctx, files[i], "", &prog) == CLT_OK)
      file = files[i];
    else
      fprintf(stderr, "note: %s does not build: %.300s\n", files[i], clt_last_error());
  }
  if (!file) fail_msg("no embedded kernel file builds");
  int misses = ctx->cache_misses;
  assert_int_equal(ctx->cache_hits, 0);
  clt_ctx_destroy(ctx);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 1);
  assert_true(misses >= 1);

  ctx = open_ctx(cache, NULL);
  cl_program prog;
  assert_int_equal(clt_program_get(ctx, file, "", &prog), CLT_OK);
  assert_int_equal(ctx->cache_hits, 1);
  assert_int_equal(ctx->cache_misses, 0);
  clt_ctx_destroy(ctx);
  clt_test_remove_tree(cache);
}

static char *binaries_env(const char *name) {
  return strcmp(name, "CLTRAIN_KERNEL_CACHE") == 0 ? "binaries" : NULL;
}

/* On a driver with its own kernel cache (PoCL) no binary is asked for or stored: asking
 * compiles every kernel of the program (quirks.h); elsewhere the binary is stored. The
 * cache folder stays on for the stored choices. */
static void test_device_driver_own_cache(void **state) {
  (void)state;
  REQUIRE_DEVICE();
  char cache[600];
  clt_test_make_subdir(cache, sizeof cache, "cache");
  int own = (clt_device_quirks(test_device()) & CLT_QUIRK_OWN_PROGRAM_CACHE) != 0;
  if (strstr(test_device()->platform_name, "Portable Computing Language")) assert_true(own);
  for (int pass = 0; pass < 2; pass++) {
    clt_ctx *ctx = clt_test_ctx_with(kernel_dir, cache, 0);
    assert_int_equal(ctx->cache_enabled, 1);
    assert_int_equal(ctx->program_binaries, !own);
    run_probe(ctx);
    assert_int_equal(ctx->cache_hits, own ? 0 : pass);
    clt_ctx_destroy(ctx);
    assert_int_equal(clt_test_cache_entries(cache, NULL), own ? 0 : 1);
  }
  /* CLTRAIN_KERNEL_CACHE=binaries keeps them there too. */
  clt_env_settings env;
  clt_env_settings_read(&env, binaries_env);
  assert_int_equal(env.keep_binaries, 1);
  assert_int_equal(env.no_kernel_cache, 0);
  clt_ctx_options opt = {0};
  opt.cache_dir = cache;
  opt.kernel_dir = kernel_dir;
  clt_env_settings_fill_ctx(&env, &opt);
  clt_ctx *ctx = NULL;
  OK(clt_ctx_create(test_device(), &opt, &ctx));
  assert_int_equal(ctx->program_binaries, 1);
  run_probe(ctx);
  clt_ctx_destroy(ctx);
  assert_int_equal(clt_test_cache_entries(cache, NULL), 1);
  clt_test_remove_tree(cache);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  /* Never touch the user's cache, even from the shared test context. */
  setenv("CLTRAIN_CACHE_DIR", clt_test_tmp_path("default-cache"), 1);
  unsetenv("CLTRAIN_KERNEL_CACHE");

  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_device_miss_then_hit, device_setup),
      cmocka_unit_test_setup(test_device_damaged_entry_rebuilt, device_setup),
      cmocka_unit_test_setup(test_device_foreign_entry_rebuilt, device_setup),
      cmocka_unit_test_setup(test_device_cache_off_by_env, device_setup),
      cmocka_unit_test_setup(test_device_unusable_cache_dir, device_setup),
      cmocka_unit_test_setup(test_device_embedded_program, device_setup),
      cmocka_unit_test_setup(test_device_driver_own_cache, device_setup),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
