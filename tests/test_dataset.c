/* Labelled image data set: IDX loading and scaling, folder layout, split, subset, shuffle,
 * and (when installed) the real Fashion-MNIST test set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/dataset.h"
#include "runtime/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"

/* ---- helpers ---- */

/* Writes an unsigned-byte IDX file (gzipped when gz) and returns its path. */
static const char *write_idx(const char *name, int gz, int ndims, const uint32_t *dims,
                             const uint8_t *data) {
  size_t count = 1;
  for (int i = 0; i < ndims; i++) count *= dims[i];
  size_t n = CLT_TEST_IDX_HEADER(ndims) + count;
  unsigned char *b = malloc(n);
  assert_non_null(b);
  memcpy(b + clt_test_idx_header(b, 0x08, ndims, dims), data, count);
  const char *path = gz ? clt_test_tmp_write_gz(name, b, n) : clt_test_tmp_write(name, b, n);
  free(b);
  return path;
}

/* n images of h x w with pixel (k, i) = (k * 31 + i * 5) % 256, labels k % classes. */
static void write_set(const char *images, const char *labels, int gz, uint32_t n, uint32_t h,
                      uint32_t w, int classes) {
  uint8_t *px = malloc(n * h * w), *lb = malloc(n);
  for (uint32_t k = 0; k < n; k++) {
    for (uint32_t i = 0; i < h * w; i++) px[k * h * w + i] = (uint8_t)((k * 31 + i * 5) % 256);
    lb[k] = (uint8_t)(k % (uint32_t)classes);
  }
  uint32_t di[3] = {n, h, w}, dl[1] = {n};
  write_idx(images, gz, 3, di, px);
  write_idx(labels, gz, 1, dl, lb);
  free(px);
  free(lb);
}

/* ds holds n images of h x w x c, in the given number of classes. */
static void expect_dims(const clt_dataset *ds, int n, int h, int w, int c, int classes) {
  assert_int_equal(ds->n, n);
  assert_int_equal(ds->h, h);
  assert_int_equal(ds->w, w);
  assert_int_equal(ds->c, c);
  assert_int_equal(ds->classes, classes);
}

static void check_sample(const clt_dataset *ds, int i, int k, int classes) {
  int hw = ds->h * ds->w;
  assert_int_equal(ds->labels[i], k % classes);
  for (int p = 0; p < hw; p++) {
    float want = (float)((k * 31 + p * 5) % 256) / 255.0f;
    if (ds->images[(size_t)i * hw + p] != want)
      fail_msg("sample %d (file sample %d) pixel %d is %g, want %g", i, k, p,
               ds->images[(size_t)i * hw + p], want);
  }
}

static void load_small(clt_dataset *ds, uint32_t n, int classes) {
  char im[32], lb[32];
  snprintf(im, sizeof im, "s%u_%d_im", n, classes);
  snprintf(lb, sizeof lb, "s%u_%d_lb", n, classes);
  write_set(im, lb, 0, n, 3, 2, classes);
  OK(clt_dataset_load_idx(clt_test_tmp_path(im), clt_test_tmp_path(lb), ds));
}

/* ---- loading ---- */

static void test_load_idx_scaling(void **state) {
  (void)state;
  for (int gz = 0; gz < 2; gz++) {
    write_set("im", "lb", gz, 12, 4, 5, 7);
    clt_dataset ds;
    OK(clt_dataset_load_idx(clt_test_tmp_path("im"), clt_test_tmp_path("lb"), &ds));
    expect_dims(&ds, 12, 4, 5, 1, 7);
    assert_null(ds.class_names);
    for (int i = 0; i < ds.n; i++) check_sample(&ds, i, i, 7);
    /* 0 maps to 0 and 255 to 1 exactly */
    uint8_t ends[4] = {0, 255, 128, 1}, lab[1] = {0};
    uint32_t d[3] = {1, 2, 2}, dl[1] = {1};
    clt_dataset_free(&ds);
    write_idx("ends", gz, 3, d, ends);
    write_idx("ends_lb", gz, 1, dl, lab);
    assert_int_equal(
        clt_dataset_load_idx(clt_test_tmp_path("ends"), clt_test_tmp_path("ends_lb"), &ds), CLT_OK);
    assert_true(ds.images[0] == 0.0f);
    assert_true(ds.images[1] == 1.0f);
    assert_true(ds.images[2] > 0.5f && ds.images[2] < 0.51f);
    assert_int_equal(ds.classes, 2); /* at least 2 even when every label is 0 */
    clt_dataset_free(&ds);
    clt_dataset_free(&ds); /* twice is fine */
  }
}

