/* The on-disk program cache without a device: keys, entries (round trip, damaged entries)
 * and the folder. test_program_cache_device.c covers hits, misses and recovery through
 * contexts. */
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

static void test_store_load_round_trip(void **state) {
  (void)state;
  char dir[600];
  clt_test_make_subdir(dir, sizeof dir, "roundtrip");
  unsigned char *got = NULL;
  size_t got_size = 0;
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 0); /* missing */

  const size_t n = 5000;
  unsigned char *bin = clt_test_cache_fake_binary(n, 1);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin, n), CLT_OK);
  assert_int_equal(clt_test_cache_entries(dir, NULL), 1);
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 1);
  assert_int_equal(got_size, n);
  assert_memory_equal(got, bin, n);
  free(got);

  /* Overwriting replaces the entry. */
  unsigned char *bin2 = clt_test_cache_fake_binary(77, 2);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin2, 77), CLT_OK);
  assert_int_equal(clt_test_cache_entries(dir, NULL), 1);
  got = NULL;
  assert_int_equal(clt_cache_load(dir, test_key, NULL, &got, &got_size), 1);
  assert_int_equal(got_size, 77);
  assert_memory_equal(got, bin2, 77);
  free(got);

  /* Another key is another entry. */
  const char other[33] = "ffffffffffffffffffffffffffffffff";
  assert_int_equal(clt_cache_load(dir, other, NULL, &got, &got_size), 0);
  assert_int_equal(clt_cache_store(dir, other, NULL, bin, n), CLT_OK);
  assert_int_equal(clt_test_cache_entries(dir, NULL), 2);

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
  unsigned char *bin = clt_test_cache_fake_binary(n, 3);
  assert_int_equal(clt_cache_store(dir, test_key, NULL, bin, n), CLT_OK);
  clt_test_cache_entry_path(path, sizeof path, dir, test_key);
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
  clt_test_cache_entry_path(path, sizeof path, dir, test_key);
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

static void test_default_dir(void **state) {
  (void)state;
  char *own = clt_test_env_save("CLTRAIN_CACHE_DIR"), *xdg = clt_test_env_save("XDG_CACHE_HOME"),
       *home = clt_test_env_save("HOME");
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

  clt_test_env_restore("CLTRAIN_CACHE_DIR", own);
  clt_test_env_restore("XDG_CACHE_HOME", xdg);
  clt_test_env_restore("HOME", home);
  free(own);
  free(xdg);
  free(home);
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
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_ctx_release();
  return failed;
}
