/* In-memory labelled image data set: IDX loading, validation split, subsets, shuffle. */
#include "data/dataset.h"

#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "runtime/rng.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

const char *const *clt_fashion_mnist_class_names(void) {
  return fashion_names;
}

void clt_dataset_free(clt_dataset *ds) {
  if (!ds) return;
  free(ds->images);
  free(ds->labels);
  free(ds->names_storage);
  if (ds->owns_source && ds->source && ds->source->release) ds->source->release(ds->source->self);
  memset(ds, 0, sizeof *ds);
}

/* Builds out from a decoded image file [n, h, w] and label file [n]. */
static clt_status from_idx(const clt_idx *im, const char *images_path, const clt_idx *lb,
                           const char *labels_path, clt_dataset *out) {
  char dims[64];
  if (im->ndims != 3) {
    clt_idx_dims_string(im, dims, sizeof dims);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: image file has %d dimension(s) (%s), expected 3 (count x height x "
                    "width); give an image file such as train-images-idx3-ubyte.gz",
                    images_path, im->ndims, dims);
  }
  if (lb->ndims != 1) {
    clt_idx_dims_string(lb, dims, sizeof dims);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: label file has %d dimensions (%s), expected 1 (count); give a label "
                    "file such as train-labels-idx1-ubyte.gz",
                    labels_path, lb->ndims, dims);
  }
  if (im->dims[0] != lb->dims[0])
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s holds %u images but %s holds %u labels; use the image and label files "
                    "of the same set (both train-... or both t10k-...)",
                    images_path, (unsigned)im->dims[0], labels_path, (unsigned)lb->dims[0]);
  uint64_t pixels = (uint64_t)im->dims[1] * im->dims[2];
  if (im->dims[0] > INT_MAX || pixels > INT_MAX || im->count > SIZE_MAX / sizeof(float))
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %u images of %ux%u pixels are more than cltrain can hold; use a "
                    "smaller data set",
                    images_path, (unsigned)im->dims[0], (unsigned)im->dims[1],
                    (unsigned)im->dims[2]);
  out->n = (int)im->dims[0];
  out->h = (int)im->dims[1];
  out->w = (int)im->dims[2];
  out->c = 1;
  out->images = malloc(im->count * sizeof(float));
  out->labels = malloc((size_t)out->n * sizeof(int32_t));
  if (!out->images || !out->labels)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "%s: cannot allocate %zu bytes for the images; free memory or use a "
                    "smaller data set",
                    images_path, im->count * sizeof(float) + (size_t)out->n * sizeof(int32_t));
  float scale[256];
  for (int v = 0; v < 256; v++) scale[v] = (float)v / 255.0f;
  for (size_t i = 0; i < im->count; i++) out->images[i] = scale[im->data[i]];
  int max_label = 0;
  for (int i = 0; i < out->n; i++) {
    out->labels[i] = lb->data[i];
    if (lb->data[i] > max_label) max_label = lb->data[i];
  }
  out->classes = max_label + 1 < 2 ? 2 : max_label + 1;
  return CLT_OK;
}

clt_status clt_dataset_load_idx(const char *images_path, const char *labels_path,
                                clt_dataset *out) {
  memset(out, 0, sizeof *out);
  clt_idx im, lb;
  clt_status s = clt_idx_read(images_path, &im);
  if (s != CLT_OK) return s;
  s = clt_idx_read(labels_path, &lb);
  if (s == CLT_OK) s = from_idx(&im, images_path, &lb, labels_path, out);
  clt_idx_free(&im);
  clt_idx_free(&lb);
  if (s != CLT_OK) clt_dataset_free(out);
  return s;
}

/* Case-insensitive search for an ASCII lower-case word. */
static int contains_word(const char *s, const char *word) {
  size_t n = strlen(word);
  for (; *s; s++) {
    size_t i = 0;
    while (i < n && s[i] && tolower((unsigned char)s[i]) == word[i]) i++;
    if (i == n) return 1;
  }
  return 0;
}

/* dir without trailing slashes (but "/" stays "/"). */
static size_t dir_len(const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  return n;
}

