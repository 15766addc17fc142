/* The on-disk program cache: keys, entries (round trip, damaged entries), the
 * folder, and (with a device) hits, misses and recovery through contexts. */
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
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

/* ---------- helpers ---------- */

/* Counts "<key>.bin" entries; any other file (a left-over temporary) fails. */
static int count_entries(const char *dir, char *first_key /* [33] or NULL */) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    size_t len = strlen(e->d_name);
    if (len != 36 || strcmp(e->d_name + 32, ".bin") != 0)
      fail_msg("unexpected file in cache folder %s: %s", dir, e->d_name);
    if (count == 0 && first_key) {
      memcpy(first_key, e->d_name, 32);
      first_key[32] = '\0';
    }
    count++;
  }
  closedir(d);
  return count;
}

static void entry_file(char *buf, size_t size, const char *dir, const char key[33]) {
  snprintf(buf, size, "%s/%s.bin", dir, key);
}

/* ---------- cache keys ---------- */

static clt_cache_key_parts base_parts(void) {
  static const char source[] = "__kernel void k(__global float *a) { a[0] = 1.0f; }";
  clt_cache_key_parts p = {source,          sizeof source - 1,
                           "-cl-std=CL1.2", "pthread-skylake-avx512",
                           "3.1+debian",    "OpenCL 3.0 PoCL 3.1"};
  return p;
}

static void key_of(const clt_cache_key_parts *p, char key[33]) {
  memset(key, 'Z', 33);
  clt_cache_key(p, key);
}

static void test_key_format(void **state) {
  (void)state;
  clt_cache_key_parts p = base_parts();
  char key[33];
  key_of(&p, key);
  assert_int_equal(strlen(key), 32);
  for (int i = 0; i < 32; i++)
    if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
      fail_msg("key %s: character %d is not lower-case hex", key, i);
  /* Empty parts are allowed. */
  clt_cache_key_parts empty = {"", 0, "", "", "", ""};
  key_of(&empty, key);
  assert_int_equal(strlen(key), 32);
}

static void test_key_deterministic(void **state) {
  (void)state;
  clt_cache_key_parts p = base_parts();
  char a[33], b[33];
  key_of(&p, a);
  key_of(&p, b);
  assert_string_equal(a, b);
  /* Same content at other addresses: same key. */
  char source[256], options[64], device[64], driver[64], platform[64];
  snprintf(source, sizeof source, "%s", p.source);
  snprintf(options, sizeof options, "%s", p.options);
  snprintf(device, sizeof device, "%s", p.device_name);
  snprintf(driver, sizeof driver, "%s", p.driver_version);
  snprintf(platform, sizeof platform, "%s", p.platform_version);
  clt_cache_key_parts q = {source, p.source_length, options, device, driver, platform};
  key_of(&q, b);
  assert_string_equal(a, b);
  /* Only source_length bytes of the source count. */
  source[p.source_length] = 'X';
  source[p.source_length + 1] = '\0';
  key_of(&q, b);
  assert_string_equal(a, b);
}

static void test_key_every_part_matters(void **state) {
  (void)state;
  clt_cache_key_parts p = base_parts();
  char base[33], key[33];
  key_of(&p, base);
  static const char other_source[] = "__kernel void k(__global float *a) { a[0] = 2.0f; }";

  clt_cache_key_parts q = p;
  q.source = other_source; /* one character differs */
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.source_length--; /* a prefix of the source */
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.options = "-cl-std=CL1.2 -DTILE=16";
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.options = "";
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.device_name = "pthread-skylake-avx513";
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.driver_version = "3.2+debian";
  key_of(&q, key);
  assert_string_not_equal(base, key);

  q = p;
  q.platform_version = "OpenCL 3.0 PoCL 3.2";
  key_of(&q, key);
  assert_string_not_equal(base, key);
}

