/* CIFAR-10 binary batches: record checks, planar-to-NHWC decoding, class names, and the
 * folder layout (data_batch_1..K.bin, test_batch.bin, batches.meta.txt). */
#include "data/cifar.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/file_check.h"

/* A bound on any read of one batch file (its own size is read, never more). */
#define CLT_CIFAR_MAX_FILE_BYTES ((uint64_t)1 << 36)

clt_status clt_cifar_check(const uint8_t *bytes, size_t size, const char *name, int classes,
                           int *records) {
  *records = 0;
  if (classes < 1 || classes > CLT_CIFAR_CLASSES)
    return clt_fail(CLT_ERR_INTERNAL, "%s: %d classes asked of a CIFAR-10 batch", name, classes);
  if (size == 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: empty file, expected records of %d bytes (1 label + 3072 pixels); "
                    "re-download the CIFAR-10 binary version",
                    name, CLT_CIFAR_RECORD);
  if (size % CLT_CIFAR_RECORD != 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %zu bytes is not a whole number of %d-byte records: record %zu at byte "
                    "offset %zu is truncated (%zu of %d bytes); re-download the CIFAR-10 binary "
                    "version",
                    name, size, CLT_CIFAR_RECORD, size / CLT_CIFAR_RECORD,
                    size / CLT_CIFAR_RECORD * CLT_CIFAR_RECORD, size % CLT_CIFAR_RECORD,
                    CLT_CIFAR_RECORD);
  size_t n = size / CLT_CIFAR_RECORD;
  if (n > (size_t)INT32_MAX / CLT_CIFAR_PIXELS)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: %zu records are more than cltrain can hold; split it",
                    name, n);
  for (size_t r = 0; r < n; r++) {
    unsigned label = bytes[r * CLT_CIFAR_RECORD];
    if (label >= (unsigned)classes) {
      if (classes == CLT_CIFAR_CLASSES)
        return clt_fail(CLT_ERR_BAD_DATA,
                        "%s: record %zu (byte offset %zu) has label %u, outside CIFAR-10's 0..9; "
                        "the file is corrupt or not a CIFAR-10 binary batch (CIFAR-100's has 2 "
                        "label bytes): re-download the CIFAR-10 binary version",
                        name, r, r * CLT_CIFAR_RECORD, label);
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: record %zu (byte offset %zu) has label %u but batches.meta.txt names "
                      "only %d classes (0..%d); add the missing class names to batches.meta.txt "
                      "or fix the labels",
                      name, r, r * CLT_CIFAR_RECORD, label, classes, classes - 1);
    }
  }
  *records = (int)n;
  return CLT_OK;
}

void clt_cifar_decode(const uint8_t *bytes, int records, float *images, int32_t *labels) {
  float scale[256];
  for (int v = 0; v < 256; v++) scale[v] = (float)v / 255.0f;
  for (int r = 0; r < records; r++) {
    const uint8_t *rec = bytes + (size_t)r * CLT_CIFAR_RECORD;
    const uint8_t *planes = rec + 1;                    /* [3, 32, 32] */
    float *img = images + (size_t)r * CLT_CIFAR_PIXELS; /* [32, 32, 3] */
    labels[r] = rec[0];
    for (int p = 0; p < CLT_CIFAR_PLANE; p++)
      for (int ch = 0; ch < CLT_CIFAR_CHANNELS; ch++)
        img[p * CLT_CIFAR_CHANNELS + ch] = scale[planes[ch * CLT_CIFAR_PLANE + p]];
  }
}

/* Fills out's shape for records CIFAR images; images and labels allocated. */
static clt_status alloc_set(int records, const char *name, clt_dataset *out) {
  out->n = records;
  out->h = CLT_CIFAR_SIDE;
  out->w = CLT_CIFAR_SIDE;
  out->c = CLT_CIFAR_CHANNELS;
  if (records == 0) return CLT_OK;
  size_t floats = (size_t)records * CLT_CIFAR_PIXELS;
  out->images = malloc(floats * sizeof(float));
  out->labels = malloc((size_t)records * sizeof(int32_t));
  if (!out->images || !out->labels)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "%s: cannot allocate %zu bytes for %d images; free memory or use a smaller "
                    "data set",
                    name, floats * sizeof(float), records);
  return CLT_OK;
}

