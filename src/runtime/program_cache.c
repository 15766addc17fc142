#include "runtime/program_cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "runtime/file_check.h"

static const char cache_magic[8] = {'C', 'L', 'T', 'P', 'C', 'A', 'C', 'H'};

static void hash_field(XXH3_state_t *st, const char *text, size_t length) {
  /* Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
  uint64_t n = length;
  XXH3_128bits_update(st, &n, sizeof n);
  if (length) XXH3_128bits_update(st, text, length);
}

void clt_cache_key(const clt_cache_key_parts *p, char key[33]) {
  XXH3_state_t *st = XXH3_createState();
  uint32_t format = CLT_PROGRAM_CACHE_FORMAT;
  XXH128_hash_t h;
  if (st) {
    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, &format, sizeof format);
    hash_field(st, p->source, p->source_length);
    hash_field(st, p->options, strlen(p->options));
    hash_field(st, p->device_name, strlen(p->device_name));
    hash_field(st, p->driver_version, strlen(p->driver_version));
    hash_field(st, p->platform_version, strlen(p->platform_version));
    h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
  } else {
    h.high64 = h.low64 = 0; /* no memory: a key that never matches a real entry */
  }
  snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

int clt_cache_default_dir(char *buf, size_t size, char *(*get)(const char *name)) {
  const char *own = get("CLTRAIN_CACHE_DIR");
  const char *xdg = get("XDG_CACHE_HOME");
  const char *home = get("HOME");
  int n;
  if (own && *own)
    n = snprintf(buf, size, "%s", own);
  else if (xdg && *xdg)
    n = snprintf(buf, size, "%s/cltrain", xdg);
  else if (home && *home)
    n = snprintf(buf, size, "%s/.cache/cltrain", home);
  else
    return -1;
  return (n > 0 && (size_t)n < size) ? 0 : -1;
}

static int make_dirs(const char *dir) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return -1;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

clt_status clt_cache_prepare_dir(const char *dir) {
  if (make_dirs(dir) != 0)
    return clt_fail(CLT_ERR_IO, "cannot create kernel cache folder %s: %s", dir, strerror(errno));
  if (access(dir, W_OK | X_OK) != 0)
    return clt_fail(CLT_ERR_IO, "kernel cache folder %s is not writable: %s", dir, strerror(errno));
  return CLT_OK;
}

static void entry_path(char *buf, size_t size, const char *dir, const char key[33]) {
  snprintf(buf, size, "%s/%s.bin", dir, key);
}

int clt_cache_load(const char *dir, const char key[33], unsigned char **binary, size_t *size) {
  char path[4200];
  entry_path(path, sizeof path, dir, key);
  FILE *f; /* type-checked first: a FIFO or device in the cache folder is skipped, not read */
  struct stat sb; /* a miss is not an error: no message recorded */
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
      clt_file_fopen_read(path, "program cache entry", NULL, &f, NULL) != CLT_OK)
    return 0;
  char magic[8];
  uint32_t format = 0, crc = 0;
  uint64_t n = 0;
  int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, cache_magic, 8) == 0 &&
           fread(&format, sizeof format, 1, f) == 1 && format == CLT_PROGRAM_CACHE_FORMAT &&
           fread(&n, sizeof n, 1, f) == 1 && fread(&crc, sizeof crc, 1, f) == 1 && n > 0 &&
           n < ((uint64_t)1 << 31);
  unsigned char *data = ok ? malloc((size_t)n) : NULL;
  ok = ok && data && fread(data, 1, (size_t)n, f) == (size_t)n && fgetc(f) == EOF &&
       (uint32_t)crc32(0L, data, (uInt)n) == crc;
  fclose(f);
  if (!ok) {
    free(data);
    return 0;
  }
  *binary = data;
  *size = (size_t)n;
  return 1;
}

clt_status clt_cache_store(const char *dir, const char key[33], const unsigned char *binary,
                           size_t size) {
  char path[4200], tmp[4300];
  entry_path(path, sizeof path, dir, key);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return clt_fail(CLT_ERR_IO, "cannot write kernel cache entry %s: %s", tmp, strerror(errno));
  uint32_t format = CLT_PROGRAM_CACHE_FORMAT;
  uint64_t n = size;
  uint32_t crc = (uint32_t)crc32(0L, binary, (uInt)size);
  int ok = fwrite(cache_magic, 1, 8, f) == 8 && fwrite(&format, sizeof format, 1, f) == 1 &&
           fwrite(&n, sizeof n, 1, f) == 1 && fwrite(&crc, sizeof crc, 1, f) == 1 &&
           fwrite(binary, 1, size, f) == size;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write kernel cache entry %s: %s", path, strerror(e));
  }
  return CLT_OK;
}
