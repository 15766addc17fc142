#include "data/csv_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rng.h"

enum { SLOT_EMPTY, SLOT_FULL, SLOT_FAILED };

typedef struct slot {
  float *x;      /* [chunk_rows, features], standardised, in file order */
  int32_t *y;    /* [chunk_rows] */
  int32_t *perm; /* [chunk_rows] the order of the rows in the epoch */
  int rows;
  int state;
} slot;

struct clt_csv_stream {
  const clt_csv_table *t;
  long first, count;
  int shuffle;
  uint32_t seed;
  int epoch;
  long pieces;       /* chunks the range touches */
  long slot_rows;    /* rows a slot holds: min(chunk_rows, count) */
  long *piece_order; /* [pieces] piece indices in the epoch's order */
  clt_csv_reader *reader;
  slot slots[2]; /* piece k of the order goes into slot k % 2 */
  /* The consumer's position: piece k of the order, row offset in it; pos in the epoch. */
  long k, offset, pos;
  /* The reader thread. */
  pthread_t thread;
  int running;
  long producer_from; /* first piece of the order it loads */
  long skip_rows;     /* rows of that piece it leaves out (a restart inside a piece) */
  int cancel;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  clt_status error;
  char message[1024];
};

/* Rows [lo, hi) of the table that piece p covers. */
static void piece_rows(const clt_csv_stream *s, long p, long *lo, long *hi) {
  long C = s->t->chunk_rows;
  long chunk = s->first / C + p;
  *lo = chunk * C > s->first ? chunk * C : s->first;
  long end = (chunk + 1) * C, last = s->first + s->count;
  *hi = end < last ? end : last;
}

