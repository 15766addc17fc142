/* The image cache file: key, chunked write (temporary file and rename), checked load. */
#define _XOPEN_SOURCE 700 /* realpath, pread, pwrite */
#include "data/image_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "runtime/file_check.h"
#include "runtime/program_cache.h"

#define MAGIC "CLTIMG02"
#define CHUNK (1 << 20)

static void hash_i64(XXH3_state_t *st, long long v) {
  XXH3_128bits_update(st, &v, sizeof v);
}

static void hash_str(XXH3_state_t *st, const char *s) {
  size_t n = strlen(s);
  hash_i64(st, (long long)n);
  XXH3_128bits_update(st, s, n);
}

static void digest(XXH3_state_t *st, uint8_t out[16]) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
  memcpy(out, c.digest, 16);
}

void clt_image_cache_key_of(const clt_image_list *l, size_t root_len, const clt_image_options *o,
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
    const char *path = l->files[i].path;
    hash_str(st, strlen(path) > root_len ? path + root_len : path);
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
  if (!o->cache_dir || !o->cache_dir[0])
    return clt_fail(CLT_ERR_IO, "no cache folder given (cache_dir)");
  snprintf(dir, sizeof dir, "%s", o->cache_dir);
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

/* ---- writing ---- */

struct clt_image_cache_writer {
  FILE *f;
  char path[4200], tmp[4300];
  long long header[9]; /* n, h, w, c, classes, skipped, message bytes, names bytes, 0 */
  size_t per;          /* floats per sample */
  int32_t *labels;
  long n, cap;
  char *names; /* each followed by '\n' */
  size_t names_len;
  uint8_t key[16];
};

void clt_image_cache_abort(clt_image_cache_writer *w) {
  if (!w) return;
  if (w->f) fclose(w->f);
  remove(w->tmp);
  free(w->labels);
  free(w->names);
  free(w);
}

static clt_status write_failed(clt_image_cache_writer *w) {
  int e = errno;
  clt_status s = clt_fail(CLT_ERR_IO, "%s: cannot write the image cache: %s", w->tmp, strerror(e));
  clt_image_cache_abort(w);
  return s;
}

clt_status clt_image_cache_begin(const char *path, const clt_image_cache_key *key,
                                 const clt_dataset *ds, clt_image_cache_writer **out) {
  *out = NULL;
  clt_image_cache_writer *w = calloc(1, sizeof *w);
  if (!w) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the image cache");
  snprintf(w->path, sizeof w->path, "%s", path);
  snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", path, (long)getpid());
  memcpy(w->key, key->bytes, 16);
  w->per = (size_t)ds->h * ds->w * ds->c;
  long long h[9] = {0, ds->h, ds->w, ds->c, ds->classes, 0, 0, 0, 0};
  memcpy(w->header, h, sizeof h);
  for (int i = 0; i < ds->classes; i++) w->names_len += strlen(ds->class_names[i]) + 1;
  w->names = malloc(w->names_len + 1);
  if (!w->names) {
    clt_image_cache_abort(w);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the image cache");
  }
  char *p = w->names;
  for (int i = 0; i < ds->classes; i++) {
    size_t n = strlen(ds->class_names[i]);
    memcpy(p, ds->class_names[i], n);
    p[n] = '\n';
    p += n + 1;
  }
  w->f = fopen(w->tmp, "w+b");
  if (!w->f) return write_failed(w);
  /* the header is written again with the counts by finish */
  if (fwrite(MAGIC, 1, 8, w->f) != 8 || fwrite(w->key, 1, 16, w->f) != 16 ||
      fwrite(w->header, sizeof(long long), 8, w->f) != 8)
    return write_failed(w);
  *out = w;
  return CLT_OK;
}

clt_status clt_image_cache_append(clt_image_cache_writer *w, const float *pixels,
                                  const int32_t *labels, long m) {
  if (w->n + m > w->cap) {
    long cap = w->cap ? w->cap : 1024;
    while (cap < w->n + m) cap *= 2;
    int32_t *more = realloc(w->labels, (size_t)cap * sizeof *more);
    if (!more) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the image cache");
    w->labels = more;
    w->cap = cap;
  }
  memcpy(w->labels + w->n, labels, (size_t)m * sizeof *labels);
  w->n += m;
  if (m > 0 && fwrite(pixels, sizeof(float) * w->per, (size_t)m, w->f) != (size_t)m)
    return clt_fail(CLT_ERR_IO, "%s: cannot write the image cache: %s", w->tmp, strerror(errno));
  return CLT_OK;
}

clt_status clt_image_cache_finish(clt_image_cache_writer *w, const clt_image_report *report) {
  size_t msg = strlen(report->first_skipped);
  w->header[0] = w->n;
  w->header[5] = report->skipped;
  w->header[6] = (long long)msg;
  w->header[7] = (long long)w->names_len;
  if ((w->n > 0 && fwrite(w->labels, sizeof(int32_t), (size_t)w->n, w->f) != (size_t)w->n) ||
      fwrite(report->first_skipped, 1, msg, w->f) != msg ||
      fwrite(w->names, 1, w->names_len, w->f) != w->names_len || fflush(w->f) != 0 ||
      pwrite(fileno(w->f), w->header, 8 * sizeof(long long), 24) != 8 * sizeof(long long))
    return write_failed(w);
  /* the checksum: every byte read back once (from the page cache, as a rule) */
  XXH3_state_t *st = XXH3_createState();
  unsigned char *buf = malloc(CHUNK);
  if (!st || !buf || fseek(w->f, 0, SEEK_SET) != 0) {
    XXH3_freeState(st);
    free(buf);
    return write_failed(w);
  }
  XXH3_128bits_reset(st);
  size_t got;
  while ((got = fread(buf, 1, CHUNK, w->f)) > 0) XXH3_128bits_update(st, buf, got);
  int bad = ferror(w->f);
  uint8_t sum[16];
  digest(st, sum);
  XXH3_freeState(st);
  free(buf);
  if (bad || fseek(w->f, 0, SEEK_END) != 0 || fwrite(sum, 1, 16, w->f) != 16)
    return write_failed(w);
  FILE *f = w->f;
  w->f = NULL;
  if (fclose(f) != 0 || rename(w->tmp, w->path) != 0) return write_failed(w);
  free(w->labels);
  free(w->names);
  free(w);
  return CLT_OK;
}

/* ---- reading ---- */

typedef struct reader {
  unsigned char *sink; /* what is hashed and dropped */
  FILE *f;
  XXH3_state_t *st;
  long long left; /* bytes before the checksum not yet read */
  int bad;
} reader;

/* n bytes into p, or hashed and dropped when p is NULL. */
static void get(reader *r, void *p, size_t n) {
  if (r->bad || n == 0) return;
  if ((long long)n > r->left) {
    r->bad = 1;
    return;
  }
  while (n > 0 && !r->bad) {
    size_t k = p ? n : (n < CHUNK ? n : CHUNK);
    unsigned char *dst = p ? p : r->sink;
    if (fread(dst, 1, k, r->f) != k)
      r->bad = 1;
    else
      XXH3_128bits_update(r->st, dst, k);
    r->left -= (long long)k;
    n -= k;
    if (p) p = (unsigned char *)p + k;
  }
}

int clt_image_cache_load(const char *path, const clt_image_cache_key *key, int with_pixels,
                         clt_dataset *out, clt_image_report *report) {
  memset(out, 0, sizeof *out);
  FILE *f = NULL; /* checked first: a pipe or device put in the cache's place cannot block */
  if (clt_file_fopen_read(path, "image cache", NULL, &f, NULL) != CLT_OK) return 0;
  reader r = {malloc(CHUNK), f, XXH3_createState(), 0, 0};
  char *names = NULL;
  if (!r.st || !r.sink || fseek(f, 0, SEEK_END) != 0 ||
      (r.left = ftell(f) - 16) < CLT_IMAGE_CACHE_PIXELS_AT || fseek(f, 0, SEEK_SET) != 0)
    r.bad = 1;
  if (r.st) XXH3_128bits_reset(r.st);
  char magic[8];
  uint8_t stored_key[16];
  long long h[8];
  get(&r, magic, 8);
  get(&r, stored_key, 16);
  get(&r, h, sizeof h);
  if (r.bad || memcmp(magic, MAGIC, 8) != 0 || memcmp(stored_key, key->bytes, 16) != 0) r.bad = 1;
  long long n = h[0], per = h[1] * h[2] * h[3];
  /* the sizes must add up to the file's, before anything is allocated from them */
  if (!r.bad && (n < 0 || h[1] < 1 || h[2] < 1 || h[3] < 1 || h[4] < 2 || n > INT_MAX ||
                 h[1] > INT_MAX || h[2] > INT_MAX || h[3] > 4 || per > INT_MAX || h[4] > 100000 ||
                 h[6] < 0 || h[6] >= (long long)sizeof report->first_skipped || h[7] < 0 ||
                 (double)n * (double)(per * 4 + 4) + (double)h[6] + (double)h[7] != (double)r.left))
    r.bad = 1;
  if (!r.bad) {
    out->n = (int)n;
    out->h = (int)h[1];
    out->w = (int)h[2];
    out->c = (int)h[3];
    out->classes = (int)h[4];
    out->labels = malloc((size_t)n * sizeof(int32_t) + 1);
    out->images = with_pixels ? malloc((size_t)n * (size_t)per * sizeof(float) + 1) : NULL;
    names = malloc((size_t)h[7] + 1);
    if (!out->labels || (with_pixels && !out->images) || !names) r.bad = 1;
  }
  if (!r.bad) get(&r, out->images, (size_t)n * (size_t)per * sizeof(float));
  if (!r.bad) get(&r, out->labels, (size_t)n * sizeof(int32_t));
  char first[CLT_IMAGE_NOTE_MAX] = "";
  if (!r.bad) get(&r, first, (size_t)h[6]);
  if (!r.bad) get(&r, names, (size_t)h[7]);
  uint8_t sum[16], want[16];
  if (!r.bad && (r.left != 0 || fread(sum, 1, 16, f) != 16)) r.bad = 1;
  if (!r.bad) {
    digest(r.st, want);
    if (memcmp(sum, want, 16) != 0) r.bad = 1;
  }
  /* the names: one line each */
  const char **list = r.bad ? NULL : malloc((size_t)out->classes * sizeof *list);
  int count = 0;
  if (!list) r.bad = 1;
  if (!r.bad) {
    names[h[7]] = '\0';
    for (char *p = names; *p && count < out->classes; count++) {
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
  free(list);
  free(names);
  fclose(f);
  XXH3_freeState(r.st);
  free(r.sink);
  if (r.bad) {
    clt_dataset_free(out);
    clt_clear_error();
    return 0;
  }
  report->skipped = h[5];
  snprintf(report->first_skipped, sizeof report->first_skipped, "%s", first);
  return 1;
}