static int is_default_dir(const char *dir) {
  size_t n = dir_len(dir);
  return n == strlen(CLT_DEFAULT_DATA_DIR) && strncmp(dir, CLT_DEFAULT_DATA_DIR, n) == 0;
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Sets path to dir/name.gz or dir/name, whichever exists (.gz first). */
static clt_status find_file(const char *dir, const char *name, char *path, size_t size) {
  int len = (int)dir_len(dir);
  int k = snprintf(path, size, "%.*s/%s.gz", len, dir, name);
  if (k < 0 || (size_t)k >= size)
    return clt_fail(CLT_ERR_USAGE, "%s: folder path too long; use a shorter path", dir);
  if (is_file(path)) return CLT_OK;
  path[k - 3] = '\0'; /* drop ".gz" */
  if (is_file(path)) return CLT_OK;
  if (is_default_dir(dir))
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: neither %s.gz nor %s found; reinstall Fashion-MNIST with: sudo "
                    "apt-get install --reinstall dataset-fashion-mnist",
                    dir, name, name);
  return clt_fail(CLT_ERR_MISSING_INPUT,
                  "%s: neither %s.gz nor %s found; put the MNIST-layout IDX files "
                  "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                  "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in that folder",
                  dir, name, name);
}

/* Whether dir holds any of the four MNIST-layout IDX files, plain or gzipped. */
static int has_idx_files(const char *dir) {
  static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  int len = (int)dir_len(dir);
  char path[4200];
  for (int i = 0; i < 4; i++)
    for (int gz = 0; gz < 2; gz++) {
      snprintf(path, sizeof path, "%.*s/%s%s", len, dir, names[i], gz ? ".gz" : "");
      if (is_file(path)) return 1;
    }
  return 0;
}

/* The one line for a folder with neither format: what was looked for. */
static clt_status no_known_data(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%.*s/data_batch_1", (int)dir_len(dir), dir);
  const char *python = is_file(path) ? " (data_batch_1 without .bin is CIFAR-10's python "
                                       "version: use the binary version)"
                                     : "";
  return clt_fail(CLT_ERR_MISSING_INPUT,
                  "%s: no data set found%s; looked for MNIST-layout IDX files "
                  "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                  "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) and CIFAR-10 binary "
                  "batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin, "
                  "batches.meta.txt) and an image folder (one sub-folder of PNG or JPEG images per "
                  "class, or train/ and test/ folders that hold them); put one of these sets in "
                  "the folder",
                  dir, python);
}

clt_status clt_dataset_load_dir(const char *dir, int test_split, clt_dataset *out) {
  return clt_dataset_load_dir_images(dir, test_split, NULL, NULL, out);
}

clt_status clt_dataset_load_dir_images(const char *dir, int test_split,
                                       const clt_image_options *images, clt_image_report *report,
                                       clt_dataset *out) {
  memset(out, 0, sizeof *out);
  if (test_split != 0 && test_split != 1 && test_split != CLT_SPLIT_VAL)
    return clt_fail(CLT_ERR_USAGE, "data set split %d is neither 0 (train) nor 1 (test)",
                    test_split);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    const char *what = stat(dir, &st) != 0 ? "no such folder" : "not a folder";
    if (is_default_dir(dir))
      return clt_fail(CLT_ERR_MISSING_INPUT,
                      "%s: %s; install Fashion-MNIST with: sudo apt-get install "
                      "dataset-fashion-mnist",
                      dir, what);
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: %s; give a folder that holds the MNIST-layout IDX files "
                    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)",
                    dir, what);
  }
  /* The format by what the folder holds: IDX files, else CIFAR-10 binary batches, else an
   * image folder. */
  if (!has_idx_files(dir) && !is_default_dir(dir)) {
    int cifar = clt_cifar_dir_has_batches(dir);
    if (cifar && test_split != CLT_SPLIT_VAL) return clt_cifar_load_dir(dir, test_split, out);
    if (!cifar && clt_image_folder_detect(dir))
      return clt_image_folder_load(dir, test_split, images, report, out);
    return no_known_data(dir);
  }
  if (test_split == CLT_SPLIT_VAL)
    return clt_fail(CLT_ERR_USAGE, "%s: IDX files have no validation set; use --val-split", dir);
  const char *prefix = test_split ? "t10k" : "train";
  char name[64], images_path[4096], labels_path[4096];
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  clt_status s = find_file(dir, name, images_path, sizeof images_path);
  if (s != CLT_OK) return s;
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
  s = find_file(dir, name, labels_path, sizeof labels_path);
  if (s != CLT_OK) return s;
  s = clt_dataset_load_idx(images_path, labels_path, out);
  if (s != CLT_OK) return s;
  if (contains_word(dir, "fashion")) {
    for (int i = 0; i < out->n; i++) {
      if (out->labels[i] >= 10) {
        s = clt_fail(CLT_ERR_BAD_DATA,
                     "%s: label %d of sample %d is out of range for Fashion-MNIST's 10 "
                     "classes; %s",
                     labels_path, (int)out->labels[i], i, clt_idx_fix_hint(labels_path));
        clt_dataset_free(out);
        return s;
      }
    }
    out->class_names = fashion_names;
  }
  if (out->classes < 10) out->classes = 10;
  return CLT_OK;
}

