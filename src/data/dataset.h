/* An in-memory labelled image data set (host side), loaded from IDX files, with the
 * validation split, subsets and the per-epoch shuffle order.
 *
 * Ownership: every clt_dataset owns its images and labels (split and subset copy), so each
 * one is freed with clt_dataset_free independently of the others, in any order. class_names
 * points either at static storage (Fashion-MNIST's; names_storage NULL) or into names_storage,
 * one block the data set owns (CIFAR's batches.meta.txt; set by clt_dataset_set_class_names),
 * which split and subset copy and clt_dataset_free frees. A zeroed struct is a valid empty data
 * set, and every function that fills an output zeroes it first, so clt_dataset_free is safe on it
 * even after a failure. */
#ifndef CLT_DATA_DATASET_H
#define CLT_DATA_DATASET_H

#include "cltrain/status.h"

#include <stdint.h>

/* Where the Debian package dataset-fashion-mnist installs the Fashion-MNIST IDX files. */
#define CLT_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

/* A data set read on demand instead of held in memory (a CSV table larger than memory,
 * data/csv_stream.h): its clt_dataset has images and labels NULL, and the device data
 * (train/device_data.h) streams batches from it. */
typedef struct clt_batch_source {
  void *self;
  /* Sets the order of the coming reads to that of epoch: same seed and epoch, same order;
   * every sample once per epoch. */
  clt_status (*begin_epoch)(void *self, uint32_t seed, int epoch);
  /* Writes samples [start, start + n) of the current order: x [n, h * w * c] and labels [n]
   * (class indices, or float bits of regression targets). */
  clt_status (*read)(void *self, long start, int n, float *x, int32_t *labels);
  uint32_t data_crc; /* CRC32 of the data (checkpoints compare it on resume) */
  /* Optional (NULL for CSV streams). range: a new source over samples [first, first + count)
   * of this one, owned by the data set it goes into (clt_dataset_subset and _split use it);
   * release: frees a source a data set owns. */
  clt_status (*range)(void *self, long first, long count, const struct clt_batch_source **out);
  void (*release)(void *self);
} clt_batch_source;

typedef struct clt_dataset {
  int n, h, w, c;  /* samples, height, width, channels */
  int classes;     /* labels lie in [0, classes) */
  float *images;   /* [n, h, w, c], pixel values scaled to [0, 1]; NULL when n == 0 */
  int32_t *labels; /* [n]; NULL when n == 0 */
  const char *const *class_names; /* [classes] or NULL (then classes are plain numbers) */
  const clt_batch_source *source; /* NULL, or where the samples come from (borrowed) */
  void *names_storage;            /* owned block class_names points into, or NULL (static names) */
  int owns_source;                /* source is this data set's: clt_dataset_free releases it */
} clt_dataset;

/* Loads an IDX image file (3-D: n, h, w; c = 1) and an IDX label file (1-D: n) that must
 * hold the same number of samples. Pixels are divided by 255. classes = max label + 1, at
 * least 2. class_names is NULL. */
clt_status clt_dataset_load_idx(const char *images_path, const char *labels_path, clt_dataset *out);

/* Loads the training (test_split = 0: train-images-idx3-ubyte, train-labels-idx1-ubyte) or
 * test (test_split = 1: t10k-...) set from dir, each file either with or without ".gz"
 * (".gz" tried first). Files in the MNIST layout have 10 classes: classes = max(max label +
 * 1, 10). When dir contains "fashion" (any case) or is CLT_DEFAULT_DATA_DIR and the set has
 * 10 classes, class_names are Fashion-MNIST's; a set with more classes keeps numbers as
 * names (a folder's name never refuses data). Missing folder or file: CLT_ERR_MISSING_INPUT.
 * The format follows what dir holds: any of the IDX files above, else CIFAR-10 binary batches
 * (data_batch_N.bin, test_batch.bin: clt_cifar_load_dir in data/cifar.h, with owned class
 * names from batches.meta.txt), else an image folder (a folder with sub-folders:
 * data/image_folder.h, images fitted to the first image's size), else CLT_ERR_MISSING_INPUT with
 * one line naming the three. */