/* Loading the temporary folder's files im and lb fails with status and want in the message. */
static void expect_load_fail(const char *im, const char *lb, clt_status status, const char *want) {
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_idx(clt_test_tmp_path(im), clt_test_tmp_path(lb), &ds), status,
              want);
  assert_null(ds.images);
  assert_null(ds.labels);
  assert_int_equal(ds.n, 0);
  clt_dataset_free(&ds);
}

static void test_load_idx_errors(void **state) {
  (void)state;
  write_set("cm_im", "cm_lb", 0, 10, 2, 2, 3);
  write_set("cm_im9", "cm_lb9", 1, 9, 2, 2, 3);
  /* count mismatch: both counts named */
  expect_load_fail("cm_im", "cm_lb9", CLT_ERR_BAD_DATA, "holds 10 images");
  expect_load_fail("cm_im", "cm_lb9", CLT_ERR_BAD_DATA, "holds 9 labels");
  /* labels given as images and the other way round */
  expect_load_fail("cm_lb", "cm_lb", CLT_ERR_BAD_DATA, "expected 3");
  expect_load_fail("cm_im", "cm_im", CLT_ERR_BAD_DATA, "expected 1");
  /* missing files */
  expect_load_fail("nope_im", "cm_lb", CLT_ERR_MISSING_INPUT, "nope_im");
  expect_load_fail("cm_im", "nope_lb", CLT_ERR_MISSING_INPUT, "nope_lb");
  /* a malformed file passes its status through */
  clt_test_tmp_write("junk", "junk", 4);
  expect_load_fail("junk", "cm_lb", CLT_ERR_BAD_DATA, "junk");
}

static void make_dir_set(const char *dir, int gz_train, int classes) {
  char im[256], lb[256];
  assert_int_equal(mkdir(clt_test_tmp_path(dir), 0755), 0);
  snprintf(im, sizeof im, "%s/train-images-idx3-ubyte%s", dir, gz_train ? ".gz" : "");
  snprintf(lb, sizeof lb, "%s/train-labels-idx1-ubyte%s", dir, gz_train ? ".gz" : "");
  write_set(im, lb, gz_train, 20, 3, 3, classes);
  snprintf(im, sizeof im, "%s/t10k-images-idx3-ubyte%s", dir, gz_train ? "" : ".gz");
  snprintf(lb, sizeof lb, "%s/t10k-labels-idx1-ubyte%s", dir, gz_train ? "" : ".gz");
  write_set(im, lb, !gz_train, 8, 3, 3, classes);
}

static void test_load_dir(void **state) {
  (void)state;
  make_dir_set("digits", 1, 4);
  for (int split = 0; split < 2; split++) {
    clt_dataset ds;
    OK(clt_dataset_load_dir(clt_test_tmp_path("digits"), split, &ds));
    assert_int_equal(ds.n, split ? 8 : 20);
    assert_int_equal(ds.h, 3);
    assert_int_equal(ds.classes, 10); /* MNIST layout: 10 classes */
    assert_null(ds.class_names);
    for (int i = 0; i < ds.n; i++) check_sample(&ds, i, i, 4);
    clt_dataset_free(&ds);
  }
  /* trailing slash, uncompressed train set, "fashion" in any case */
  make_dir_set("My_FASHION_set", 0, 10);
  clt_dataset ds;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/", clt_test_tmp_path("My_FASHION_set"));
  assert_int_equal(clt_dataset_load_dir(dir, 0, &ds), CLT_OK);
  assert_int_equal(ds.n, 20);
  assert_int_equal(ds.classes, 10);
  assert_non_null(ds.class_names);
  assert_string_equal(ds.class_names[0], "T-shirt/top");
  assert_string_equal(ds.class_names[9], "Ankle boot");
  clt_dataset_free(&ds);
  /* more than 10 classes: fine whatever the folder is called (numbers as names then) */
  make_dir_set("many", 0, 12);
  assert_int_equal(clt_dataset_load_dir(clt_test_tmp_path("many"), 0, &ds), CLT_OK);
  assert_int_equal(ds.classes, 12);
  clt_dataset_free(&ds);
  make_dir_set("fashion_twelve", 0, 12);
  assert_int_equal(clt_dataset_load_dir(clt_test_tmp_path("fashion_twelve"), 0, &ds), CLT_OK);
  assert_int_equal(ds.classes, 12);
  assert_null(ds.class_names);
  clt_dataset_free(&ds);
}