clt_status clt_dataset_subset(const clt_dataset *ds, int first, int count, clt_dataset *out) {
  if (first < 0 || count < 0 || first > ds->n || count > ds->n - first) {
    if (out != ds) memset(out, 0, sizeof *out);
    return clt_fail(CLT_ERR_USAGE,
                    "samples %d to %d are outside the data set's %d samples; ask for fewer", first,
                    first + count - 1, ds->n);
  }
  clt_dataset t = *ds;
  t.n = count;
  t.images = NULL;
  t.labels = NULL;
  t.owns_source = 0;
  if (ds->source) { /* streamed: a source over the range */
    clt_status s = ds->source->range
                       ? ds->source->range(ds->source->self, first, count, &t.source)
                       : clt_fail(CLT_ERR_USAGE, "streamed data cannot be cut into subsets");
    if (s != CLT_OK) {
      if (out != ds) memset(out, 0, sizeof *out);
      return s;
    }
    t.owns_source = 1;
  }
  if (clt_dataset_copy_class_names(ds, &t) != CLT_OK) {
    if (t.owns_source) t.source->release(t.source->self);
    if (out != ds) memset(out, 0, sizeof *out);
    return CLT_ERR_OUT_OF_MEMORY;
  }
  if (count > 0 && !ds->source) {
    size_t per = (size_t)ds->h * ds->w * ds->c;
    t.images = malloc((size_t)count * per * sizeof(float));
    t.labels = malloc((size_t)count * sizeof(int32_t));
    if (!t.images || !t.labels) {
      free(t.images);
      free(t.labels);
      free(t.names_storage);
      if (out != ds) memset(out, 0, sizeof *out);
      return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                      "cannot allocate %zu bytes for %d samples; free memory or use fewer "
                      "samples",
                      (size_t)count * (per * sizeof(float) + sizeof(int32_t)), count);
    }
    memcpy(t.images, ds->images + (size_t)first * per, (size_t)count * per * sizeof(float));
    memcpy(t.labels, ds->labels + first, (size_t)count * sizeof(int32_t));
  }
  if (out == ds) clt_dataset_free(out);
  *out = t;
  return CLT_OK;
}

clt_status clt_dataset_split(const clt_dataset *all, double val_fraction, clt_dataset *train,
                             clt_dataset *val) {
  if (train == all || val == all || train == val) abort(); /* caller bug, see dataset.h */
  memset(train, 0, sizeof *train);
  memset(val, 0, sizeof *val);
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    return clt_fail(CLT_ERR_USAGE,
                    "validation fraction %g is outside [0, 1); give e.g. 0.1 to hold out 10%%",
                    val_fraction);
  int n_val = (int)floor((double)all->n * val_fraction + 0.5);
  if (all->n > 0 && n_val >= all->n)
    return clt_fail(CLT_ERR_USAGE,
                    "validation fraction %g of %d samples leaves no training sample; use a "
                    "smaller fraction",
                    val_fraction, all->n);
  clt_status s = clt_dataset_subset(all, 0, all->n - n_val, train);
  if (s == CLT_OK) s = clt_dataset_subset(all, all->n - n_val, n_val, val);
  if (s != CLT_OK) {
    clt_dataset_free(train);
    clt_dataset_free(val);
  }
  return s;
}

void clt_shuffle_order(uint32_t seed, uint32_t epoch, int n, int32_t *order) {
  if (n <= 0) return;
  for (int i = 0; i < n; i++) order[i] = i;
  uint32_t stream = clt_stream(CLT_STREAM_SHUFFLE, epoch);
  for (int i = n - 1; i > 0; i--) {
    uint64_t r = clt_hash(seed, stream, (uint32_t)i);
    int j = (int)((r * (uint64_t)(i + 1)) >> 32);
    int32_t tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}