static void test_key_field_boundaries(void **state) {
  (void)state;
  /* Moving a character across any boundary between two fields changes the key. */
  for (int boundary = 0; boundary < 4; boundary++) {
    char a[5][32], b[5][32];
    for (int i = 0; i < 5; i++) {
      snprintf(a[i], sizeof a[i], "field%d", i);
      snprintf(b[i], sizeof b[i], "field%d", i);
    }
    /* Fields boundary and boundary + 1: ("ab", "c") in a, ("a", "bc") in b. */
    snprintf(a[boundary], sizeof a[boundary], "ab");
    snprintf(a[boundary + 1], sizeof a[boundary + 1], "c");
    snprintf(b[boundary], sizeof b[boundary], "a");
    snprintf(b[boundary + 1], sizeof b[boundary + 1], "bc");
    clt_cache_key_parts pa = {a[0], strlen(a[0]), a[1], a[2], a[3], a[4]};
    clt_cache_key_parts pb = {b[0], strlen(b[0]), b[1], b[2], b[3], b[4]};
    char ka[33], kb[33];
    key_of(&pa, ka);
    key_of(&pb, kb);
    if (strcmp(ka, kb) == 0) fail_msg("boundary %d: ('ab','c') and ('a','bc') share key", boundary);
  }
  /* An empty field is not the same as a missing character elsewhere. */
  clt_cache_key_parts x = {"abc", 3, "", "d", "e", "f"};
  clt_cache_key_parts y = {"ab", 2, "c", "d", "e", "f"};
  char kx[33], ky[33];
  key_of(&x, kx);
  key_of(&y, ky);
  assert_string_not_equal(kx, ky);
}

/* ---------- entries ---------- */

static const char test_key[33] = "0123456789abcdef0123456789abcdef";

static unsigned char *make_binary(size_t n, unsigned seed) {
  unsigned char *b = malloc(n);
  assert_non_null(b);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    b[i] = (unsigned char)(x >> 24);
  }
  return b;
}

static void test_store_load_round_trip(void **state) {
  (void)state;
  char dir[600];
  clt_test_make_subdir(dir, sizeof dir, "roundtrip");
  unsigned char *got = NULL;
  size_t got_size = 0;
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 0); /* missing */

  const size_t n = 5000;
  unsigned char *bin = make_binary(n, 1);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin, n), CLT_OK);
  assert_int_equal(count_entries(dir, NULL), 1);
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 1);
  assert_int_equal(got_size, n);
  assert_memory_equal(got, bin, n);
  free(got);

  /* Overwriting replaces the entry. */
  unsigned char *bin2 = make_binary(77, 2);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin2, 77), CLT_OK);
  assert_int_equal(count_entries(dir, NULL), 1);
  got = NULL;
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 1);
  assert_int_equal(got_size, 77);
  assert_memory_equal(got, bin2, 77);
  free(got);

  /* Another key is another entry. */
  const char other[33] = "ffffffffffffffffffffffffffffffff";
  assert_int_equal(clt_cache_load(dir, other, NULL, &got, &got_size), 0);
  assert_int_equal(clt_cache_store(dir, other, NULL, bin, n), CLT_OK);
  assert_int_equal(count_entries(dir, NULL), 2);

  /* Storing into a folder that does not exist fails cleanly. */
  char missing[700];
  snprintf(missing, sizeof missing, "%s/no/such/folder", dir);
  EXPECT_FAIL(clt_cache_store(missing, test_key, NULL, bin, n), CLT_ERR_IO, missing);

  free(bin);
  free(bin2);
  clt_test_remove_tree(dir);
}

/* Stores a good entry, lets damage() change the file, and expects "missing". */
static void expect_damaged_is_missing(const char *what,
                                      void (*damage)(unsigned char *data, size_t *size)) {
  char dir[600], path[700];
  clt_test_make_subdir(dir, sizeof dir, "damaged");
  const size_t n = 3000;
  unsigned char *bin = make_binary(n, 3);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin, n), CLT_OK);
  entry_file(path, sizeof path, dir, test_key);
  size_t size = 0;
  unsigned char *data = clt_test_read_file(path, &size);
  /* header as documented, the binary, then the full key (here the 32-digit key alone) */
  assert_int_equal(size, 8 + 4 + 8 + 4 + n + 8 + 32);
  unsigned char *grown = realloc(data, size + 64);
  assert_non_null(grown);
  data = grown;
  damage(data, &size);
  clt_test_write_file(path, data, size);
  unsigned char *got = NULL;
  size_t got_size = 0;
  if (clt_cache_load(dir, test_key, NULL, &got, &got_size) != 0)
    fail_msg("%s entry loaded as valid", what);
  free(data);
  free(bin);
  clt_test_remove_tree(dir);
}