static void test_load_dir_missing(void **state) {
  (void)state;
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(clt_test_tmp_path("no-such-dir"), 0, &ds), CLT_ERR_MISSING_INPUT,
              "no-such-dir");
  /* a file, not a folder */
  write_set("afile", "afile_lb", 0, 2, 2, 2, 2);
  EXPECT_FAIL(clt_dataset_load_dir(clt_test_tmp_path("afile"), 0, &ds), CLT_ERR_MISSING_INPUT,
              "not a folder");
  /* folder without the test files */
  assert_int_equal(mkdir(clt_test_tmp_path("half"), 0755), 0);
  write_set("half/train-images-idx3-ubyte", "half/train-labels-idx1-ubyte", 0, 4, 2, 2, 2);
  assert_int_equal(clt_dataset_load_dir(clt_test_tmp_path("half"), 0, &ds), CLT_OK);
  clt_dataset_free(&ds);
  EXPECT_FAIL(clt_dataset_load_dir(clt_test_tmp_path("half"), 1, &ds), CLT_ERR_MISSING_INPUT,
              "t10k-images-idx3-ubyte.gz");
  assert_null(ds.images);
  /* labels missing */
  unlink(clt_test_tmp_path("half/train-labels-idx1-ubyte"));
  EXPECT_FAIL(clt_dataset_load_dir(clt_test_tmp_path("half"), 0, &ds), CLT_ERR_MISSING_INPUT,
              "train-labels-idx1-ubyte");
  /* bad split number */
  assert_int_equal(clt_dataset_load_dir(clt_test_tmp_path("half"), 2, &ds), CLT_ERR_USAGE);
}

/* ---- split, subset ---- */

static void test_split(void **state) {
  (void)state;
  clt_dataset all, train, val;
  load_small(&all, 10, 10);
  assert_int_equal(clt_dataset_split(&all, 0.25, &train, &val), CLT_OK); /* round(2.5) = 3 */
  assert_int_equal(train.n, 7);
  assert_int_equal(val.n, 3);
  assert_int_equal(train.classes, 10);
  assert_int_equal(val.classes, 10);
  assert_int_equal(val.h, 3);
  assert_int_equal(val.w, 2);
  clt_dataset_free(&all); /* the parts own their data */
  for (int i = 0; i < 7; i++) check_sample(&train, i, i, 10);
  for (int i = 0; i < 3; i++) check_sample(&val, i, 7 + i, 10); /* the tail of the file */
  clt_dataset_free(&train);
  clt_dataset_free(&val);

  load_small(&all, 10, 10);
  assert_int_equal(clt_dataset_split(&all, 0.0, &train, &val), CLT_OK);
  assert_int_equal(train.n, 10);
  assert_int_equal(val.n, 0);
  assert_null(val.images);
  assert_int_equal(val.h, 3); /* the empty set keeps the shape */
  clt_dataset_free(&val);
  clt_dataset_free(&train);
  assert_int_equal(clt_dataset_split(&all, 0.1, &train, &val), CLT_OK);
  assert_int_equal(train.n, 9);
  assert_int_equal(val.n, 1);
  check_sample(&val, 0, 9, 10);
  clt_dataset_free(&val);
  clt_dataset_free(&train);
  assert_int_equal(clt_dataset_split(&all, 1.0, &train, &val), CLT_ERR_USAGE);
  assert_int_equal(clt_dataset_split(&all, -0.1, &train, &val), CLT_ERR_USAGE);
  assert_int_equal(clt_dataset_split(&all, NAN, &train, &val), CLT_ERR_USAGE);
  assert_int_equal(clt_dataset_split(&all, 0.97, &train, &val), CLT_ERR_USAGE); /* no train */
  assert_true(strlen(clt_last_error()) > 0);
  assert_null(train.images);
  assert_null(val.images);
  clt_dataset_free(&all);
}

static void test_subset(void **state) {
  (void)state;
  clt_dataset all, sub;
  load_small(&all, 10, 4);
  assert_int_equal(clt_dataset_subset(&all, 2, 5, &sub), CLT_OK);
  assert_int_equal(sub.n, 5);
  assert_int_equal(sub.classes, 4);
  for (int i = 0; i < 5; i++) check_sample(&sub, i, 2 + i, 4);
  clt_dataset_free(&sub);
  assert_int_equal(clt_dataset_subset(&all, 10, 0, &sub), CLT_OK);
  assert_int_equal(sub.n, 0);
  clt_dataset_free(&sub);
  assert_int_equal(clt_dataset_subset(&all, 8, 3, &sub), CLT_ERR_USAGE);
  assert_null(sub.images);
  assert_int_equal(clt_dataset_subset(&all, -1, 3, &sub), CLT_ERR_USAGE);
  assert_int_equal(clt_dataset_subset(&all, 0, -1, &sub), CLT_ERR_USAGE);
  /* in place */
  assert_int_equal(clt_dataset_subset(&all, 0, 99, &all), CLT_ERR_USAGE);
  assert_int_equal(all.n, 10); /* untouched on failure */
  assert_int_equal(clt_dataset_subset(&all, 6, 4, &all), CLT_OK);
  assert_int_equal(all.n, 4);
  for (int i = 0; i < 4; i++) check_sample(&all, i, 6 + i, 4);
  clt_dataset_free(&all);
}

