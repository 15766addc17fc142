#include "train/train_images.h"

#include <string.h>

typedef struct decode_line {
  const clt_notes_sink *notes;
  const char *what;
  long done, total;
  int open; /* a progress line was drawn and not ended with a newline */
} decode_line;

static void flush(const clt_notes_sink *n) {
  fflush(n->out);
  if (n->flush) n->flush(n->user);
}

/* One progress note, starting with '\r' (see train_images.h); last: ends the line. */
static void progress_note(decode_line *d, int last) {
  flush(d->notes); /* what came before goes on its own */
  fprintf(d->notes->out, "\rDecoding %s images: %ld/%ld (%.0f%%)%s", d->what, d->done, d->total,
          d->total ? 100.0 * (double)d->done / (double)d->total : 100.0, last ? "\n" : "");
  flush(d->notes);
  d->open = !last;
}

static void on_progress(void *user, long done, long total) {
  decode_line *d = user;
  d->done = done;
  d->total = total;
  progress_note(d, done == total);
}

static void print_report(const clt_image_report *r, const char *what, int skip_bad, FILE *info) {
  if (r->streamed)
    fprintf(info, "Image folder (%s): %ld images streamed from the cache %s (%s %.2f s)\n", what,
            r->images, r->cache_path, r->cache_hit ? "no image decoded, checked in" : "decoded in",
            r->seconds);
  else if (r->cache_hit)
    fprintf(info, "Image folder (%s): %ld images from the cache %s (%.2f s, no image decoded)\n",
            what, r->images, r->cache_path, r->seconds);
  else
    fprintf(info, "Image folder (%s): %ld images decoded in %.2f s%s%s\n", what, r->images,
            r->seconds, r->cache_written ? "; cached in " : "; not cached",
            r->cache_written ? r->cache_path : "");
  if (r->unsupported)
    fprintf(info, "Image folder (%s): %ld files that are not .png, .jpg or .jpeg ignored: %s\n",
            what, r->unsupported, r->unsupported_list);
  if (r->loops)
    fprintf(info, "Image folder (%s): %ld folder(s) not walked twice; the first: %s\n", what,
            r->loops, r->first_loop);
  if (r->skipped && skip_bad)
    fprintf(info,
            "Image folder (%s): %ld bad image(s) skipped (as asked: skip bad images); the first: "
            "%s\n",
            what, r->skipped, r->first_skipped);
}

clt_status clt_train_load_images(const char *data, const clt_model *m, int split,
                                 const clt_device_options *dev, int skip_bad, int stream,
                                 clt_dataset *out, const clt_notes_sink *notes) {
  static const char *const names[3] = {"train", "test", "val"};
  decode_line line = {notes, names[split], 0, 0, 0};
  clt_image_options o; /* not an image model: the folder's own shape, checked later */
  clt_image_options_init(&o, m->input.h, m->input.w, m->input.c);
  o.skip_bad = skip_bad;
  o.stream = stream; /* streaming: from the cache file too; else by host memory */
  char cache_dir[4200];
  if (dev->cache_dir && dev->cache_dir[0]) {
    snprintf(cache_dir, sizeof cache_dir, "%s/images", dev->cache_dir);
    o.cache_dir = cache_dir;
  }
  o.host_memory = (long long)dev->host_memory;
  if (notes) {
    o.progress = on_progress;
    o.user = &line;
  }
  clt_image_report r;
  memset(&r, 0, sizeof r);
  clt_status s = clt_dataset_load_dir_images(data, split, &o, &r, out);
  if (line.open) progress_note(&line, 1); /* stopped early (a bad file): end the line */
  if (s == CLT_OK && notes && (r.images || r.cache_path[0]))
    print_report(&r, names[split], o.skip_bad, notes->out);
  return s;
}
