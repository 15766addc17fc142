/* clt_dataset_load_dir (data/dataset.h): a data folder in whichever format it holds, IDX,
 * CIFAR-10 binary or an image folder. Apart from dataset.c so that the readers (idx.c,
 * cifar.c, image_folder.c) depend on the container (dataset.c) and this dispatcher on them,
 * not both ways. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "runtime/file_check.h"

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

/* The one path of the three entry points: expect (NULL: any) checks IDX and CIFAR headers;
 * images (NULL: fitted to expect) loads an image folder, which meets expect by construction. */
static clt_status load_dir(const char *dir, int test_split, const clt_data_expect *expect,
                           const clt_image_options *images, clt_image_report *report,
                           clt_dataset *out) {
  memset(out, 0, sizeof *out);
  if (test_split != CLT_FOLDER_TRAIN && test_split != CLT_FOLDER_TEST &&
      test_split != CLT_FOLDER_VAL)
    return clt_fail(CLT_ERR_USAGE, "data set split %d is neither 0 (train), 1 (test) nor 2 (val)",
                    test_split);
  struct stat st;
  int found = stat(dir, &st) == 0;
  if (!found && errno != ENOENT && errno != ENOTDIR) /* permission denied, a link loop, ... */
    return clt_file_read_error(errno, dir, "data folder", NULL);
  if (found && S_ISDIR(st.st_mode) && access(dir, R_OK | X_OK) != 0)
    return clt_file_read_error(errno, dir, "data folder", NULL);
  if (!found || !S_ISDIR(st.st_mode)) {
    char what[96];
    snprintf(what, sizeof what, found ? "is %s, not a folder or a regular .csv file" : "%s",
             found ? clt_file_type_name(st.st_mode) : "no such folder");
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
    if (!cifar && clt_image_folder_detect(dir)) {
      clt_image_options fitted; /* without options: fitted to what the model takes */
      if (!images && expect) {
        clt_image_options_init(&fitted, expect->h, expect->w, expect->c);
        images = &fitted;
      }
      return clt_image_folder_load(dir, test_split, images, report, out);
    }
    if (cifar && test_split == CLT_FOLDER_VAL)
      return clt_fail(CLT_ERR_USAGE, "%s: CIFAR-10 batches have no validation set; use val_split",
                      dir);
    if (cifar) {
      if (expect && ((expect->h > 0 && expect->h != CLT_CIFAR_SIDE) ||
                     (expect->w > 0 && expect->w != CLT_CIFAR_SIDE) ||
                     (expect->c > 0 && expect->c != CLT_CIFAR_CHANNELS)))
        return clt_fail(CLT_ERR_BAD_DATA,
                        "%s: CIFAR-10 images are %dx%dx%d but the model takes %dx%dx%d; use data "
                        "of the model's input size (or a model made for this data)",
                        dir, CLT_CIFAR_SIDE, CLT_CIFAR_SIDE, CLT_CIFAR_CHANNELS, expect->h,
                        expect->w, expect->c);
      return clt_cifar_load_dir(dir, test_split, out);
    }
    return no_known_data(dir);
  }
  if (test_split == CLT_FOLDER_VAL)
    return clt_fail(CLT_ERR_USAGE, "%s: IDX files have no validation set; use val_split", dir);
  const char *prefix = test_split ? "t10k" : "train";
  char name[64], images_path[4096], labels_path[4096];
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  clt_status s = find_file(dir, name, images_path, sizeof images_path);
  if (s != CLT_OK) return s;
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
  s = find_file(dir, name, labels_path, sizeof labels_path);
  if (s != CLT_OK) return s;
  s = clt_dataset_load_idx_for(images_path, labels_path, expect, out);
  if (s != CLT_OK) return s;
  if (out->classes < 10) out->classes = 10;
  /* Fashion-MNIST's names for a folder that looks like it (its name, or the default folder)
   * and holds its 10 classes; a set with more classes keeps plain numbers, whatever its
   * folder is called. */
  if ((contains_word(dir, "fashion") || is_default_dir(dir)) && out->classes == 10)
    out->class_names = clt_fashion_mnist_class_names();
  return CLT_OK;
}

clt_status clt_dataset_load_dir(const char *dir, int test_split, clt_dataset *out) {
  return load_dir(dir, test_split, NULL, NULL, NULL, out);
}

clt_status clt_dataset_load_dir_for(const char *dir, int test_split, const clt_data_expect *expect,
                                    clt_dataset *out) {
  return load_dir(dir, test_split, expect, NULL, NULL, out);
}

clt_status clt_dataset_load_dir_images(const char *dir, int split, const clt_image_options *images,
                                       clt_image_report *report, clt_dataset *out) {
  clt_data_expect expect = {0, 0, 0};
  if (images) expect = (clt_data_expect){images->h, images->w, images->c};
  return load_dir(dir, split, &expect, images, report, out);
}
