/* CIFAR-10 binary batches (src/data/cifar.c) and the format detection of --data folders
 * (clt_dataset_load_dir): a good folder, the planar-to-NHWC pixel layout of a hand-made record,
 * each malformed input refused with its one line (truncated record, label out of range, empty
 * file, missing test_batch.bin, a gap in data_batch_N, fewer class names than labels, wrong
 * name count), IDX vs CIFAR vs neither, and the owned class names through split, subset and
 * free. Host only: no device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/cifar.h"
#include "data/dataset.h"
#include "util/cifar_bytes.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"

#define REC CLT_TEST_CIFAR_RECORD

/* A folder with data_batch_1.bin (3 records), data_batch_2.bin (2), test_batch.bin (4) and
 * CIFAR-10's batches.meta.txt; its path into dir. */
static void make_good(char *dir, size_t size) {
  clt_test_make_subdir(dir, size, "good");
  clt_test_write_cifar_batch(dir, "data_batch_1.bin", 7, 0, 3, 10);
  clt_test_write_cifar_batch(dir, "data_batch_2.bin", 7, 3, 2, 10);
  clt_test_write_cifar_batch(dir, "test_batch.bin", 7, 100, 4, 10);
  clt_test_write_cifar_meta(dir, clt_test_cifar_names, 10);
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  clt_test_write_file(path, data, n);
}

/* ---- tests ---- */

static void test_good_folder(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  clt_dataset tr, te;
  OK(clt_dataset_load_dir(dir, 0, &tr));
  assert_int_equal(tr.n, 5);
  assert_int_equal(tr.h, 32);
  assert_int_equal(tr.w, 32);
  assert_int_equal(tr.c, 3);
  assert_int_equal(tr.classes, 10);
  assert_non_null(tr.class_names);
  assert_non_null(tr.names_storage);
  assert_string_equal(tr.class_names[0], "airplane");
  assert_string_equal(tr.class_names[9], "truck");
  /* Records in file order across the two files, each decoded as the generator wrote it. */
  uint8_t rec[REC];
  for (int i = 0; i < 5; i++) {
    int label = clt_test_cifar_record(rec, 7, i, 10);
    assert_int_equal(tr.labels[i], label);
    const float *img = tr.images + (size_t)i * 3072;
    for (int p = 0; p < 1024; p += 97)
      for (int ch = 0; ch < 3; ch++)
        assert_float_equal(img[p * 3 + ch], rec[1 + ch * 1024 + p] / 255.0f, 1e-7);
  }
  OK(clt_dataset_load_dir(dir, 1, &te));
  assert_int_equal(te.n, 4);
  assert_int_equal(te.c, 3);
  assert_string_equal(te.class_names[3], "cat");
  clt_dataset_free(&tr);
  clt_dataset_free(&te);
  /* Without batches.meta.txt: 10 classes, no names. */
  char path[1100];
  snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
  clt_test_remove_tree(path);
  OK(clt_dataset_load_dir(dir, 0, &tr));
  assert_int_equal(tr.classes, 10);
  assert_null(tr.class_names);
  clt_dataset_free(&tr);
}

/* One hand-made record: R = p % 256, G = (3p + 1) % 256, B = 255 - p % 256 at pixel p = 32y + x;
 * NHWC puts them at ((y * 32 + x) * 3 + channel). */
static void test_pixel_layout(void **state) {
  (void)state;
  uint8_t rec[2 * REC];
  rec[0] = 6;
  for (int p = 0; p < 1024; p++) {
    rec[1 + p] = (uint8_t)(p % 256);
    rec[1 + 1024 + p] = (uint8_t)((3 * p + 1) % 256);
    rec[1 + 2048 + p] = (uint8_t)(255 - p % 256);
  }
  memset(rec + REC, 0, REC);
  rec[REC] = 2;
  rec[REC + 1 + 2048 + 1023] = 255; /* blue of the second image's last pixel */
  clt_dataset ds;
  OK(clt_cifar_parse(rec, sizeof rec, "hand-made", 10, &ds));
  assert_int_equal(ds.n, 2);
  assert_int_equal(ds.labels[0], 6);
  assert_int_equal(ds.labels[1], 2);
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 32; x++) {
      int p = y * 32 + x;
      const float *px = ds.images + (size_t)(y * 32 + x) * 3; /* [32, 32, 3] */
      assert_float_equal(px[0], (float)(p % 256) / 255.0f, 1e-7);
      assert_float_equal(px[1], (float)((3 * p + 1) % 256) / 255.0f, 1e-7);
      assert_float_equal(px[2], (float)(255 - p % 256) / 255.0f, 1e-7);
    }
  const float *second = ds.images + 3072;
  assert_float_equal(second[1023 * 3 + 2], 1.0f, 0);
  assert_float_equal(second[1023 * 3 + 1], 0.0f, 0);
  assert_float_equal(second[1022 * 3 + 2], 0.0f, 0);
  clt_dataset_free(&ds);
}