clt_status clt_dataset_load_dir(const char *dir, int test_split, clt_dataset *out);

/* What the run's model takes (0: any), so that the loader refuses data of another shape
 * from the files' headers, before their data are read. */
typedef struct clt_data_expect {
  int h, w, c;
} clt_data_expect;

/* clt_dataset_load_dir, refusing from the headers (CLT_ERR_BAD_DATA) images of another shape
 * than expect (NULL: any); an image folder is fitted to expect (0 in it: the first image's
 * shape). IDX files: the image and label headers are checked against each
 * other, expect and the host's memory (CLT_ERR_OUT_OF_MEMORY) before any data is inflated,
 * and no more than the declared data is inflated (idx.h). */
clt_status clt_dataset_load_dir_for(const char *dir, int test_split, const clt_data_expect *expect,
                                    clt_dataset *out);

/* clt_dataset_load_idx with the checks of clt_dataset_load_dir_for (expect NULL: any shape). */
clt_status clt_dataset_load_idx_for(const char *images_path, const char *labels_path,
                                    const clt_data_expect *expect, clt_dataset *out);

struct clt_image_options;
struct clt_image_report;

/* clt_dataset_load_dir_for with an image folder's options (data/image_folder.h; NULL:
 * defaults) and its report (may be NULL). The format is chosen as above, image folders last:
 * a folder with neither IDX files nor CIFAR batches but with a sub-folder. The expected shape
 * is images' h x w x c (0: any): an image folder's images are fitted to it, IDX and CIFAR
 * data are checked against it. split may also be 2, the val/ folder of an image folder. */
clt_status clt_dataset_load_dir_images(const char *dir, int split,
                                       const struct clt_image_options *images,
                                       struct clt_image_report *report, clt_dataset *out);

/* Copies count names into one block owned by ds (names_storage) and points class_names at
 * it; replaces names ds owned before. count must equal ds->classes when the names are used. */
clt_status clt_dataset_set_class_names(clt_dataset *ds, const char *const *names, int count);

/* Gives to, a shallow copy of from (to = *from), its own copy of the names from owns; nothing
 * for static names. On failure to->class_names and to->names_storage are NULL. */
clt_status clt_dataset_copy_class_names(const clt_dataset *from, clt_dataset *to);

/* Fashion-MNIST's 10 class names ("T-shirt/top", ..., "Ankle boot"). */
const char *const *clt_fashion_mnist_class_names(void);

/* Splits all into train (the first n - n_val samples) and val (the last n_val =
 * round(n * val_fraction) samples), in file order: take the split before any shuffling,
 * as Keras' validation_split does. val_fraction must lie in [0, 1); 0 gives an empty val;
 * a split that leaves no training sample is CLT_ERR_USAGE. train and val are new copies;
 * all is unchanged. train, val and all must be three different structs (else abort()). */
clt_status clt_dataset_split(const clt_dataset *all, double val_fraction, clt_dataset *train,
                             clt_dataset *val);

/* Copies samples [first, first + count) of ds into out. count may be 0; a range outside
 * [0, n] is CLT_ERR_USAGE. out may be ds: ds is then replaced by the subset (and left as it
 * was on failure). A streamed ds (source) gives a streamed out over its range (source->range;
 * CLT_ERR_USAGE when the source has none). */
clt_status clt_dataset_subset(const clt_dataset *ds, int first, int count, clt_dataset *out);

/* Writes a permutation of 0..n-1 into order[n]: Fisher-Yates, for i = n-1 down to 1,
 * j = (clt_hash(seed, clt_stream(CLT_STREAM_SHUFFLE, epoch), i) * (i + 1)) >> 32 (64-bit
 * product), swap order[i] and order[j]. Same seed and epoch, same permutation. */
void clt_shuffle_order(uint32_t seed, uint32_t epoch, int n, int32_t *order);

/* Frees images and labels and zeroes *ds. NULL and zeroed structs are fine. */
void clt_dataset_free(clt_dataset *ds);

#endif
