#include "nn/layers/conv_choose.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/layers/conv_implicit.h"
#include "runtime/program.h"
#include "runtime/program_cache.h"

#define CHOICE_FORMAT "cltrain-conv-choices-2"

static void sources_hash(clt_ctx *ctx, char key[33]) {
  static const char *const files[3] = {"conv.cl", "conv_direct.cl", "conv_implicit.cl"};
  size_t total = 0;
  char *all = NULL;
  for (int i = 0; i < 3; i++) {
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
  clt_cache_key_parts parts = {all ? all : "",
                               total,
                               CHOICE_FORMAT " " CLT_CONV_IMPLICIT_HOST_REV,
                               ctx->dev.name,
                               ctx->dev.driver_version,
                               ctx->dev.platform_version};
  clt_cache_key(&parts, key);
  free(all);
}

void clt_conv_choices_key(clt_ctx *ctx, char *buf, size_t size) {
  char key[33];
  sources_hash(ctx, key);
  snprintf(buf, size, "%s %s", CHOICE_FORMAT, key);
}

int clt_conv_choices_path(clt_ctx *ctx, char *buf, size_t size) {
  if (!ctx->cache_enabled || !ctx->cache_dir[0]) return -1;
  char key[33];
  sources_hash(ctx, key);
  int n = snprintf(buf, size, "%s/conv-choice-%s.txt", ctx->cache_dir, key);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int known_algorithm(const char *a) {
  return strcmp(a, "im2col") == 0 || strcmp(a, "direct") == 0 || strcmp(a, "implicit") == 0;
}

static int known_backward(const char *a) {
  return known_algorithm(a) || strcmp(a, "implicit-dw") == 0;
}

int clt_conv_choices_load(const char *path, const char *key, clt_conv_choice **out) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  int count = 0, cap = 0, ok = 1;
  clt_conv_choice *list = NULL;
  if (!fgets(line, sizeof line, f) || strcspn(line, "\n") != strlen(key) ||
      strncmp(line, key, strlen(key)) != 0)
    ok = 0;
  while (ok && fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    clt_conv_choice c;
    memset(&c, 0, sizeof c);
    clt_conv_shape *s = &c.shape;
    if (sscanf(line, "%d %d %d %d %d %d %d %d %d %d %d %15s %15s %lf %lf", &s->h, &s->w, &s->c,
               &s->f, &s->k, &s->s, &s->pt, &s->pb, &s->pl, &s->pr, &s->n, c.forward, c.backward,
               &c.seconds_forward, &c.seconds_backward) != 15 ||
        !known_algorithm(c.forward) || !known_backward(c.backward) || s->h <= 0 || s->w <= 0 ||
        s->c <= 0 || s->f <= 0 || s->k <= 0 || s->s <= 0 || s->n <= 0) {
      ok = 0;
      break;
    }
    if (count == cap) {
      cap = cap ? 2 * cap : 8;
      clt_conv_choice *grown = realloc(list, sizeof *list * (size_t)cap);
      if (!grown) {
        ok = 0;
        break;
      }
      list = grown;
    }
    list[count++] = c;
  }
  fclose(f);
  if (!ok) {
    free(list);
    return 0;
  }
  *out = list;
  return count;
}

static int same_shape(const clt_conv_shape *a, const clt_conv_shape *b) {
  return memcmp(a, b, sizeof *a) == 0;
}

int clt_conv_choice_find(clt_ctx *ctx, const clt_conv_shape *shape, clt_conv_choice *out) {
  char path[4096], key[128];
  if (clt_conv_choices_path(ctx, path, sizeof path) != 0) return 0;
  clt_conv_choices_key(ctx, key, sizeof key);
  clt_conv_choice *list = NULL;
  int n = clt_conv_choices_load(path, key, &list), found = 0;
  for (int i = 0; i < n && !found; i++)
    if (same_shape(&list[i].shape, shape)) {
      *out = list[i];
      found = 1;
    }
  free(list);
  return found;
}

clt_status clt_conv_choice_store(clt_ctx *ctx, const clt_conv_choice *c) {
  char path[4096], key[128], tmp[4200];
  if (clt_conv_choices_path(ctx, path, sizeof path) != 0) return CLT_OK;
  clt_conv_choices_key(ctx, key, sizeof key);
  clt_conv_choice *list = NULL;
  int n = clt_conv_choices_load(path, key, &list); /* 0 for a corrupt file: rewritten */
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    free(list);
    return clt_fail(CLT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
  }
  fprintf(f,
          "%s\n# h w c filters size stride pad-top pad-bottom pad-left pad-right batch "
          "forward backward seconds-forward seconds-backward\n",
          key);
  for (int i = 0; i <= n; i++) {
    const clt_conv_choice *e = i < n ? &list[i] : c;
    if (i < n && same_shape(&e->shape, &c->shape)) continue; /* replaced by c */
    const clt_conv_shape *s = &e->shape;
    fprintf(f, "%d %d %d %d %d %d %d %d %d %d %d %s %s %.9g %.9g\n", s->h, s->w, s->c, s->f, s->k,
            s->s, s->pt, s->pb, s->pl, s->pr, s->n, e->forward, e->backward, e->seconds_forward,
            e->seconds_backward);
  }
  free(list);
  int ok = !ferror(f);
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write %s: %s", path, strerror(e));
  }
  return CLT_OK;
}
