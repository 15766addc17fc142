/* The file helpers of temp_files.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "temp_files.h"

#include <dirent.h>
#include <errno.h> /* program_invocation_short_name */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[512];
static int cleanup_registered;

static void remove_at_exit(void) {
  clt_test_tmpdir_remove();
}

const char *clt_test_tmpdir_create(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
           program_invocation_short_name);
  if (!mkdtemp(tmpdir)) {
    tmpdir[0] = '\0';
    return NULL;
  }
  if (!cleanup_registered) cleanup_registered = atexit(remove_at_exit) == 0;
  return tmpdir;
}

void clt_test_tmpdir_remove(void) {
  if (tmpdir[0]) clt_test_remove_tree(tmpdir);
  tmpdir[0] = '\0';
}

const char *clt_test_tmpdir(void) {
  return tmpdir;
}

int clt_test_tmpdir_setup(void **state) {
  (void)state;
  return clt_test_tmpdir_create() ? 0 : -1;
}

int clt_test_tmpdir_teardown(void **state) {
  (void)state;
  clt_test_tmpdir_remove();
  return 0;
}

const char *clt_test_tmp_path(const char *name) {
  static char buf[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

void clt_test_make_subdir(char *buf, size_t size, const char *what) {
  int n = snprintf(buf, size, "%s/%s-XXXXXX", tmpdir, what);
  assert_true(n > 0 && (size_t)n < size);
  assert_non_null(mkdtemp(buf));
}

void clt_test_make_temp_file(char *buf, size_t size, const char *what, const char *text) {
  int n = snprintf(buf, size, "%s/%sXXXXXX", tmpdir[0] ? tmpdir : "/tmp", what);
  assert_true(n > 0 && (size_t)n < size);
  int fd = mkstemp(buf);
  assert_true(fd >= 0);
  size_t len = strlen(text);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

void clt_test_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot create %s", path);
  assert_int_equal(fwrite(data, 1, size, f), size);
  assert_int_equal(fclose(f), 0);
}

void clt_test_write_text(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  clt_test_write_file(path, text, strlen(text));
}

const char *clt_test_tmp_write(const char *name, const void *data, size_t n) {
  const char *path = clt_test_tmp_path(name);
  clt_test_write_file(path, data, n);
  return path;
}

const char *clt_test_tmp_write_gz(const char *name, const void *data, size_t n) {
  const char *path = clt_test_tmp_path(name);
  gzFile g = gzopen(path, "wb");
  assert_non_null(g);
  if (n) assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
  assert_int_equal(gzclose(g), Z_OK);
  return path;
}

unsigned char *clt_test_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  assert_true(n >= 0);
  unsigned char *data = malloc((size_t)n + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  data[n] = '\0';
  *size = (size_t)n;
  return data;
}

void clt_test_copy_file(const char *from, const char *to) {
  FILE *f = fopen(from, "rb");
  if (!f) fail_msg("cannot open %s", from);
  FILE *g = fopen(to, "wb");
  if (!g) fail_msg("cannot create %s", to);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) assert_int_equal(fwrite(buf, 1, n, g), n);
  fclose(f);
  assert_int_equal(fclose(g), 0);
}

void clt_test_remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    unlink(path);
    return;
  }
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char child[1024];
      snprintf(child, sizeof child, "%s/%s", path, e->d_name);
      clt_test_remove_tree(child);
    }
    closedir(d);
  }
  rmdir(path);
}