static void order_pieces(const clt_csv_stream *s, uint32_t seed, int epoch, long *order) {
  for (long i = 0; i < s->pieces; i++) order[i] = i;
  if (!s->shuffle) return;
  uint32_t stream = clt_stream(CLT_STREAM_SHUFFLE, (uint32_t)epoch);
  for (long i = s->pieces - 1; i > 0; i--) {
    uint64_t r = clt_hash(seed, stream, (uint32_t)i);
    long j = (long)((r * (uint64_t)(i + 1)) >> 32);
    long tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}

/* The order of the n rows of a piece whose first row is in chunk. */
static void order_rows(const clt_csv_stream *s, uint32_t seed, int epoch, long chunk, int n,
                       int32_t *perm) {
  for (int i = 0; i < n; i++) perm[i] = i;
  if (!s->shuffle) return;
  uint32_t stream = clt_mix32(clt_stream(CLT_STREAM_CSV_ROWS, (uint32_t)epoch) ^
                              clt_mix32((uint32_t)chunk + 0x2545F491u));
  for (int i = n - 1; i > 0; i--) {
    uint64_t r = clt_hash(seed, stream, (uint32_t)i);
    int j = (int)((r * (uint64_t)(i + 1)) >> 32);
    int32_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

void clt_csv_stream_order(const clt_csv_stream *s, uint32_t seed, int epoch, long *rows) {
  long *order = malloc((size_t)s->pieces * sizeof *order);
  int32_t *perm = malloc((size_t)s->t->chunk_rows * sizeof *perm);
  if (!order || !perm) abort(); /* tests only */
  order_pieces(s, seed, epoch, order);
  long out = 0;
  for (long k = 0; k < s->pieces; k++) {
    long lo, hi;
    piece_rows(s, order[k], &lo, &hi);
    order_rows(s, seed, epoch, lo / s->t->chunk_rows, (int)(hi - lo), perm);
    for (long i = 0; i < hi - lo; i++) rows[out++] = lo + perm[i];
  }
  free(order);
  free(perm);
}

/* Reads piece p (skipping its first skip rows) into sl; runs on the reader thread. */
static clt_status load_piece(clt_csv_stream *s, long p, long skip, slot *sl) {
  const clt_csv_table *t = s->t;
  long lo, hi;
  piece_rows(s, p, &lo, &hi);
  long chunk = lo / t->chunk_rows;
  CLT_TRY(clt_csv_seek(s->reader, t->chunk_offset[chunk], t->chunk_line[chunk]));
  long before = lo - chunk * t->chunk_rows; /* rows of the chunk before the range */
  int n = (int)(hi - lo);
  for (long i = 0; i < before + n; i++) {
    int got;
    long row = i < before ? 0 : i - before;
    CLT_TRY(clt_csv_read_row(t, s->reader, sl->x + (size_t)row * (size_t)t->features, sl->y + row,
                             &got));
    if (!got)
      return clt_fail(CLT_ERR_IO,
                      "%s ended early: it changed after it was first read; start "
                      "the run again",
                      t->path);
  }
  order_rows(s, s->seed, s->epoch, chunk, n, sl->perm);
  if (skip > 0) { /* a restart inside the piece: its first rows are done */
    memmove(sl->perm, sl->perm + skip, (size_t)(n - skip) * sizeof *sl->perm);
    n -= (int)skip;
  }
  sl->rows = n;
  return CLT_OK;
}

static void *producer(void *arg) {
  clt_csv_stream *s = arg;
  for (long k = s->producer_from; k < s->pieces; k++) {
    slot *sl = &s->slots[k % 2];
    pthread_mutex_lock(&s->lock);
    while (sl->state != SLOT_EMPTY && !s->cancel) pthread_cond_wait(&s->changed, &s->lock);
    int cancel = s->cancel;
    pthread_mutex_unlock(&s->lock);
    if (cancel) break;
    clt_status st = load_piece(s, s->piece_order[k], k == s->producer_from ? s->skip_rows : 0, sl);
    pthread_mutex_lock(&s->lock);
    if (st != CLT_OK) {
      s->error = st;
      snprintf(s->message, sizeof s->message, "%s", clt_last_error());
    }
    sl->state = st == CLT_OK ? SLOT_FULL : SLOT_FAILED;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    if (st != CLT_OK) break;
  }
  return NULL;
}

static void stop(clt_csv_stream *s) {
  if (!s->running) return;
  pthread_mutex_lock(&s->lock);
  s->cancel = 1;
  pthread_cond_broadcast(&s->changed);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  s->running = 0;
  s->cancel = 0;
}

/* Restarts the reader thread at position pos of the epoch. */
static clt_status start_at(clt_csv_stream *s, long pos) {
  stop(s);
  s->slots[0].state = s->slots[1].state = SLOT_EMPTY;
  s->error = CLT_OK;
  long k = 0, done = 0;
  for (; k < s->pieces; k++) {
    long lo, hi;
    piece_rows(s, s->piece_order[k], &lo, &hi);
    if (done + (hi - lo) > pos) break;
    done += hi - lo;
  }
  s->k = k;
  s->offset = 0;
  s->pos = pos;
  s->producer_from = k;
  s->skip_rows = pos - done;
  if (k == s->pieces) return CLT_OK; /* at the end: nothing to read */
  if (pthread_create(&s->thread, NULL, producer, s) != 0)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "cannot start the CSV reader thread");
  s->running = 1;
  return CLT_OK;
}

clt_status clt_csv_stream_create(const clt_csv_table *t, long first, long count, int shuffle,
                                 clt_csv_stream **out) {
  *out = NULL;
  if (first < 0 || count < 1 || first + count > t->rows)
    return clt_fail(CLT_ERR_INTERNAL, "CSV rows [%ld, %ld) outside the table of %ld", first,
                    first + count, t->rows);
  clt_csv_stream *s = calloc(1, sizeof *s);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV stream");
  s->t = t;
  s->first = first;
  s->count = count;
  s->shuffle = shuffle;
  long C = t->chunk_rows;
  /* A slot holds one piece: at most a chunk, and never more rows than the stream has (a
   * wide header over a few rows must not cost a whole chunk of its width). */
  s->slot_rows = count < C ? count : C;
  s->pieces = (first + count - 1) / C - first / C + 1;
  s->piece_order = malloc((size_t)s->pieces * sizeof *s->piece_order);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->changed, NULL);
  clt_status st = s->piece_order ? CLT_OK : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (int i = 0; i < 2 && st == CLT_OK; i++) {
    s->slots[i].x = malloc((size_t)s->slot_rows * (size_t)t->features * sizeof(float));
    s->slots[i].y = malloc((size_t)s->slot_rows * sizeof(int32_t));
    s->slots[i].perm = malloc((size_t)s->slot_rows * sizeof(int32_t));
    if (!s->slots[i].x || !s->slots[i].y || !s->slots[i].perm)
      st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the CSV chunk buffers");
  }
  if (st == CLT_OK) st = clt_csv_open(t->path, &s->reader);
  if (st != CLT_OK) {
    clt_csv_stream_destroy(s);
    return st;
  }
  order_pieces(s, 0, 0, s->piece_order);
  s->pos = -1; /* not started */
  *out = s;
  return CLT_OK;
}

void clt_csv_stream_destroy(clt_csv_stream *s) {
  if (!s) return;
  stop(s);
  for (int i = 0; i < 2; i++) {
    free(s->slots[i].x);
    free(s->slots[i].y);
    free(s->slots[i].perm);
  }
  clt_csv_close(s->reader);
  free(s->piece_order);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->changed);
  free(s);
}