static void test_truncated_record(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  uint8_t b[2 * REC + 100];
  memset(b, 1, sizeof b);
  write_bytes(dir, "data_batch_2.bin", b, sizeof b);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_BAD_DATA, "data_batch_2.bin: 6246 bytes");
  EXPECT_MESSAGE_HAS("record 2 at byte offset 6146 is truncated (100 of 3073 bytes)");
  EXPECT_MESSAGE_HAS("re-download");
  assert_null(ds.images);
  assert_int_equal(ds.n, 0);
}

static void test_label_out_of_range(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  uint8_t b[3 * REC];
  memset(b, 0, sizeof b);
  b[REC] = 10; /* record 1 */
  write_bytes(dir, "test_batch.bin", b, sizeof b);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 1, &ds), CLT_ERR_BAD_DATA,
              "test_batch.bin: record 1 (byte offset 3073) has label 10, outside CIFAR-10's 0..9");
  b[REC] = 255;
  EXPECT_FAIL(clt_cifar_parse(b, sizeof b, "mem", 10, &ds), CLT_ERR_BAD_DATA, "label 255");
}

static void test_empty_file(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  write_bytes(dir, "data_batch_1.bin", "", 0);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_BAD_DATA, "data_batch_1.bin: empty file");
}

static void test_missing_test_batch(void **state) {
  (void)state;
  char dir[1024], path[1100];
  make_good(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/test_batch.bin", dir);
  clt_test_remove_tree(path);
  clt_dataset ds;
  OK(clt_dataset_load_dir(dir, 0, &ds)); /* the training set is complete */
  clt_dataset_free(&ds);
  EXPECT_FAIL(clt_dataset_load_dir(dir, 1, &ds), CLT_ERR_MISSING_INPUT,
              "test_batch.bin: no such file");
  EXPECT_MESSAGE_HAS("cifar-10-batches-bin");
}

static void test_gap_in_batches(void **state) {
  (void)state;
  char dir[1024], path[1100];
  make_good(dir, sizeof dir);
  clt_test_write_cifar_batch(dir, "data_batch_4.bin", 7, 10, 1, 10);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_MISSING_INPUT,
              "data_batch_3.bin is missing but data_batch_4.bin is there");
  /* Test data alone still load; only data_batch_N are missing: say which. */
  for (int k = 1; k <= 4; k++) {
    snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, k);
    clt_test_remove_tree(path);
  }
  OK(clt_dataset_load_dir(dir, 1, &ds));
  clt_dataset_free(&ds);
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_MISSING_INPUT, "no data_batch_1.bin");
}

static void test_meta_fewer_names_than_labels(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  static const char *const three[3] = {"red", "green", "blue"};
  clt_test_write_cifar_meta(dir, three, 3);
  uint8_t b[4 * REC];
  memset(b, 0, sizeof b);
  for (int r = 0; r < 4; r++) b[r * REC] = (uint8_t)(r == 2 ? 5 : r % 3);
  write_bytes(dir, "data_batch_1.bin", b, sizeof b);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_BAD_DATA,
              "data_batch_1.bin: record 2 (byte offset 6146) has label 5 but batches.meta.txt "
              "names only 3 classes");
  /* Labels within the three names: 3 classes, owned names. */
  b[2 * REC] = 2;
  write_bytes(dir, "data_batch_1.bin", b, sizeof b);
  clt_test_write_cifar_batch(dir, "data_batch_2.bin", 7, 3, 2, 3);
  OK(clt_dataset_load_dir(dir, 0, &ds));
  assert_int_equal(ds.classes, 3);
  assert_string_equal(ds.class_names[2], "blue");
  clt_dataset_free(&ds);
}

static void test_meta_name_count(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  const char *eleven[11];
  for (int i = 0; i < 10; i++) eleven[i] = clt_test_cifar_names[i];
  eleven[10] = "unicorn";
  clt_test_write_cifar_meta(dir, eleven, 11);
  clt_dataset ds;
  EXPECT_FAIL(clt_dataset_load_dir(dir, 0, &ds), CLT_ERR_BAD_DATA,
              "batches.meta.txt: more than 10 class names (line 11)");
  clt_test_write_cifar_meta(dir, eleven, 1);
  EXPECT_FAIL(clt_dataset_load_dir(dir, 1, &ds), CLT_ERR_BAD_DATA,
              "batches.meta.txt: 1 class name(s), need 2 to 10");
  /* Blank lines and CRLF line ends are fine. */
  static const char crlf[] = "\r\nfirst\r\n\r\nsecond\r\n\n";
  clt_dataset names;
  memset(&names, 0, sizeof names);
  OK(clt_cifar_parse_names(crlf, sizeof crlf - 1, "crlf", &names));
  assert_int_equal(names.classes, 2);
  assert_string_equal(names.class_names[0], "first");
  assert_string_equal(names.class_names[1], "second");
  clt_dataset_free(&names);
  static const char nul[] = "a\nb\0c\n";
  EXPECT_FAIL(clt_cifar_parse_names(nul, sizeof nul - 1, "nul", &names), CLT_ERR_BAD_DATA,
              "nul: line 2 holds a NUL byte");
}

