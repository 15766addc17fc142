/* Image folders: layout, listing, decoding on a thread pool, the cache (data/image_folder.h). */
#include "data/image_folder.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/image_cache.h"
#include "data/image_decode.h"
#include "data/image_list.h"
#include "runtime/clock.h"

/* Fixed seed of the sample order (see image_folder.h): not the run's seed, so the cache and
 * the validation split are the same for every seed. */
#define ORDER_SEED 0x1a6e5u

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void join(char *buf, size_t size, const char *dir, const char *name) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  snprintf(buf, size, "%.*s/%s", (int)n, dir, name);
}

static int has_split(const char *dir, const char *name) {
  char path[4200];
  join(path, sizeof path, dir, name);
  return is_dir(path);
}

void clt_image_options_init(clt_image_options *o, int h, int w, int c) {
  memset(o, 0, sizeof *o);
  if (c == 1 || c == 3) {
    o->h = h;
    o->w = w;
    o->c = c;
  }
}

int clt_image_folder_detect(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int found = 0;
  struct dirent *e;
  char path[4200];
  while (!found && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    join(path, sizeof path, dir, e->d_name);
    found = is_dir(path);
  }
  closedir(d);
  return found;
}

int clt_image_folder_has_val(const char *dir) {
  return has_split(dir, "train") && has_split(dir, "val");
}

/* ---- decoding on threads ---- */

typedef struct pool {
  const clt_image_list *list;
  const clt_image_options *o;
  const int32_t *slot; /* file i goes to sample slot[i] */
  float *images;       /* [n, h, w, c] */
  char **why;          /* [n]: NULL, or the message of a file that failed */
  atomic_long next, done;
  atomic_int stop; /* a bad file without skip_bad: the others need not be decoded */
} pool;

static clt_status decode_one(pool *p, long i) {
  const clt_image_options *o = p->o;
  clt_image img;
  CLT_TRY(clt_image_read(p->list->files[i].path, o->max_pixels, &img));
  size_t per = (size_t)o->h * o->w * o->c;
  float *dst = p->images + (size_t)p->slot[i] * per;
  clt_status s;
  if (img.h == o->h && img.w == o->w && img.c == o->c) {
    memcpy(dst, img.pixels, per * sizeof *dst);
    s = CLT_OK;
  } else {
    s = clt_image_fit(&img, o->h, o->w, o->c, dst);
  }
  clt_image_free(&img);
  return s;
}

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    long i = atomic_fetch_add(&p->next, 1);
    if (i >= p->list->n || atomic_load(&p->stop)) break;
    clt_clear_error();
    if (decode_one(p, i) != CLT_OK) {
      const char *msg = clt_last_error();
      p->why[i] = strdup(msg[0] ? msg : p->list->files[i].path);
      if (!p->why[i]) p->why[i] = (char *)""; /* no memory: the message is lost, not the fact */
      if (!p->o->skip_bad) atomic_store(&p->stop, 1);
    }
    atomic_fetch_add(&p->done, 1);
  }
  return NULL;
}

