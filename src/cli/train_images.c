#include "cli/train_images.h"

#include <string.h>

#include "cli/term.h"

typedef struct decode_line {
  FILE *out;
  const char *what;
  int terminal, shown;
} decode_line;

/* The progress of decoding: redrawn on a terminal, else one line at the end. */
static void on_progress(void *user, long done, long total) {
  decode_line *d = user;
  if (d->terminal) {
    fprintf(d->out, "\rDecoding %s images: %ld/%ld (%.0f%%)", d->what, done, total,
            total ? 100.0 * done / total : 100.0);
    if (done == total) fprintf(d->out, "\n");
    fflush(d->out);
    d->shown = 1;
  }
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
            "Image folder (%s): %ld bad image(s) skipped (--skip-bad-images); the first: %s\n",
            what, r->skipped, r->first_skipped);
}

clt_status clt_cli_load_images(const clt_run_options *ro, const clt_model *m, int split,
                               clt_dataset *out, FILE *info) {
  static const char *const names[3] = {"train", "test", "val"};
  decode_line line = {stderr, names[split], clt_is_terminal(stderr), 0};
  clt_image_options o; /* not an image model: the folder's own shape, checked later */
  clt_image_options_init(&o, m->input.h, m->input.w, m->input.c);
  o.skip_bad = ro->skip_bad_images;
  o.stream = ro->stream; /* --stream: from the cache file too; else by host memory */
  o.progress = on_progress;
  o.user = &line;
  clt_image_report r;
  memset(&r, 0, sizeof r);
  clt_status s = clt_dataset_load_dir_images(ro->data, split, &o, &r, out);
  if (s == CLT_OK && (r.images || r.cache_path[0]))
    print_report(&r, names[split], o.skip_bad, info);
  return s;
}
