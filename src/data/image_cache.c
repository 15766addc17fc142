/* The image cache file: key, write (temporary file and rename), checked load. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "data/image_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "runtime/program_cache.h"

#define MAGIC "CLTIMG01"

static void hash_bytes(XXH3_state_t *st, const void *p, size_t n) {
  XXH3_128bits_update(st, p, n);
}

static void hash_i64(XXH3_state_t *st, long long v) {
  hash_bytes(st, &v, sizeof v);
}

static void hash_str(XXH3_state_t *st, const char *s) {
  size_t n = strlen(s);
  hash_i64(st, (long long)n);
  hash_bytes(st, s, n);
}

static void digest(XXH3_state_t *st, uint8_t out[16]) {
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  memcpy(out, c.digest, 16);
}

void clt_image_cache_key_of(const clt_image_list *l, const clt_image_options *o,
                            clt_image_cache_key *key) {
  XXH3_state_t *st = XXH3_createState();
  if (!st) {
    memset(key, 0, sizeof *key); /* no memory: a key that matches nothing written */
    return;
  }
  XXH3_128bits_reset(st);
  hash_str(st, MAGIC);
  hash_i64(st, o->h);
  hash_i64(st, o->w);
  hash_i64(st, o->c);
  hash_i64(st, o->max_pixels);
  hash_i64(st, o->skip_bad);
  hash_i64(st, l->classes);
  for (int i = 0; i < l->classes; i++) hash_str(st, l->class_names[i]);
  hash_i64(st, l->n);
  for (long i = 0; i < l->n; i++) {
    hash_str(st, l->files[i].path);
    hash_i64(st, l->files[i].label);
    hash_i64(st, l->files[i].size);
    hash_i64(st, l->files[i].mtime_ns);
  }
  digest(st, key->bytes);
  XXH3_freeState(st);
}

clt_status clt_image_cache_path(const char *root, const clt_image_options *o, char *path,
                                size_t size) {
  char dir[4096];
  if (o->cache_dir) {
    snprintf(dir, sizeof dir, "%s", o->cache_dir);
  } else {
    if (clt_cache_default_dir(dir, sizeof dir - 8) != 0)
      return clt_fail(CLT_ERR_IO, "no cache folder: set CLTRAIN_CACHE_DIR or HOME");
    strcat(dir, "/images");
  }
  CLT_TRY(clt_cache_prepare_dir(dir));
  char abs[PATH_MAX];
  if (!realpath(root, abs)) snprintf(abs, sizeof abs, "%s", root);
  char what[PATH_MAX + 64];
  int n = snprintf(what, sizeof what, "%s|%dx%dx%d", abs, o->h, o->w, o->c);
  XXH128_hash_t h = XXH3_128bits(what, (size_t)(n < (int)sizeof what ? n : (int)sizeof what - 1));
  int k = snprintf(path, size, "%s/%016llx%016llx.img", dir, (unsigned long long)h.high64,
                   (unsigned long long)h.low64);
  if (k < 0 || (size_t)k >= size)
    return clt_fail(CLT_ERR_IO, "%s: cache folder path too long", dir);
  return CLT_OK;
}

typedef struct writer {
  FILE *f;
  XXH3_state_t *st;
  int bad;
} writer;

static void put(writer *w, const void *p, size_t n) {
  if (w->bad || n == 0) return;
  if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
  hash_bytes(w->st, p, n);
}

static void put_i64(writer *w, long long v) {
  put(w, &v, sizeof v);
}

static void put_text(writer *w, const char *s, size_t n) {
  put_i64(w, (long long)n);
  put(w, s, n);
}

clt_status clt_image_cache_write(const char *path, const clt_image_cache_key *key,
                                 const clt_dataset *ds, const clt_image_report *report) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  writer w = {fopen(tmp, "wb"), XXH3_createState(), 0};
  if (!w.f || !w.st) {
    int e = errno;
    if (w.f) fclose(w.f);
    XXH3_freeState(w.st);
    return clt_fail(CLT_ERR_IO, "%s: cannot write the image cache: %s", tmp, strerror(e));
  }
  XXH3_128bits_reset(w.st);
  put(&w, MAGIC, 8);
  put(&w, key->bytes, 16);
  long long dims[5] = {ds->n, ds->h, ds->w, ds->c, ds->classes};
  for (int i = 0; i < 5; i++) put_i64(&w, dims[i]);
  put_i64(&w, report->skipped);
  put_text(&w, report->first_skipped, strlen(report->first_skipped));
  size_t names = 0;
  for (int i = 0; i < ds->classes; i++) names += strlen(ds->class_names[i]) + 1;
  char *text = malloc(names + 1), *p = text;
  if (!text) w.bad = 1;
  for (int i = 0; text && i < ds->classes; i++) {
    size_t n = strlen(ds->class_names[i]);
    memcpy(p, ds->class_names[i], n);
    p[n] = '\n';
    p += n + 1;
  }
  if (text) put_text(&w, text, names);
  free(text);
  put(&w, ds->labels, (size_t)ds->n * sizeof(int32_t));
  put(&w, ds->images, (size_t)ds->n * ds->h * ds->w * ds->c * sizeof(float));
  uint8_t sum[16];
  digest(w.st, sum);
  XXH3_freeState(w.st);
  if (!w.bad && fwrite(sum, 1, 16, w.f) != 16) w.bad = 1;
  int e = errno;
  if (fclose(w.f) != 0) w.bad = 1;
  if (w.bad || rename(tmp, path) != 0) {
    e = w.bad ? e : errno;
    remove(tmp);
    return clt_fail(CLT_ERR_IO, "%s: cannot write the image cache: %s", path, strerror(e));
  }
  return CLT_OK;
}