static int thread_count(const clt_image_options *o, long n) {
  long t = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
  if (t < 1) t = 1;
  if (t > 64) t = 64;
  if (t > n) t = n > 0 ? n : 1;
  return (int)t;
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Decodes every file of list into out (allocated here) in the fixed order; bad files fail
 * the load or (skip_bad) are left out and counted. */
static clt_status decode_all(const clt_image_list *list, const clt_image_options *o,
                             clt_image_report *report, clt_dataset *out) {
  long n = list->n;
  size_t per = (size_t)o->h * o->w * o->c;
  if ((double)n * (double)per * sizeof(float) > 0.9 * (double)SIZE_MAX)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%ld images of %dx%dx%d are more than memory can hold",
                    n, o->h, o->w, o->c);
  pool p;
  memset(&p, 0, sizeof p);
  p.list = list;
  p.o = o;
  int32_t *order = malloc((size_t)n * sizeof *order);
  int32_t *slot = malloc((size_t)n * sizeof *slot);
  p.images = malloc((size_t)n * per * sizeof(float));
  p.why = calloc((size_t)n, sizeof *p.why);
  out->labels = malloc((size_t)n * sizeof(int32_t));
  if (!order || !slot || !p.images || !p.why || !out->labels) {
    free(order);
    free(slot);
    free(p.images);
    free(p.why);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "cannot allocate %.1f MiB for %ld decoded images of %dx%dx%d; free memory "
                    "or use smaller or fewer images",
                    (double)n * per * sizeof(float) / 1048576.0, n, o->h, o->w, o->c);
  }
  /* sample k is file order[k]; files are decoded in listing order (disk locality) */
  clt_shuffle_order(ORDER_SEED, 0, (int)n, order);
  for (long k = 0; k < n; k++) slot[order[k]] = (int32_t)k;
  p.slot = slot;
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  atomic_init(&p.stop, 0);
  int threads = thread_count(o, n), started = 0;
  pthread_t tid[64];
  for (int t = 0; t < threads; t++)
    if (pthread_create(&tid[t], NULL, worker, &p) == 0) started++;
  if (started == 0) worker(&p); /* no thread: this one decodes */
  double last = 0;
  while (started > 0 && atomic_load(&p.done) < n && !atomic_load(&p.stop)) {
    sleep_ms(20);
    double now = clt_now_seconds();
    if (o->progress && now - last >= 0.1) {
      o->progress(o->user, atomic_load(&p.done), n);
      last = now;
    }
  }
  for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
  clt_status s = CLT_OK;
  long bad = 0, first_bad = -1;
  for (long i = 0; i < n; i++)
    if (p.why[i]) {
      if (first_bad < 0) first_bad = i;
      bad++;
    }
  if (bad && !o->skip_bad) {
    s = clt_fail(CLT_ERR_BAD_DATA, "%s; remove or replace the file, or pass --skip-bad-images",
                 p.why[first_bad]);
  } else {
    /* compact the good samples, in sample order */
    long kept = 0;
    for (long k = 0; k < n; k++) {
      long i = order[k];
      if (p.why[i]) continue;
      if (kept != k) memmove(p.images + kept * per, p.images + k * per, per * sizeof(float));
      out->labels[kept++] = list->files[i].label;
    }
    report->skipped = bad;
    if (bad) snprintf(report->first_skipped, sizeof report->first_skipped, "%s", p.why[first_bad]);
    out->n = (int)kept;
    out->images = p.images;
    p.images = NULL;
    if (kept == 0)
      s = clt_fail(CLT_ERR_BAD_DATA, "no image could be decoded (%ld bad files; the first: %s)",
                   bad, p.why[first_bad]);
  }
  if (o->progress && s == CLT_OK) o->progress(o->user, n, n);
  for (long i = 0; i < n; i++)
    if (p.why[i] && p.why[i][0]) free(p.why[i]);
  free(p.why);
  free(p.images);
  free(order);
  free(slot);
  return s;
}

/* ---- the load ---- */

/* The size and channels of the first image, for a load with no target shape. */
static clt_status shape_of_first(const clt_image_list *list, clt_image_options *o) {
  clt_image img;
  CLT_TRY(clt_image_read(list->files[0].path, o->max_pixels, &img));
  o->h = img.h;
  o->w = img.w;
  o->c = img.c;
  clt_image_free(&img);
  return CLT_OK;
}

/* The class names of the train/ folder must be those of the other split's list. */
static clt_status same_classes(const char *dir, const clt_image_list *train,
                               const clt_image_list *other, const char *name) {
  for (int i = 0; i < train->classes || i < other->classes; i++) {
    const char *a = i < train->classes ? train->class_names[i] : NULL;
    const char *b = i < other->classes ? other->class_names[i] : NULL;
    if (a && b && strcmp(a, b) == 0) continue;
    if (!b || (a && strcmp(a, b) < 0))
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: train/ has the class folder \"%s\" but %s/ has not; the class "
                      "folders of train/ and %s/ must be the same",
                      dir, a, name, name);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %s/ has the class folder \"%s\" but train/ has not; the class folders "
                    "of train/ and %s/ must be the same",
                    dir, name, b, name);
  }
  return CLT_OK;
}