/* A folder of IDX files loads as IDX (1 channel), one of CIFAR batches as CIFAR (3), one with
 * neither fails with the list of what was looked for. */
static void test_format_detection(void **state) {
  (void)state;
  char idx[1024], cifar[1024], none[1024];
  clt_test_make_subdir(idx, sizeof idx, "idx");
  unsigned char px[4 * 28 * 28], lb[4] = {0, 1, 2, 3};
  memset(px, 9, sizeof px);
  clt_test_write_idx_set(idx, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 4, 28, 28, px,
                         lb);
  clt_test_write_idx_set(idx, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 4, 28, 28, px,
                         lb);
  make_good(cifar, sizeof cifar);
  clt_dataset ds;
  OK(clt_dataset_load_dir(idx, 0, &ds));
  assert_int_equal(ds.c, 1);
  assert_int_equal(ds.h, 28);
  clt_dataset_free(&ds);
  OK(clt_dataset_load_dir(cifar, 1, &ds));
  assert_int_equal(ds.c, 3);
  assert_int_equal(ds.h, 32);
  clt_dataset_free(&ds);
  clt_test_make_subdir(none, sizeof none, "none");
  clt_test_write_text(none, "readme.txt", "nothing here\n");
  EXPECT_FAIL(clt_dataset_load_dir(none, 0, &ds), CLT_ERR_MISSING_INPUT, "no data set found");
  EXPECT_MESSAGE_HAS("train-images-idx3-ubyte[.gz]");
  EXPECT_MESSAGE_HAS("data_batch_1.bin .. data_batch_5.bin, test_batch.bin");
  assert_null(strchr(clt_last_error(), '\n'));
  /* CIFAR-10's python version: named, and sent to the binary one. */
  clt_test_write_text(none, "data_batch_1", "pickle");
  EXPECT_FAIL(clt_dataset_load_dir(none, 0, &ds), CLT_ERR_MISSING_INPUT, "python version");
  /* data_batch_0.bin and data_batch_01.bin are not CIFAR names. */
  clt_test_write_text(none, "data_batch_0.bin", "x");
  clt_test_write_text(none, "data_batch_01.bin", "x");
  EXPECT_FAIL(clt_dataset_load_dir(none, 0, &ds), CLT_ERR_MISSING_INPUT, "no data set found");
  /* Only test_batch.bin: CIFAR, whose training files are missing. */
  clt_test_write_cifar_batch(none, "test_batch.bin", 1, 0, 2, 10);
  EXPECT_FAIL(clt_dataset_load_dir(none, 0, &ds), CLT_ERR_MISSING_INPUT, "no data_batch_1.bin");
  OK(clt_dataset_load_dir(none, 1, &ds));
  assert_int_equal(ds.n, 2);
  clt_dataset_free(&ds);
}

/* Owned names survive split and subset (each copy its own), in any free order. */
static void test_owned_names_copies(void **state) {
  (void)state;
  char dir[1024];
  make_good(dir, sizeof dir);
  clt_dataset all, train, val, sub;
  OK(clt_dataset_load_dir(dir, 0, &all));
  OK(clt_dataset_split(&all, 0.4, &train, &val));
  assert_int_equal(train.n, 3);
  assert_int_equal(val.n, 2);
  assert_ptr_not_equal(train.names_storage, all.names_storage);
  assert_ptr_not_equal(val.names_storage, all.names_storage);
  OK(clt_dataset_subset(&all, 1, 0, &sub));
  assert_string_equal(sub.class_names[4], "deer");
  clt_dataset_free(&all);
  assert_string_equal(train.class_names[1], "automobile");
  assert_string_equal(val.class_names[8], "ship");
  OK(clt_dataset_subset(&val, 0, 1, &val)); /* in place */
  assert_string_equal(val.class_names[9], "truck");
  clt_dataset_free(&train);
  assert_string_equal(val.class_names[0], "airplane");
  clt_dataset_free(&val);
  clt_dataset_free(&sub);
  /* Replacing owned names frees the old block (no leak under ASan). */
  clt_dataset ds;
  memset(&ds, 0, sizeof ds);
  OK(clt_dataset_set_class_names(&ds, clt_test_cifar_names, 10));
  OK(clt_dataset_set_class_names(&ds, clt_test_cifar_names + 5, 2));
  assert_string_equal(ds.class_names[1], "frog");
  clt_dataset_free(&ds);
  assert_null(ds.class_names);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_folder),
      cmocka_unit_test(test_pixel_layout),
      cmocka_unit_test(test_truncated_record),
      cmocka_unit_test(test_label_out_of_range),
      cmocka_unit_test(test_empty_file),
      cmocka_unit_test(test_missing_test_batch),
      cmocka_unit_test(test_gap_in_batches),
      cmocka_unit_test(test_meta_fewer_names_than_labels),
      cmocka_unit_test(test_meta_name_count),
      cmocka_unit_test(test_format_detection),
      cmocka_unit_test(test_owned_names_copies),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
