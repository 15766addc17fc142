/* Entries of a program-cache folder (cache_entries.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cache_entries.h"

int clt_test_cache_entries(const char *dir, char *first_key) {
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

void clt_test_cache_entry_path(char *buf, size_t size, const char *dir, const char key[33]) {
  snprintf(buf, size, "%s/%s.bin", dir, key);
}

unsigned char *clt_test_cache_fake_binary(size_t n, unsigned seed) {
  unsigned char *b = malloc(n);
  assert_non_null(b);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    b[i] = (unsigned char)(x >> 24);
  }
  return b;
}

char *clt_test_env_save(const char *name) {
  const char *v = getenv(name);
  return v ? strdup(v) : NULL;
}

void clt_test_env_restore(const char *name, const char *saved) {
  if (saved)
    setenv(name, saved, 1);
  else
    unsetenv(name);
}