static clt_status load_split(const char *dir, int split, clt_image_options *o,
                             clt_image_report *report, clt_dataset *out) {
  int layout_split = has_split(dir, "train");
  static const char *const names[3] = {"train", "test", "val"};
  char root[4200];
  if (layout_split)
    join(root, sizeof root, dir, names[split]);
  else
    snprintf(root, sizeof root, "%s", dir);
  if (!layout_split && split == CLT_SPLIT_VAL)
    return clt_fail(CLT_ERR_USAGE, "%s: no val/ folder", dir);
  /* a one-set folder, or train/ without test/: no test set (shape and classes only) */
  int empty = split == CLT_SPLIT_TEST && !(layout_split && is_dir(root));
  /* the class names come from train/ (or the folder itself) */
  char train_root[4200];
  if (layout_split)
    join(train_root, sizeof train_root, dir, "train");
  else
    snprintf(train_root, sizeof train_root, "%s", dir);
  clt_image_list list, train_list;
  memset(&train_list, 0, sizeof train_list);
  clt_image_report scratch;
  memset(&scratch, 0, sizeof scratch);
  CLT_TRY(clt_image_list_read(empty ? train_root : root, empty ? &scratch : report, &list));
  clt_status s = CLT_OK;
  if (!empty && split != CLT_SPLIT_TRAIN) {
    s = clt_image_list_read(train_root, &scratch, &train_list);
    if (s == CLT_OK) s = same_classes(dir, &train_list, &list, names[split]);
    clt_image_list_free(&train_list);
  }
  if (s == CLT_OK && o->h <= 0) s = shape_of_first(&list, o);
  if (s == CLT_OK && empty) { /* the shape and classes, no sample */
    out->h = o->h;
    out->w = o->w;
    out->c = o->c;
    out->classes = list.classes;
    s = clt_dataset_set_class_names(out, (const char *const *)list.class_names, list.classes);
    clt_image_list_free(&list);
    return s;
  }
  char cache[4200] = "";
  clt_image_cache_key key;
  if (s == CLT_OK && !o->no_cache) {
    clt_image_cache_key_of(&list, o, &key);
    if (clt_image_cache_path(root, o, cache, sizeof cache) != CLT_OK) {
      cache[0] = '\0'; /* no cache folder: decode every time */
      clt_clear_error();
    }
  }
  if (s == CLT_OK && cache[0] && clt_image_cache_load(cache, &key, out, report)) {
    report->cache_hit = 1;
  } else if (s == CLT_OK) {
    out->h = o->h;
    out->w = o->w;
    out->c = o->c;
    out->classes = list.classes;
    s = clt_dataset_set_class_names(out, (const char *const *)list.class_names, list.classes);
    if (s == CLT_OK) s = decode_all(&list, o, report, out);
    if (s == CLT_OK && cache[0]) {
      if (clt_image_cache_write(cache, &key, out, report) == CLT_OK) report->cache_written = 1;
      clt_clear_error(); /* a cache that cannot be written costs time, not the run */
    }
  }
  if (cache[0]) snprintf(report->cache_path, sizeof report->cache_path, "%s", cache);
  report->images = out->n;
  clt_image_list_free(&list);
  return s;
}

clt_status clt_image_folder_load(const char *dir, int split, const clt_image_options *o,
                                 clt_image_report *report, clt_dataset *out) {
  memset(out, 0, sizeof *out);
  clt_image_report local;
  if (!report) report = &local;
  memset(report, 0, sizeof *report);
  clt_image_options opts;
  memset(&opts, 0, sizeof opts);
  if (o) opts = *o;
  if (opts.max_pixels <= 0) opts.max_pixels = CLT_IMAGE_MAX_PIXELS;
  if (opts.h > 0 && (opts.w <= 0 || (opts.c != 1 && opts.c != 3)))
    return clt_fail(CLT_ERR_USAGE,
                    "image folders fit images to 1 (grey) or 3 (colour) channels, not %dx%dx%d",
                    opts.h, opts.w, opts.c);
  if (split < CLT_SPLIT_TRAIN || split > CLT_SPLIT_VAL)
    return clt_fail(CLT_ERR_USAGE, "image folder split %d is not train, test or val", split);
  double t0 = clt_now_seconds();
  clt_status s = load_split(dir, split, &opts, report, out);
  report->seconds = clt_now_seconds() - t0;
  if (s != CLT_OK) clt_dataset_free(out);
  return s;
}
