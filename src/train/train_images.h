/* The session's data on a folder: the data set of a split, loaded with the image-folder
 * options of the run (the model's input shape, skip_bad_images, streaming) with the
 * progress of decoding and the folder's report (skipped files, unsupported files, loops,
 * the cache) written to the run's notes. IDX and CIFAR folders load as before, checked
 * against the model's input shape from their headers. */
#ifndef CLT_TRAIN_TRAIN_IMAGES_H
#define CLT_TRAIN_TRAIN_IMAGES_H

#include <stdio.h>

#include "data/image_folder.h"
#include "nn/model.h"
#include "runtime/device_open.h"

/* Where the notes go: written to out; flush (may be NULL) hands them on at once. While
 * images decode, each progress note is one text of its own that starts with '\r' and
 * redraws "Decoding train images: done/total (p%)" (the last one ends in a newline), so
 * that a display may redraw it in place and a log may drop it. */
typedef struct clt_notes_sink {
  FILE *out;
  void (*flush)(void *user);
  void *user;
} clt_notes_sink;

/* clt_dataset_load_dir_images(data, split, ...) for model m: images fitted to m's input,
 * skip_bad as given, stream as the run's stream setting (1: from the cache file too), the
 * cache in dev->cache_dir/images (none when NULL) and dev->host_memory. notes may be NULL. */
clt_status clt_train_load_images(const char *data, const clt_model *m, int split,
                                 const clt_device_options *dev, int skip_bad, int stream,
                                 clt_dataset *out, const clt_notes_sink *notes);

#endif
