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
#include "data/image_stream.h"
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

/* Samples a chunk of the streamed path holds: about 64 MiB of floats, at least one. */
#define STREAM_CHUNK_BYTES (64L << 20)

typedef struct pool {
  const clt_image_list *list;
  const clt_image_options *o;
  const int32_t *files; /* the chunk's files: job j decodes file files[j] ... */
  const int32_t *slot;  /* ... into sample slot[j] of images */
  long jobs;
  float *images; /* [chunk, h, w, c] */
  char **why;    /* [jobs]: NULL, or the message of a file that failed */
  atomic_long next, done;
  atomic_int *stop; /* a bad file without skip_bad: the rest need not be decoded */
} pool;

static clt_status decode_one(pool *p, long j) {
  const clt_image_options *o = p->o;
  clt_image img;
  CLT_TRY(clt_image_read(p->list->files[p->files[j]].path, o->max_pixels, &img));
  size_t per = (size_t)o->h * o->w * o->c;
  float *dst = p->images + (size_t)p->slot[j] * per;
  clt_status s = CLT_OK;
  if (img.h == o->h && img.w == o->w && img.c == o->c)
    memcpy(dst, img.pixels, per * sizeof *dst);
  else
    s = clt_image_fit(&img, o->h, o->w, o->c, dst);
  clt_image_free(&img);
  return s;
}

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    long j = atomic_fetch_add(&p->next, 1);
    if (j >= p->jobs || atomic_load(p->stop)) break;
    clt_clear_error();
    if (decode_one(p, j) != CLT_OK) {
      const char *msg = clt_last_error();
      p->why[j] = strdup(msg[0] ? msg : p->list->files[p->files[j]].path);
      if (!p->why[j]) p->why[j] = (char *)""; /* no memory: the message is lost, not the fact */
      if (!p->o->skip_bad) atomic_store(p->stop, 1);
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

/* Runs the pool's jobs on threads; progress as base + done of total. */
static void run_pool(pool *p, long base, long total) {
  const clt_image_options *o = p->o;
  atomic_init(&p->next, 0);
  atomic_init(&p->done, 0);
  int threads = thread_count(o, p->jobs), started = 0;
  pthread_t tid[64];
  for (int t = 0; t < threads; t++)
    if (pthread_create(&tid[t], NULL, worker, p) == 0) started++;
  if (started == 0) worker(p); /* no thread: this one decodes */
  double last = 0;
  long shown = -1;
  while (started > 0 && atomic_load(&p->done) < p->jobs && !atomic_load(p->stop)) {
    sleep_ms(20);
    double now = clt_now_seconds();
    if (o->progress && now - last >= 0.1) {
      shown = base + atomic_load(&p->done);
      o->progress(o->user, shown, total);
      last = now;
    }
  }
  for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
  long done = base + atomic_load(&p->done);
  if (o->progress && base + p->jobs == total && shown != done) /* the last chunk: the end, once */
    o->progress(o->user, done, total);
}

/* What decoding leaves: the good samples kept, the bad ones counted. */
typedef struct decode_state {
  const clt_image_list *list;
  const clt_image_options *o;
  clt_image_report *report;
  int32_t *order; /* sample k is file order[k] */
  atomic_int stop;
  long bad;
  char *first_bad; /* the message of the bad file first in listing order */
  long first_bad_file;
} decode_state;

/* Decodes the samples [a, a + m) into images [m, per] (files in listing order when sorted,
 * for disk locality, else in sample order), then moves the good ones to the front in sample
 * order with their labels; *kept is their count. */
static clt_status decode_chunk(decode_state *d, long a, long m, int sorted, float *images,
                               int32_t *labels, long *kept) {
  const clt_image_options *o = d->o;
  size_t per = (size_t)o->h * o->w * o->c;
  int32_t *files = malloc((size_t)m * sizeof *files), *slot = malloc((size_t)m * sizeof *slot);
  char **why = calloc((size_t)m, sizeof *why);
  if (!files || !slot || !why) {
    free(files);
    free(slot);
    free(why);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory decoding images");
  }
  for (long j = 0; j < m; j++) {
    if (sorted) { /* the whole set: job j is file j, which goes to its sample's slot */
      files[j] = (int32_t)j;
      slot[d->order[j]] = (int32_t)j; /* order is a permutation: filled below */
    } else {
      files[j] = d->order[a + j];
      slot[j] = (int32_t)j;
    }
  }
  if (sorted) /* slot[file] = sample: the inverse of order */
    for (long k = 0; k < m; k++) slot[d->order[k]] = (int32_t)k;
  pool p;
  memset(&p, 0, sizeof p);
  p.list = d->list;
  p.o = o;
  p.files = files;
  p.slot = slot;
  p.jobs = m;
  p.images = images;
  p.why = why;
  p.stop = &d->stop;
  run_pool(&p, a, d->list->n);
  /* job of sample k: sorted, file order[a + k] is job order[a + k]; else job k */
  long n = 0;
  for (long k = 0; k < m; k++) {
    long job = sorted ? d->order[k] : k;
    if (why[job]) {
      if (d->bad++ == 0 || files[job] < d->first_bad_file) {
        free(d->first_bad);
        d->first_bad = strdup(why[job][0] ? why[job] : "?");
        d->first_bad_file = files[job];
      }
      continue;
    }
    if (n != k) memmove(images + (size_t)n * per, images + (size_t)k * per, per * sizeof(float));
    labels[n++] = d->list->files[files[job]].label;
  }
  for (long j = 0; j < m; j++)
    if (why[j] && why[j][0]) free(why[j]);
  free(why);
  free(files);
  free(slot);
  *kept = n;
  return CLT_OK;
}

/* The error of a bad file without skip_bad, or the counts with it. */
static clt_status bad_files_outcome(decode_state *d, long kept) {
  if (d->bad && !d->o->skip_bad)
    return clt_fail(CLT_ERR_BAD_DATA, "%s; remove or replace the file, or set skip_bad_images",
                    d->first_bad ? d->first_bad : "a bad image");
  d->report->skipped = d->bad;
  if (d->bad)
    snprintf(d->report->first_skipped, sizeof d->report->first_skipped, "%s",
             d->first_bad ? d->first_bad : "?");
  if (kept == 0)
    return clt_fail(CLT_ERR_BAD_DATA, "no image could be decoded (%ld bad files; the first: %s)",
                    d->bad, d->first_bad ? d->first_bad : "?");
  return CLT_OK;
}

/* Host memory the decoded set may take: half of o->host_memory when set (tests), else of
 * MemAvailable (/proc/meminfo). */
static double host_memory_for_data(const clt_image_options *o) {
  if (o->host_memory > 0) return (double)o->host_memory / 2;
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  double kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
  if (f) fclose(f);
  if (kb > 0) return kb * 1024.0 / 2;
  return (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / 2;
}

/* Decodes every file of list into out (in memory), and appends them to w when given;
 * *w_failed = 1 when that append failed (then w must be aborted; the run goes on). */
static clt_status decode_resident(decode_state *d, clt_image_cache_writer *w, clt_dataset *out,
                                  int *w_failed) {
  long n = d->list->n;
  size_t per = (size_t)d->o->h * d->o->w * d->o->c;
  out->images = malloc((size_t)n * per * sizeof(float) + 1);
  out->labels = malloc((size_t)n * sizeof(int32_t) + 1);
  if (!out->images || !out->labels)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "cannot allocate %.1f MiB for %ld decoded images of %dx%dx%d; free memory "
                    "or use smaller or fewer images",
                    (double)n * per * sizeof(float) / 1048576.0, n, d->o->h, d->o->w, d->o->c);
  long kept = 0;
  CLT_TRY(decode_chunk(d, 0, n, 1, out->images, out->labels, &kept));
  out->n = (int)kept;
  CLT_TRY(bad_files_outcome(d, kept));
  /* a cache that cannot be written costs time, not the run */
  if (w && clt_image_cache_append(w, out->images, out->labels, kept) != CLT_OK) {
    clt_clear_error();
    *w_failed = 1;
  }
  return CLT_OK;
}

/* Decodes every file of list a chunk at a time into the cache file w (larger than memory):
 * only one chunk is held. */
static clt_status decode_streamed(decode_state *d, clt_image_cache_writer *w) {
  long n = d->list->n;
  size_t per = (size_t)d->o->h * d->o->w * d->o->c;
  long chunk = d->o->stream_chunk > 0 ? d->o->stream_chunk
                                      : (long)(STREAM_CHUNK_BYTES / (long)(per * sizeof(float)));
  if (chunk < 1) chunk = 1;
  if (chunk > n) chunk = n;
  float *images = malloc((size_t)chunk * per * sizeof(float));
  int32_t *labels = malloc((size_t)chunk * sizeof(int32_t));
  clt_status s =
      images && labels ? CLT_OK : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory decoding");
  long total = 0;
  for (long a = 0; a < n && s == CLT_OK && !atomic_load(&d->stop); a += chunk) {
    long m = n - a < chunk ? n - a : chunk, kept = 0;
    s = decode_chunk(d, a, m, 0, images, labels, &kept);
    if (s == CLT_OK) s = clt_image_cache_append(w, images, labels, kept);
    total += kept;
  }
  free(images);
  free(labels);
  if (s == CLT_OK) s = bad_files_outcome(d, total);
  return s;
}

/* The streamed data set of an intact cache file: shape, names and labels from it. */
static clt_status stream_from_cache(const char *cache, const clt_image_cache_key *key,
                                    clt_image_report *report, clt_dataset *out) {
  if (!clt_image_cache_load(cache, key, 0, out, report))
    return clt_fail(CLT_ERR_IO,
                    "%s: the image cache just written cannot be read back; check "
                    "the disk",
                    cache);
  uint32_t crc;
  memcpy(&crc, key->bytes, sizeof crc);
  const clt_batch_source *src;
  CLT_TRY(clt_image_stream_create(cache, (size_t)out->h * out->w * out->c, 0, out->n, out->labels,
                                  crc, &src));
  free(out->labels);
  out->labels = NULL;
  out->source = src;
  out->owns_source = 1;
  return CLT_OK;
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
  if (!layout_split && split == CLT_FOLDER_VAL)
    return clt_fail(CLT_ERR_USAGE, "%s: no val/ folder", dir);
  /* a one-set folder, or train/ without test/: no test set (shape and classes only) */
  int empty = split == CLT_FOLDER_TEST && !(layout_split && is_dir(root));
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
  if (!empty && split != CLT_FOLDER_TRAIN) {
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
    clt_image_cache_key_of(&list, strlen(root), o, &key);
    if (clt_image_cache_path(root, o, cache, sizeof cache) != CLT_OK) {
      cache[0] = '\0'; /* no cache folder: decode every time */
      clt_clear_error();
    }
  }
  /* streamed when the decoded set would not fit in (half of the available) host memory */
  double bytes = (double)list.n * o->h * o->w * o->c * sizeof(float);
  int stream = o->stream > 0 || (o->stream == 0 && bytes > host_memory_for_data(o));
  if (s == CLT_OK && stream && !cache[0])
    s = clt_fail(CLT_ERR_OUT_OF_MEMORY,
                 "%s: the %ld decoded images (%.1f MiB) are to be streamed from a cache file "
                 "(they would not fit in memory) but there is no cache folder; give one "
                 "(cache_dir)",
                 root, list.n, bytes / 1048576.0);
  report->streamed = stream;
  if (s == CLT_OK && cache[0] && clt_image_cache_load(cache, &key, !stream, out, report)) {
    report->cache_hit = 1;
    if (stream) {
      clt_dataset_free(out);
      s = stream_from_cache(cache, &key, report, out);
    }
  } else if (s == CLT_OK) {
    out->h = o->h;
    out->w = o->w;
    out->c = o->c;
    out->classes = list.classes;
    s = clt_dataset_set_class_names(out, (const char *const *)list.class_names, list.classes);
    decode_state d;
    memset(&d, 0, sizeof d);
    d.list = &list;
    d.o = o;
    d.report = report;
    atomic_init(&d.stop, 0);
    d.order = malloc((size_t)(list.n ? list.n : 1) * sizeof *d.order);
    if (s == CLT_OK && !d.order) s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == CLT_OK) clt_shuffle_order(ORDER_SEED, 0, (int)list.n, d.order);
    clt_image_cache_writer *w = NULL;
    if (s == CLT_OK && cache[0] && clt_image_cache_begin(cache, &key, out, &w) != CLT_OK) {
      if (stream)
        s = CLT_ERR_IO; /* its message stands */
      else
        clt_clear_error(); /* a cache that cannot be written costs time, not the run */
    }
    int w_failed = 0;
    if (s == CLT_OK && stream)
      s = decode_streamed(&d, w);
    else if (s == CLT_OK)
      s = decode_resident(&d, w, out, &w_failed);
    if (w && (s != CLT_OK || w_failed)) {
      clt_image_cache_abort(w);
    } else if (w) {
      clt_status ws = clt_image_cache_finish(w, report); /* frees w */
      if (ws == CLT_OK)
        report->cache_written = 1;
      else if (stream)
        s = ws;
      else
        clt_clear_error();
    }
    if (s == CLT_OK && stream) {
      clt_dataset_free(out);
      s = stream_from_cache(cache, &key, report, out);
    }
    free(d.order);
    free(d.first_bad);
    (void)w;
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
  if (split < CLT_FOLDER_TRAIN || split > CLT_FOLDER_VAL)
    return clt_fail(CLT_ERR_USAGE, "image folder split %d is not train, test or val", split);
  double t0 = clt_now_seconds();
  clt_status s = load_split(dir, split, &opts, report, out);
  report->seconds = clt_now_seconds() - t0;
  if (s != CLT_OK) clt_dataset_free(out);
  return s;
}
