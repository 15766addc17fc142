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

static void put_field(unsigned char **p, const char *text, size_t length) {
  uint64_t n = length;
  memcpy(*p, &n, sizeof n);
  *p += sizeof n;
  if (length) memcpy(*p, text, length);
  *p += length;
}

/* The full key an entry stores and proves: every part, length-prefixed (the 32-digit key
 * alone when parts is NULL). malloc'd; *size its length. */
static unsigned char *full_key(const char key[33], const clt_cache_key_parts *parts, size_t *size) {
  if (!parts) {
    *size = 32;
    unsigned char *k = malloc(32);
    if (k) memcpy(k, key, 32);
    return k;
  }
  const char *text[5] = {parts->source, parts->options, parts->device_name, parts->driver_version,
                         parts->platform_version};
  size_t len[5] = {parts->source_length, strlen(parts->options), strlen(parts->device_name),
                   strlen(parts->driver_version), strlen(parts->platform_version)};
  *size = 0;
  for (int i = 0; i < 5; i++) *size += sizeof(uint64_t) + len[i];
  unsigned char *k = malloc(*size), *p = k;
  if (!k) return NULL;
  for (int i = 0; i < 5; i++) put_field(&p, text[i], len[i]);
  return k;
}

int clt_cache_load(const char *dir, const char key[33], const clt_cache_key_parts *parts,
                   unsigned char **binary, size_t *size) {
  char path[4200];
  entry_path(path, sizeof path, dir, key);
  FILE *f; /* type-checked first: a FIFO or device in the cache folder is skipped, not read */
  struct stat sb; /* a miss is not an error: no message recorded */
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
  size_t want_size = 0;
  unsigned char *want = full_key(key, parts, &want_size);
  if (!want) return 0;
  if (clt_file_fopen_read(path, "program cache entry", NULL, &f, NULL) != CLT_OK) {
    free(want);
    return 0;
  }
  char magic[8];
  uint32_t format = 0, crc = 0;
  uint64_t n = 0, k = 0;
  int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, cache_magic, 8) == 0 &&
           fread(&format, sizeof format, 1, f) == 1 && format == CLT_PROGRAM_CACHE_FORMAT &&
           fread(&n, sizeof n, 1, f) == 1 && fread(&crc, sizeof crc, 1, f) == 1 && n > 0 &&
           n < ((uint64_t)1 << 31);
  unsigned char *data = ok ? malloc((size_t)n) : NULL;
  unsigned char *stored = ok ? malloc(want_size ? want_size : 1) : NULL;
  /* The entry must prove its key: the stored full key equals the one asked for (a valid
   * entry of another key, copied or colliding, is "missing" and rebuilt). */
  ok = ok && data && stored && fread(data, 1, (size_t)n, f) == (size_t)n &&
       fread(&k, sizeof k, 1, f) == 1 && k == want_size &&
       fread(stored, 1, want_size, f) == want_size && fgetc(f) == EOF &&
       memcmp(stored, want, want_size) == 0;
  if (ok) {
    uLong c = crc32(0L, data, (uInt)n);
    c = crc32(c, stored, (uInt)want_size);
    ok = (uint32_t)c == crc;
  }
  fclose(f);
  free(want);
  free(stored);
  if (!ok) {
    free(data);
    return 0;
  }
  *binary = data;
  *size = (size_t)n;
  return 1;
}

clt_status clt_cache_store(const char *dir, const char key[33], const clt_cache_key_parts *parts,
                           const unsigned char *binary, size_t size) {
  char path[4200], tmp[4300];
  entry_path(path, sizeof path, dir, key);
  size_t key_size = 0;
  unsigned char *stored = full_key(key, parts, &key_size);
  if (!stored) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a cache entry");
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    free(stored);
    return clt_fail(CLT_ERR_IO, "cannot write kernel cache entry %s: %s", tmp, strerror(errno));
  }
  uint32_t format = CLT_PROGRAM_CACHE_FORMAT;
  uint64_t n = size, k = key_size;
  uLong c = crc32(0L, binary, (uInt)size);
  uint32_t crc = (uint32_t)crc32(c, stored, (uInt)key_size);
  int ok = fwrite(cache_magic, 1, 8, f) == 8 && fwrite(&format, sizeof format, 1, f) == 1 &&
           fwrite(&n, sizeof n, 1, f) == 1 && fwrite(&crc, sizeof crc, 1, f) == 1 &&
           fwrite(binary, 1, size, f) == size && fwrite(&k, sizeof k, 1, f) == 1 &&
           fwrite(stored, 1, key_size, f) == key_size;
  free(stored);
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write kernel cache entry %s: %s", path, strerror(e));
  }
  return CLT_OK;
}