/* ---- shuffle ---- */

static void test_shuffle(void **state) {
  (void)state;
  enum { N = 1000 };
  static int32_t a[N], b[N], c[N];
  clt_shuffle_order(42, 0, N, a);
  clt_shuffle_order(42, 0, N, b);
  assert_memory_equal(a, b, sizeof a);
  static char seen[N];
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < N; i++) {
    assert_true(a[i] >= 0 && a[i] < N);
    assert_false(seen[a[i]]);
    seen[a[i]] = 1;
  }
  clt_shuffle_order(42, 1, N, c);
  assert_memory_not_equal(a, c, sizeof a);
  clt_shuffle_order(43, 0, N, c);
  assert_memory_not_equal(a, c, sizeof a);
  int fixed = 0;
  for (int i = 0; i < N; i++) fixed += a[i] == i;
  assert_true(fixed < 10); /* about 1 expected */

  /* the documented formula, step by step */
  int32_t ref[N];
  for (int i = 0; i < N; i++) ref[i] = i;
  uint32_t stream = clt_stream(CLT_STREAM_SHUFFLE, 5);
  for (int i = N - 1; i > 0; i--) {
    int j = (int)(((uint64_t)clt_hash(7, stream, (uint32_t)i) * (uint64_t)(i + 1)) >> 32);
    int32_t t = ref[i];
    ref[i] = ref[j];
    ref[j] = t;
  }
  clt_shuffle_order(7, 5, N, a);
  assert_memory_equal(a, ref, sizeof ref);

  /* all 6 orders of 3 items appear, roughly evenly */
  int counts[6] = {0};
  for (uint32_t e = 0; e < 6000; e++) {
    int32_t o[3];
    clt_shuffle_order(1, e, 3, o);
    counts[o[0] * 2 + (o[1] > o[2])]++;
  }
  for (int k = 0; k < 6; k++) assert_true(counts[k] > 850 && counts[k] < 1150);

  int32_t one = -1;
  clt_shuffle_order(1, 2, 1, &one);
  assert_int_equal(one, 0);
  clt_shuffle_order(1, 2, 0, NULL); /* nothing to do */
}

/* ---- the real data set ---- */

static void test_real_fashion_mnist(void **state) {
  (void)state;
  struct stat st;
  clt_dataset ds;
  if (stat(CLT_DEFAULT_DATA_DIR, &st) != 0) {
    /* absent: the message must say how to install it */
    EXPECT_FAIL(clt_dataset_load_dir(CLT_DEFAULT_DATA_DIR, 1, &ds), CLT_ERR_MISSING_INPUT,
                "apt-get install dataset-fashion-mnist");
    skip();
  }
  OK(clt_dataset_load_dir(CLT_DEFAULT_DATA_DIR, 1, &ds));
  expect_dims(&ds, 10000, 28, 28, 1, 10);
  assert_non_null(ds.class_names);
  assert_string_equal(ds.class_names[7], "Sneaker");
  int per_class[10] = {0};
  for (int i = 0; i < ds.n; i++) {
    assert_true(ds.labels[i] >= 0 && ds.labels[i] < 10);
    per_class[ds.labels[i]]++;
  }
  for (int k = 0; k < 10; k++) assert_int_equal(per_class[k], 1000);
  float lo = 1, hi = 0;
  for (size_t i = 0; i < (size_t)ds.n * 28 * 28; i++) {
    if (ds.images[i] < lo) lo = ds.images[i];
    if (ds.images[i] > hi) hi = ds.images[i];
  }
  assert_true(lo == 0.0f && hi == 1.0f);
  clt_dataset_free(&ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_idx_scaling),
      cmocka_unit_test(test_load_idx_errors),
      cmocka_unit_test(test_load_dir),
      cmocka_unit_test(test_load_dir_missing),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_subset),
      cmocka_unit_test(test_shuffle),
      cmocka_unit_test(test_real_fashion_mnist),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
