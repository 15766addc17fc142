#include "runtime/choice_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/fail.h"
#include "runtime/program.h"
#include "runtime/program_cache.h"

void clt_choice_file_hash(clt_ctx *ctx, const char *const *files, int file_count,
                          const char *format, char hash[33]) {
  size_t total = 0;
  char *all = NULL;
  for (int i = 0; i < file_count; i++) {
    char *text = NULL;
    size_t len = 0;
    if (clt_program_source(ctx, files[i], &text, &len) != CLT_OK) continue;
    char *grown = realloc(all, total + len);
    if (grown) {
      memcpy(grown + total, text, len);
      all = grown;
      total += len;
    }
    free(text);
  }
  clt_cache_key_parts parts = {
      all ? all : "",           total, format, ctx->dev.name, ctx->dev.driver_version,
      ctx->dev.platform_version};
  clt_cache_key(&parts, hash);
  free(all);
}

int clt_choice_file_path(const clt_ctx *ctx, const char *prefix, const char *hash, char *buf,
                         size_t size) {
  if (!ctx->cache_enabled || !ctx->cache_dir[0]) return -1;
  int n = snprintf(buf, size, "%s/%s-%s.txt", ctx->cache_dir, prefix, hash);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int clt_choice_file_read(const char *path, const char *key, size_t elem, clt_choice_parse_fn parse,
                         void **out) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  int count = 0, cap = 0, ok = 1;
  char *list = NULL;
  if (!fgets(line, sizeof line, f) || strcspn(line, "\n") != strlen(key) ||
      strncmp(line, key, strlen(key)) != 0)
    ok = 0;
  while (ok && fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (count == cap) {
      cap = cap ? 2 * cap : 16;
      char *grown = realloc(list, elem * (size_t)cap);
      if (!grown) {
        ok = 0;
        break;
      }
      list = grown;
    }
    memset(list + (size_t)count * elem, 0, elem);
    if (!parse(line, list + (size_t)count * elem)) {
      ok = 0;
      break;
    }
    count++;
  }
  fclose(f);
  if (!ok || count == 0) {
    free(list);
    return 0;
  }
  *out = list;
  return count;
}

clt_status clt_choice_file_write(const char *path, const char *key, const char *comment,
                                 const void *records, int count, size_t elem,
                                 void (*write_record)(FILE *f, const void *record)) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return clt_fail(CLT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
  fprintf(f, "%s\n# %s\n", key, comment);
  for (int i = 0; i < count; i++) write_record(f, (const char *)records + (size_t)i * elem);
  int ok = !ferror(f);
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write %s: %s", path, strerror(e));
  }
  return CLT_OK;
}
