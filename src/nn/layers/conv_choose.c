#include "nn/layers/conv_choose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers/conv_implicit.h"
#include "runtime/choice_file.h"

#define CHOICE_FORMAT "cltrain-conv-choices-2"

static void sources_hash(clt_ctx *ctx, char key[33]) {
  static const char *const files[4] = {"conv.cl", "conv_direct.cl", "conv_implicit.cl",
                                       "conv_shared.cl"};
  clt_choice_file_hash(ctx, files, 4, CHOICE_FORMAT " " CLT_CONV_IMPLICIT_HOST_REV, key);
}

void clt_conv_choices_key(clt_ctx *ctx, char *buf, size_t size) {
  char key[33];
  sources_hash(ctx, key);
  snprintf(buf, size, "%s %s", CHOICE_FORMAT, key);
}

int clt_conv_choices_path(clt_ctx *ctx, char *buf, size_t size) {
  char key[33];
  sources_hash(ctx, key);
  return clt_choice_file_path(ctx, "conv-choice", key, buf, size);
}

static int known_algorithm(const char *a) {
  return strcmp(a, "im2col") == 0 || strcmp(a, "direct") == 0 || strcmp(a, "implicit") == 0;
}

static int known_backward(const char *a) {
  return known_algorithm(a) || strcmp(a, "implicit-dw") == 0;
}

static int parse_choice(const char *line, void *slot) {
  clt_conv_choice *c = slot;
  clt_conv_shape *s = &c->shape;
  return sscanf(line, "%d %d %d %d %d %d %d %d %d %d %d %15s %15s %lf %lf", &s->h, &s->w, &s->c,
                &s->f, &s->k, &s->s, &s->pt, &s->pb, &s->pl, &s->pr, &s->n, c->forward, c->backward,
                &c->seconds_forward, &c->seconds_backward) == 15 &&
         known_algorithm(c->forward) && known_backward(c->backward) && s->h > 0 && s->w > 0 &&
         s->c > 0 && s->f > 0 && s->k > 0 && s->s > 0 && s->n > 0;
}

int clt_conv_choices_load(const char *path, const char *key, clt_conv_choice **out) {
  void *list = NULL;
  int n = clt_choice_file_read(path, key, sizeof **out, parse_choice, &list);
  *out = list;
  return n;
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

static void write_choice(FILE *f, const void *record) {
  const clt_conv_choice *e = record;
  const clt_conv_shape *s = &e->shape;
  fprintf(f, "%d %d %d %d %d %d %d %d %d %d %d %s %s %.9g %.9g\n", s->h, s->w, s->c, s->f, s->k,
          s->s, s->pt, s->pb, s->pl, s->pr, s->n, e->forward, e->backward, e->seconds_forward,
          e->seconds_backward);
}

clt_status clt_conv_choice_store(clt_ctx *ctx, const clt_conv_choice *c) {
  char path[4096], key[128];
  if (clt_conv_choices_path(ctx, path, sizeof path) != 0) return CLT_OK;
  clt_conv_choices_key(ctx, key, sizeof key);
  clt_conv_choice *list = NULL;
  int n = clt_conv_choices_load(path, key, &list); /* 0 for a corrupt file: rewritten */
  /* The stored ones but c's shape, then c. */
  clt_conv_choice *all = malloc(sizeof *all * (size_t)(n + 1));
  if (!all) {
    free(list);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the conv choices");
  }
  int count = 0;
  for (int i = 0; i < n; i++)
    if (!same_shape(&list[i].shape, &c->shape)) all[count++] = list[i];
  all[count++] = *c;
  free(list);
  clt_status st = clt_choice_file_write(path, key,
                                        "h w c filters size stride pad-top pad-bottom pad-left "
                                        "pad-right batch forward backward seconds-forward "
                                        "seconds-backward",
                                        all, count, sizeof *all, write_choice);
  free(all);
  return st;
}