clt_status clt_cifar_parse(const uint8_t *bytes, size_t size, const char *name, int classes,
                           clt_dataset *out) {
  memset(out, 0, sizeof *out);
  int records;
  clt_status s = clt_cifar_check(bytes, size, name, classes, &records);
  if (s == CLT_OK) s = alloc_set(records, name, out);
  if (s != CLT_OK) {
    clt_dataset_free(out);
    return s;
  }
  out->classes = classes < 2 ? 2 : classes;
  clt_cifar_decode(bytes, records, out->images, out->labels);
  return CLT_OK;
}

clt_status clt_cifar_parse_names(const char *text, size_t size, const char *name, clt_dataset *ds) {
  char store[CLT_CIFAR_CLASSES][CLT_CIFAR_MAX_NAME + 1];
  const char *names[CLT_CIFAR_CLASSES];
  int count = 0, line_no = 0;
  size_t pos = 0;
  while (pos < size) {
    size_t end = pos;
    while (end < size && text[end] != '\n') end++;
    line_no++;
    size_t len = end - pos;
    if (len > 0 && text[pos + len - 1] == '\r') len--;
    const char *line = text + pos;
    pos = end + 1;
    if (len == 0) continue;
    if (memchr(line, '\0', len))
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: line %d holds a NUL byte; it must be text, one class name per line",
                      name, line_no);
    if (len > CLT_CIFAR_MAX_NAME)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: line %d is a class name of %zu bytes, longer than %d; shorten it", name,
                      line_no, len, CLT_CIFAR_MAX_NAME);
    if (count == CLT_CIFAR_CLASSES)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: more than %d class names (line %d); CIFAR-10 has 10 classes: keep one "
                      "name per line and no more than 10",
                      name, CLT_CIFAR_CLASSES, line_no);
    memcpy(store[count], line, len);
    store[count][len] = '\0';
    names[count] = store[count];
    count++;
  }
  if (count < 2)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %d class name(s), need 2 to 10 (one per line; CIFAR-10's has 10: "
                    "airplane ... truck); re-download the CIFAR-10 binary version",
                    name, count);
  CLT_TRY(clt_dataset_set_class_names(ds, names, count));
  ds->classes = count;
  return CLT_OK;
}

/* ---- files ---- */

/* The whole file at path (malloc'd) and its size; missing: CLT_ERR_MISSING_INPUT with hint. */
static clt_status read_whole(const char *path, const char *hint, uint8_t **data, size_t *size) {
  return clt_file_read_all(path, "file", hint, CLT_CIFAR_MAX_FILE_BYTES, NULL, data, size);
}

static int join(char *buf, size_t size, const char *dir, const char *name) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  int k = snprintf(buf, size, "%.*s/%s", (int)len, dir, name);
  return k >= 0 && (size_t)k < size;
}

/* The number N of a name "data_batch_N.bin" (N = 1..CLT_CIFAR_MAX_BATCHES, no leading zero),
 * else 0. */
static int batch_number(const char *name) {
  const char *prefix = "data_batch_";
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) != 0) return 0;
  const char *p = name + pl;
  if (*p < '1' || *p > '9') return 0;
  int n = 0;
  while (*p >= '0' && *p <= '9' && n <= CLT_CIFAR_MAX_BATCHES) n = n * 10 + (*p++ - '0');
  if (strcmp(p, ".bin") != 0 || n > CLT_CIFAR_MAX_BATCHES) return 0;
  return n;
}

int clt_cifar_dir_has_batches(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int found = 0;
  struct dirent *e;
  while (!found && (e = readdir(d)) != NULL)
    found = batch_number(e->d_name) > 0 || strcmp(e->d_name, "test_batch.bin") == 0;
  closedir(d);
  return found;
}

/* present[N] = 1 for each data_batch_N.bin in dir; the largest N into *max. */
static clt_status list_batches(const char *dir, char present[CLT_CIFAR_MAX_BATCHES + 1], int *max) {
  memset(present, 0, CLT_CIFAR_MAX_BATCHES + 1);
  *max = 0;
  DIR *d = opendir(dir);
  if (!d)
    return clt_fail(CLT_ERR_MISSING_INPUT, "%s: cannot list the folder: %s", dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int n = batch_number(e->d_name);
    if (n > 0) {
      present[n] = 1;
      if (n > *max) *max = n;
    }
  }
  closedir(d);
  return CLT_OK;
}

static const char *const get_data_hint =
    "get the CIFAR-10 binary version (cifar-10-binary.tar.gz) from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and give its cifar-10-batches-bin folder";