static void truncate_empty(unsigned char *d, size_t *n) {
  (void)d;
  *n = 0;
}
static void truncate_in_magic(unsigned char *d, size_t *n) {
  (void)d;
  *n = 5;
}
static void truncate_in_header(unsigned char *d, size_t *n) {
  (void)d;
  *n = 16;
}
static void truncate_header_only(unsigned char *d, size_t *n) {
  (void)d;
  *n = 24;
}
static void truncate_half(unsigned char *d, size_t *n) {
  (void)d;
  *n /= 2;
}
static void truncate_last_byte(unsigned char *d, size_t *n) {
  (void)d;
  *n -= 1;
}
static void flip_binary_byte(unsigned char *d, size_t *n) {
  d[*n / 2] ^= 0x01;
}
static void flip_last_byte(unsigned char *d, size_t *n) {
  d[*n - 1] ^= 0x80;
}
static void flip_crc(unsigned char *d, size_t *n) {
  (void)n;
  d[20] ^= 0x10;
}
static void wrong_magic(unsigned char *d, size_t *n) {
  (void)n;
  d[0] = 'X';
}
static void wrong_format(unsigned char *d, size_t *n) {
  (void)n;
  d[8] ^= 0x7f;
}
static void huge_size(unsigned char *d, size_t *n) {
  (void)n;
  memset(d + 12, 0xff, 8);
}
static void zero_size(unsigned char *d, size_t *n) {
  (void)n;
  memset(d + 12, 0, 8);
}
static void trailing_garbage(unsigned char *d, size_t *n) {
  memcpy(d + *n, "garbage", 7);
  *n += 7;
}

static void test_damaged_entries(void **state) {
  (void)state;
  expect_damaged_is_missing("empty", truncate_empty);
  expect_damaged_is_missing("truncated in the magic", truncate_in_magic);
  expect_damaged_is_missing("truncated in the header", truncate_in_header);
  expect_damaged_is_missing("header-only", truncate_header_only);
  expect_damaged_is_missing("half", truncate_half);
  expect_damaged_is_missing("one byte short", truncate_last_byte);
  expect_damaged_is_missing("flipped binary byte", flip_binary_byte);
  expect_damaged_is_missing("flipped last byte", flip_last_byte);
  expect_damaged_is_missing("flipped CRC", flip_crc);
  expect_damaged_is_missing("wrong magic", wrong_magic);
  expect_damaged_is_missing("wrong format version", wrong_format);
  expect_damaged_is_missing("huge size", huge_size);
  expect_damaged_is_missing("zero size", zero_size);
  expect_damaged_is_missing("trailing garbage", trailing_garbage);
}

static void test_load_directory_as_entry(void **state) {
  (void)state;
  /* An entry path that is a folder: "missing", no crash. */
  char dir[600], path[700];
  clt_test_make_subdir(dir, sizeof dir, "dirent");
  entry_file(path, sizeof path, dir, test_key);
  assert_int_equal(mkdir(path, 0755), 0);
  unsigned char *got = NULL;
  size_t got_size = 0;
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 0);
  clt_test_remove_tree(dir);
}

/* ---------- the folder ---------- */