typedef struct reader {
  FILE *f;
  XXH3_state_t *st;
  long long left; /* bytes before the checksum not yet read */
  int bad;
} reader;

static void get(reader *r, void *p, size_t n) {
  if (r->bad || n == 0) return;
  if ((long long)n > r->left || fread(p, 1, n, r->f) != n) {
    r->bad = 1;
    return;
  }
  r->left -= (long long)n;
  hash_bytes(r->st, p, n);
}

static long long get_i64(reader *r) {
  long long v = 0;
  get(r, &v, sizeof v);
  return v;
}

int clt_image_cache_load(const char *path, const clt_image_cache_key *key, clt_dataset *out,
                         clt_image_report *report) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  reader r = {f, XXH3_createState(), 0, 0};
  char *names = NULL;
  if (!r.st || fseek(f, 0, SEEK_END) != 0 || (r.left = ftell(f) - 16) < 8 + 16 ||
      fseek(f, 0, SEEK_SET) != 0)
    r.bad = 1;
  if (r.st) XXH3_128bits_reset(r.st);
  char magic[8];
  uint8_t stored_key[16];
  get(&r, magic, 8);
  get(&r, stored_key, 16);
  if (r.bad || memcmp(magic, MAGIC, 8) != 0 || memcmp(stored_key, key->bytes, 16) != 0) r.bad = 1;
  long long dims[5];
  for (int i = 0; i < 5; i++) dims[i] = get_i64(&r);
  long long per = dims[1] * dims[2] * dims[3];
  if (!r.bad && (dims[0] < 0 || dims[1] < 1 || dims[2] < 1 || dims[3] < 1 || dims[4] < 2 ||
                 dims[0] > INT_MAX || per > INT_MAX || dims[4] > 1 << 20 ||
                 ((double)dims[0] * (double)(per * 4 + 4) > (double)r.left)))
    r.bad = 1;
  long long skipped = get_i64(&r);
  long long len = get_i64(&r);
  if (!r.bad && (len < 0 || len >= (long long)sizeof report->first_skipped)) r.bad = 1;
  char first[CLT_IMAGE_NOTE_MAX] = "";
  if (!r.bad) get(&r, first, (size_t)len);
  long long names_len = get_i64(&r);
  if (!r.bad && (names_len < 0 || names_len > r.left)) r.bad = 1;
  if (!r.bad && !(names = malloc((size_t)names_len + 1))) r.bad = 1;
  if (!r.bad) get(&r, names, (size_t)names_len);
  if (!r.bad) {
    out->n = (int)dims[0];
    out->h = (int)dims[1];
    out->w = (int)dims[2];
    out->c = (int)dims[3];
    out->classes = (int)dims[4];
    out->labels = malloc((size_t)out->n * sizeof(int32_t) + 1);
    out->images = malloc((size_t)out->n * (size_t)per * sizeof(float) + 1);
    if (!out->labels || !out->images) r.bad = 1;
  }
  if (!r.bad) get(&r, out->labels, (size_t)out->n * sizeof(int32_t));
  if (!r.bad) get(&r, out->images, (size_t)out->n * (size_t)per * sizeof(float));
  uint8_t sum[16], want[16];
  if (!r.bad && (r.left != 0 || fread(sum, 1, 16, f) != 16)) r.bad = 1;
  if (!r.bad) {
    digest(r.st, want);
    if (memcmp(sum, want, 16) != 0) r.bad = 1;
  }
  /* the names: classes lines, each ending in '\n' */
  const char *list[1024];
  int count = 0;
  if (!r.bad) {
    names[names_len] = '\0';
    for (char *p = names; *p && count < 1024; count++) {
      char *nl = strchr(p, '\n');
      if (!nl) break;
      *nl = '\0';
      list[count] = p;
      p = nl + 1;
    }
    if (count != out->classes) r.bad = 1;
  }
  for (int i = 0; !r.bad && i < out->n; i++)
    if (out->labels[i] < 0 || out->labels[i] >= out->classes) r.bad = 1;
  if (!r.bad && clt_dataset_set_class_names(out, list, count) != CLT_OK) r.bad = 1;
  free(names);
  fclose(f);
  XXH3_freeState(r.st);
  if (r.bad) {
    clt_dataset_free(out);
    clt_clear_error();
    return 0;
  }
  report->skipped = skipped;
  snprintf(report->first_skipped, sizeof report->first_skipped, "%s", first);
  return 1;
}
