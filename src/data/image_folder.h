/* Image folders as a data set: PNG and JPEG files sorted into one sub-folder per class, the
 * layout of Keras' image_dataset_from_directory and torchvision's ImageFolder.
 *
 *   DIR/CLASS/...image files...               one set (the training set; no test set), or
 *   DIR/train/CLASS/..., DIR/test/CLASS/...   train/ and test/ (and val/ if present), whose
 *                                             class folders must agree by name
 *
 * Class names are the class folders' names sorted bytewise (strcmp): label k is the k-th.
 * Inside a class folder the walk descends into sub-folders and follows symbolic links,
 * keeping every folder's (device, inode) pair: a folder met a second time (a symlink loop,
 * or two links to one folder) is not walked again and is counted in the report. Files are
 * taken by extension (.png, .jpg, .jpeg, any case); the others are counted per extension in
 * the report, not silently dropped.
 *
 * Every image is decoded (data/image_decode.h) on several threads, fitted to h x w x c
 * (clt_image_fit: area average down, bilinear up, grey <-> colour) and stored once in a
 * cache file (data/image_cache.h); a later load whose files (path, size, mtime) and options
 * are unchanged reads the cache and no image. The samples are in a fixed pseudo-random order
 * (the same on every run, independent of the training seed), so that a validation split of
 * the last samples takes every class, not the last class folders. */
#ifndef CLT_DATA_IMAGE_FOLDER_H
#define CLT_DATA_IMAGE_FOLDER_H

#include <stddef.h>

#include "data/dataset.h"

/* Which set of an image folder: the split argument of clt_dataset_load_dir. */
enum { CLT_FOLDER_TRAIN = 0, CLT_FOLDER_TEST = 1, CLT_FOLDER_VAL = 2 };

typedef struct clt_image_options {
  int h, w, c;  /* the model's input; h = 0: the first image's size and channels */
  int skip_bad; /* skip and count undecodable files instead of failing */
  int no_cache; /* decode every time; read and write no cache file */
  /* 1: stream the samples from the cache file (clt_dataset.source) instead of holding them;
   * 0: only when the decoded set would take more than half of the available host memory
   * (MemAvailable, or host_memory); -1: never */
  int stream;
  long long host_memory; /* > 0: the host memory to plan with (tests); 0: MemAvailable */
  long stream_chunk;     /* samples decoded at a time when streaming; 0: about 64 MiB of them */
  const char *cache_dir; /* the cache file's folder; NULL: no cache (and no streaming) */
  int threads;           /* 0: one per online core */
  long max_pixels;       /* 0: CLT_IMAGE_MAX_PIXELS */
  /* Called on the loading thread about ten times a second while images decode, and once at
   * the end (done == total). NULL: no report. */
  void (*progress)(void *user, long done, long total);
  void *user;
} clt_image_options;

#define CLT_IMAGE_NOTE_MAX 1024

typedef struct clt_image_report {
  long images;                               /* images in the data set */
  long skipped;                              /* bad files skipped (skip_bad) */
  char first_skipped[CLT_IMAGE_NOTE_MAX];    /* the first one's message */
  long unsupported;                          /* files with an extension that is not an image's */
  char unsupported_list[CLT_IMAGE_NOTE_MAX]; /* ".txt (3), .gif (1)" */
  long loops; /* folders met again (symlink loops) and not walked twice */
  char first_loop[CLT_IMAGE_NOTE_MAX];
  int cache_hit;     /* 1: read from the cache file, no image decoded */
  int cache_written; /* 1: a new cache file was written */
  int streamed;      /* 1: the samples are read from the cache file on demand */
  char cache_path[CLT_IMAGE_NOTE_MAX];
  double seconds; /* listing, decoding (or cache read) and writing */
} clt_image_report;

/* Zeroes o and sets the target shape to a model's input h x w x c (left 0, the first image's
 * shape, when c is neither 1 nor 3). */
void clt_image_options_init(clt_image_options *o, int h, int w, int c);

/* 1 when dir holds a sub-folder (then it is read as an image folder), else 0. */
int clt_image_folder_detect(const char *dir);

/* 1 when dir has the train/test layout and a val/ folder. */
int clt_image_folder_has_val(const char *dir);

/* Loads the split of dir into out. o NULL: defaults; report may be NULL. A one-set folder
 * gives an empty test set (n = 0, its shape and classes set). A bad file is
 * CLT_ERR_BAD_DATA naming it and the decoder's reason unless o->skip_bad; a folder with no
 * class folder, a class folder with no image, fewer than 2 classes or train/test class
 * folders that differ are CLT_ERR_BAD_DATA saying which. */
clt_status clt_image_folder_load(const char *dir, int split, const clt_image_options *o,
                                 clt_image_report *report, clt_dataset *out);

#endif