static void test_prepare_dir(void **state) {
  (void)state;
  char dir[600], nested[700], file[700], under_file[800];
  clt_test_make_subdir(dir, sizeof dir, "prepare");
  /* Creates missing parents. */
  snprintf(nested, sizeof nested, "%s/a/b/c", dir);
  assert_int_equal(clt_cache_prepare_dir(nested), CLT_OK);
  struct stat st;
  assert_int_equal(stat(nested, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  /* An existing folder is fine. */
  assert_int_equal(clt_cache_prepare_dir(nested), CLT_OK);
  assert_int_equal(clt_cache_prepare_dir(dir), CLT_OK);
  /* A path below a regular file cannot be a folder (this works as root too). */
  snprintf(file, sizeof file, "%s/file", dir);
  clt_test_write_file(file, "x", 1);
  snprintf(under_file, sizeof under_file, "%s/sub", file);
  EXPECT_FAIL(clt_cache_prepare_dir(under_file), CLT_ERR_IO, under_file);
  snprintf(under_file, sizeof under_file, "%s/sub/deeper", file);
  assert_int_equal(clt_cache_prepare_dir(under_file), CLT_ERR_IO);
  /* The regular file itself is not a folder either. */
  assert_int_equal(clt_cache_prepare_dir(file), CLT_ERR_IO);
  clt_test_remove_tree(dir);
}

static void restore_env(const char *name, const char *saved) {
  if (saved)
    setenv(name, saved, 1);
  else
    unsetenv(name);
}

static char *dup_env(const char *name) {
  const char *v = getenv(name);
  return v ? strdup(v) : NULL;
}

static void test_default_dir(void **state) {
  (void)state;
  char *own = dup_env("CLTRAIN_CACHE_DIR"), *xdg = dup_env("XDG_CACHE_HOME"),
       *home = dup_env("HOME");
  char buf[1024];

  setenv("CLTRAIN_CACHE_DIR", "/tmp/own-cache", 1);
  setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  setenv("HOME", "/tmp/home", 1);
  assert_int_equal(clt_cache_default_dir(buf, sizeof buf, getenv), 0);
  assert_string_equal(buf, "/tmp/own-cache");

  unsetenv("CLTRAIN_CACHE_DIR");
  assert_int_equal(clt_cache_default_dir(buf, sizeof buf, getenv), 0);
  assert_string_equal(buf, "/tmp/xdg/cltrain");

  setenv("XDG_CACHE_HOME", "", 1);
  assert_int_equal(clt_cache_default_dir(buf, sizeof buf, getenv), 0);
  assert_string_equal(buf, "/tmp/home/.cache/cltrain");

  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  assert_int_not_equal(clt_cache_default_dir(buf, sizeof buf, getenv), 0);

  /* Too small a buffer is a failure, not a truncated path. */
  setenv("HOME", "/tmp/home", 1);
  char tiny[8];
  assert_int_not_equal(clt_cache_default_dir(tiny, sizeof tiny, getenv), 0);

  restore_env("CLTRAIN_CACHE_DIR", own);
  restore_env("XDG_CACHE_HOME", xdg);
  restore_env("HOME", home);
  free(own);
  free(xdg);
  free(home);
}

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
  assert_int_equal(count_entries(cache, NULL), 1);
  /* The same program again in this context: no second build request. */
  get_probe(ctx, "");
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(ctx->cache_hits, 0);
  clt_ctx_destroy(ctx);

  /* A new context with the same folder: a hit, and the program works. */
  probe_expect(cache, 1, 0, 1);
  assert_int_equal(count_entries(cache, NULL), 1);

  /* Other options: another key, another entry. */
  ctx = open_ctx(cache, kernel_dir);
  get_probe(ctx, "-DCLT_PROBE_OPTION=1");
  assert_int_equal(ctx->cache_misses, 1);
  assert_int_equal(ctx->cache_hits, 0);
  get_probe(ctx, "");
  assert_int_equal(ctx->cache_hits, 1);
  clt_ctx_destroy(ctx);
  assert_int_equal(count_entries(cache, NULL), 2);

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
  assert_int_equal(count_entries(cache, key), 1);
  entry_file(path, sizeof path, cache, key);

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
    unsigned char *junk = make_binary(4096, 9);
    assert_int_equal(probe_entry(cache, junk, 4096), 1);
    free(junk);
    probe_expect(cache, 0, 1, 1);
    probe_expect(cache, 1, 0, 1);
  }
  assert_int_equal(count_entries(cache, NULL), 1);

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
  assert_int_equal(count_entries(cache, other_key), 1);
  /* The real probe's key, and the foreign entry copied under it. */
  probe_expect(cache, 0, 1, 0);
  assert_int_equal(count_entries(cache, NULL), 2);
  ctx = open_ctx(cache, kernel_dir);
  probe_key(ctx, key);
  clt_ctx_destroy(ctx);
  entry_file(path, sizeof path, cache, key);
  entry_file(other_path, sizeof other_path, cache, other_key);
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
  char *saved = dup_env("CLTRAIN_KERNEL_CACHE");
  setenv("CLTRAIN_KERNEL_CACHE", "0", 1);
  clt_ctx *ctx = open_ctx(cache, kernel_dir);
  restore_env("CLTRAIN_KERNEL_CACHE", saved);
  free(saved);
  assert_int_equal(ctx->cache_enabled, 0);
  get_probe(ctx, "");
  run_probe(ctx);
  assert_int_equal(ctx->cache_hits, 0);
  clt_ctx_destroy(ctx);
  assert_int_equal(count_entries(cache, NULL), 0);

  /* And by the option (--no-kernel-cache). */
  ctx = clt_test_ctx_with(kernel_dir, cache, 1);
  assert_int_equal(ctx->cache_enabled, 0);
  get_probe(ctx, "");
  clt_ctx_destroy(ctx);
  assert_int_equal(count_entries(cache, NULL), 0);
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
  assert_int_equal(count_entries(cache, NULL), 1);
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
    assert_int_equal(count_entries(cache, NULL), own ? 0 : 1);
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
  assert_int_equal(count_entries(cache, NULL), 1);
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
      cmocka_unit_test(test_key_format),
      cmocka_unit_test(test_key_deterministic),
      cmocka_unit_test(test_key_every_part_matters),
      cmocka_unit_test(test_key_field_boundaries),
      cmocka_unit_test(test_store_load_round_trip),
      cmocka_unit_test(test_damaged_entries),
      cmocka_unit_test(test_load_directory_as_entry),
      cmocka_unit_test(test_prepare_dir),
      cmocka_unit_test(test_default_dir),
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