/* Reads and checks one batch file; its records into *data (kept for decoding). */
static clt_status read_batch(const char *path, int classes, uint8_t **data, int *records) {
  size_t size;
  CLT_TRY(read_whole(path, get_data_hint, data, &size));
  clt_status s = clt_cifar_check(*data, size, path, classes, records);
  if (s != CLT_OK) {
    free(*data);
    *data = NULL;
  }
  return s;
}

/* Class names from dir/batches.meta.txt when the file exists (else classes = 10). */
static clt_status load_names(const char *dir, clt_dataset *out) {
  char path[4096];
  out->classes = CLT_CIFAR_CLASSES;
  if (!join(path, sizeof path, dir, "batches.meta.txt"))
    return clt_fail(CLT_ERR_USAGE, "%s: folder path too long; use a shorter path", dir);
  struct stat st;
  if (stat(path, &st) != 0) return CLT_OK;
  uint8_t *text;
  size_t size;
  CLT_TRY(read_whole(path, get_data_hint, &text, &size));
  clt_status s = clt_cifar_parse_names((const char *)text, size, path, out);
  free(text);
  return s;
}

clt_status clt_cifar_load_dir(const char *dir, int test_split, clt_dataset *out) {
  memset(out, 0, sizeof *out);
  char present[CLT_CIFAR_MAX_BATCHES + 1];
  int files = 1;
  if (!test_split) {
    CLT_TRY(list_batches(dir, present, &files));
    if (files == 0)
      return clt_fail(CLT_ERR_MISSING_INPUT, "%s: no data_batch_1.bin (CIFAR-10 training set); %s",
                      dir, get_data_hint);
    for (int k = 1; k <= files; k++)
      if (!present[k])
        return clt_fail(CLT_ERR_MISSING_INPUT,
                        "%s: data_batch_%d.bin is missing but data_batch_%d.bin is there; the "
                        "training files must run data_batch_1.bin .. data_batch_K.bin with no "
                        "gap: restore the missing file or rename the others",
                        dir, k, files);
  }
  clt_status s = load_names(dir, out);
  /* Sizes first, for one allocation of the decoded set; then each file is read, checked
   * and decoded in turn, so only one file's bytes are held at a time. */
  char(*paths)[4096] = calloc((size_t)files, sizeof *paths);
  int *records = calloc((size_t)files, sizeof *records);
  if (s == CLT_OK && (!paths || !records))
    s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s", dir);
  long total = 0;
  for (int k = 0; k < files && s == CLT_OK; k++) {
    char name[64];
    if (test_split)
      snprintf(name, sizeof name, "test_batch.bin");
    else
      snprintf(name, sizeof name, "data_batch_%d.bin", k + 1);
    if (!join(paths[k], sizeof paths[k], dir, name))
      s = clt_fail(CLT_ERR_USAGE, "%s: folder path too long; use a shorter path", dir);
    struct stat st;
    if (s == CLT_OK && stat(paths[k], &st) != 0)
      s = clt_fail(CLT_ERR_MISSING_INPUT, "%s: no such file; %s", paths[k], get_data_hint);
    if (s == CLT_OK) {
      records[k] = (int)((size_t)st.st_size / CLT_CIFAR_RECORD < INT32_MAX
                             ? (size_t)st.st_size / CLT_CIFAR_RECORD
                             : INT32_MAX);
      total += records[k];
    }
    if (s == CLT_OK && total > INT32_MAX / CLT_CIFAR_PIXELS)
      s = clt_fail(CLT_ERR_BAD_DATA, "%s: %ld records are more than cltrain can hold", dir, total);
  }
  if (s == CLT_OK) s = alloc_set((int)total, dir, out);
  size_t first = 0;
  for (int k = 0; k < files && s == CLT_OK; k++) {
    uint8_t *data = NULL;
    int got = 0;
    s = read_batch(paths[k], out->classes, &data, &got);
    if (s == CLT_OK && got != records[k])
      s = clt_fail(CLT_ERR_IO, "%s: changed size while it was read; read it again", paths[k]);
    if (s == CLT_OK)
      clt_cifar_decode(data, got, out->images + first * CLT_CIFAR_PIXELS, out->labels + first);
    first += (size_t)got;
    free(data);
  }
  free(paths);
  free(records);
  if (s != CLT_OK) clt_dataset_free(out);
  return s;
}