clt_status clt_csv_stream_begin_epoch(clt_csv_stream *s, uint32_t seed, int epoch) {
  if (!s->shuffle && s->pos == 0 && s->running) return CLT_OK;
  stop(s);
  s->seed = seed;
  s->epoch = epoch;
  order_pieces(s, seed, epoch, s->piece_order);
  return start_at(s, 0);
}

clt_status clt_csv_stream_read(clt_csv_stream *s, long start, int n, float *x, int32_t *labels) {
  if (start < 0 || n < 0 || start + n > s->count)
    return clt_fail(CLT_ERR_INTERNAL, "CSV rows [%ld, %ld) outside the stream of %ld", start,
                    start + n, s->count);
  if (start != s->pos || !s->running) CLT_TRY(start_at(s, start));
  size_t F = (size_t)s->t->features;
  for (int i = 0; i < n;) {
    slot *sl = &s->slots[s->k % 2];
    pthread_mutex_lock(&s->lock);
    while (sl->state == SLOT_EMPTY) pthread_cond_wait(&s->changed, &s->lock);
    int state = sl->state;
    pthread_mutex_unlock(&s->lock);
    if (state == SLOT_FAILED) {
      s->pos = -1; /* restart on the next read */
      return clt_fail(s->error, "%s", s->message);
    }
    int take = sl->rows - (int)s->offset < n - i ? sl->rows - (int)s->offset : n - i;
    for (int r = 0; r < take; r++) {
      int32_t row = sl->perm[s->offset + r];
      memcpy(x + (size_t)(i + r) * F, sl->x + (size_t)row * F, F * sizeof *x);
      labels[i + r] = sl->y[row];
    }
    i += take;
    s->offset += take;
    s->pos += take;
    if (s->offset == sl->rows) { /* the piece is used up: the reader may refill its slot */
      pthread_mutex_lock(&s->lock);
      sl->state = SLOT_EMPTY;
      pthread_cond_broadcast(&s->changed);
      pthread_mutex_unlock(&s->lock);
      s->k++;
      s->offset = 0;
    }
  }
  return CLT_OK;
}

size_t clt_csv_stream_host_bytes(const clt_csv_stream *s) {
  size_t C = (size_t)s->slot_rows, F = (size_t)s->t->features;
  return 2 * C * (F * sizeof(float) + 2 * sizeof(int32_t)) + CLT_CSV_READ_BUFFER +
         CLT_CSV_MAX_RECORD + (size_t)s->pieces * sizeof(long);
}

static clt_status source_begin(void *self, uint32_t seed, int epoch) {
  return clt_csv_stream_begin_epoch(self, seed, epoch);
}

static clt_status source_read(void *self, long start, int n, float *x, int32_t *labels) {
  return clt_csv_stream_read(self, start, n, x, labels);
}

void clt_csv_stream_dataset(clt_csv_stream *s, clt_batch_source *source, clt_dataset *out) {
  memset(source, 0, sizeof *source);
  source->self = s;
  source->begin_epoch = source_begin;
  source->read = source_read;
  source->data_crc = s->t->crc;
  memset(out, 0, sizeof *out);
  out->n = (int)s->count;
  out->h = out->w = 1;
  out->c = s->t->features;
  out->classes = s->t->classes;
  out->class_names = (const char *const *)s->t->class_names;
  out->source = source;
}
