/* In-memory labelled image data set: IDX loading, validation split, subsets, shuffle. */
#include "data/dataset.h"

#include "data/idx.h"
#include "runtime/rng.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The host memory of this machine in bytes, or 0 when unknown. */
static uint64_t host_memory(void) {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static const char *shape_or_any(int v, char *buf) {
  if (v <= 0) return "any";
  snprintf(buf, 16, "%d", v);
  return buf;
}

/* The headers of an image file [n, h, w] and a label file [n], checked against each other,
 * expect and the host's memory before any data is read. */
static clt_status check_headers(const clt_idx *im, const char *images_path, const clt_idx *lb,
                                const char *labels_path, const clt_data_expect *expect) {
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
  if (expect && ((expect->h > 0 && (uint32_t)expect->h != im->dims[1]) ||
                 (expect->w > 0 && (uint32_t)expect->w != im->dims[2]) ||
                 (expect->c > 0 && expect->c != 1))) {
    char h[16], w[16], c[16];
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: the images are %ux%ux1 but the model takes %sx%sx%s; use data of the "
                    "model's input size (or a model made for this data)",
                    images_path, (unsigned)im->dims[1], (unsigned)im->dims[2],
                    shape_or_any(expect->h, h), shape_or_any(expect->w, w),
                    shape_or_any(expect->c, c));
  }
  /* The file's bytes, their floats and the labels, all held at once while loading. */
  uint64_t need = (uint64_t)im->count * (1 + sizeof(float)) + (uint64_t)lb->count * 5;
  uint64_t have = host_memory();
  if (have && need > have)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "%s: %u images of %ux%u pixels need %.1f GiB of host memory to load, more "
                    "than this machine's %.1f GiB; use a smaller data set",
                    images_path, (unsigned)im->dims[0], (unsigned)im->dims[1],
                    (unsigned)im->dims[2], (double)need / 1073741824.0,
                    (double)have / 1073741824.0);
  return CLT_OK;
}

/* Builds out from a decoded image file [n, h, w] and label file [n] (headers checked). */
static clt_status from_idx(const clt_idx *im, const char *images_path, const clt_idx *lb,
                           clt_dataset *out) {
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

clt_status clt_dataset_load_idx_for(const char *images_path, const char *labels_path,
                                    const clt_data_expect *expect, clt_dataset *out) {
  memset(out, 0, sizeof *out);
  clt_idx im, lb;
  clt_idx_file *fi = NULL, *fl = NULL;
  memset(&lb, 0, sizeof lb);
  clt_status s = clt_idx_open(images_path, &fi, &im);
  if (s == CLT_OK) s = clt_idx_open(labels_path, &fl, &lb);
  /* Both headers, before anything large is read: the labels first (the smaller file). */
  if (s == CLT_OK) s = check_headers(&im, images_path, &lb, labels_path, expect);
  if (s == CLT_OK) s = clt_idx_read_data(fl, &lb);
  if (s == CLT_OK) s = clt_idx_read_data(fi, &im);
  if (s == CLT_OK) s = from_idx(&im, images_path, &lb, out);
  clt_idx_close(fi);
  clt_idx_close(fl);
  clt_idx_free(&im);
  clt_idx_free(&lb);
  if (s != CLT_OK) clt_dataset_free(out);
  return s;
}

clt_status clt_dataset_load_idx(const char *images_path, const char *labels_path,
                                clt_dataset *out) {
  return clt_dataset_load_idx_for(images_path, labels_path, NULL, out);
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
