/* Inputs validated against the model before the first step, through the cltrain command (the
 * built binary, run as a child process) on the test device (issue 12, families 3 to 5):
 *   - a test set whose images are smaller or larger than the model's input, or whose labels
 *     lie outside its classes: train refuses it at once (65), before any step;
 *   - options that apply to CSV data only (--task, --label, --skip-bad-rows), given with
 *     image data: refused (64), not ignored;
 *   - a CSV field holding a NUL byte, a feature too large to standardise: FILE:LINE:COLUMN (65);
 *   - a checkpoint (CRC-valid) holding a NaN parameter or an infinite optimizer state:
 *     refused by eval, predict and resume (65), naming the tensor; one whose model text asks
 *     for a huge network: "does not match the stored tensors" (65), not out of memory (80);
 *   - --keep-best without a validation set, predict --range for a single image: refused (64);
 *   - eval of an image checkpoint on a CSV file names the checkpoint;
 *   - a gzip training file with a damaged stream whose header does not fit the model: the
 *     header is refused (65, the shapes), before the stream is inflated.
 * Data: synthetic IDX and CSV files written here, so the test needs no data package. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static clt_test_cli cli;

static const char tiny_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 1\n"
                                 "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                 "[conv]\nfilters = 2\nsize = 3\nactivation = relu\n"
                                 "[dense]\nunits = 10\n[softmax]\n";
static const char csv_model[] = "[net]\ninput = 2\nbatch = 8\nepochs = 1\n"
                                "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                "[dense]\nunits = 2\n[softmax]\n";

#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

static char good_dir[600]; /* block training and test sets, 12x12 */
static int trained;        /* good.ckpt written (by the first test that needs it) */

static void write_text(const char *name, const char *text) {
  clt_test_write_text(cli.folder, name, text);
}

/* A folder with the block training set and a test set of n h x w images with labels
 * label0, label0 + 1, ... (mod label_mod). */
static void make_set(char *dir, size_t size, const char *what, int h, int w, int label_mod) {
  clt_test_make_subdir(dir, size, what);
  clt_test_write_block_idx_set(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, 200);
  enum { N = 40 };
  unsigned char *pixels = malloc((size_t)N * h * w), labels[N];
  assert_non_null(pixels);
  for (size_t i = 0; i < (size_t)N * h * w; i++) pixels[i] = (unsigned char)(i * 37 % 251);
  for (int i = 0; i < N; i++) labels[i] = (unsigned char)(i % label_mod);
  clt_test_write_idx_set(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", N, h, w, pixels,
                         labels);
  free(pixels);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  make_set(good_dir, sizeof good_dir, "good", 12, 12, 10);
  write_text("tiny.cfg", tiny_model);
  write_text("csv.cfg", csv_model);
  return 0;
}

/* good.ckpt: tiny.cfg trained one epoch on the good set. */
static void need_checkpoint(void) {
  if (trained) return;
  EXPECT_EXIT(0, "train", "tiny.cfg", "--data", good_dir, "--save", "good.ckpt");
  trained = 1;
}

/* ---- the test set against the model (train) ----------------------------------------------- */

static void test_test_set_smaller_refused(void **state) {
  (void)state;
  char dir[600];
  make_set(dir, sizeof dir, "small_test", 10, 10, 10);
  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", dir);
  EXPECT_ERR("t10k-images-idx3-ubyte: the images are 10x10x1 but the model takes 12x12x1");
}

static void test_test_set_larger_refused(void **state) {
  (void)state;
  char dir[600];
  make_set(dir, sizeof dir, "large_test", 16, 16, 10);
  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", dir);
  EXPECT_ERR("t10k-images-idx3-ubyte: the images are 16x16x1 but the model takes 12x12x1");
}

static void test_test_labels_outside_classes_refused(void **state) {
  (void)state;
  char dir[600];
  make_set(dir, sizeof dir, "label_test", 12, 12, 12);
  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", dir);
  EXPECT_ERR("test set");
  EXPECT_ERR("12 classes");
}

/* ---- options for the other kind of data ----------------------------------------------------- */

static void test_csv_options_refused_for_images(void **state) {
  (void)state;
  EXPECT_EXIT(64, "train", "tiny.cfg", "--data", good_dir, "--task", "regression");
  EXPECT_ERR("--task applies to CSV data");
  EXPECT_EXIT(64, "train", "tiny.cfg", "--data", good_dir, "--task", "classification");
  EXPECT_ERR("--task applies to CSV data");
  EXPECT_EXIT(64, "train", "tiny.cfg", "--data", good_dir, "--label", "y");
  EXPECT_ERR("--label applies to CSV data");
  EXPECT_EXIT(64, "train", "tiny.cfg", "--data", good_dir, "--skip-bad-rows");
  EXPECT_ERR("--skip-bad-rows applies to CSV data");
}

static void write_csv(const char *name, int rows) {
  char *text = malloc((size_t)rows * 64 + 64), *p = text;
  assert_non_null(text);
  p += sprintf(p, "a,b,y\n");
  for (int i = 0; i < rows; i++)
    p += sprintf(p, "%d.5,%d,%s\n", i % 7, (i * 3) % 5, i % 2 ? "yes" : "no");
  write_text(name, text);
  free(text);
}

/* ---- CSV fields ----------------------------------------------------------------------------- */

static void test_csv_nul_byte_refused(void **state) {
  (void)state;
  static const char text[] = "a,b,y\n1,2,no\n3,4\0,yes\n5,6,no\n7,8,yes\n";
  clt_test_write_file(clt_test_tmp_path("nul.csv"), text, sizeof text - 1);
  EXPECT_EXIT(65, "train", "csv.cfg", "--data", "nul.csv");
  EXPECT_ERR("nul.csv:3:4: a NUL byte");
  /* In the label too, and in a quoted field. */
  static const char label[] = "a,b,y\n1,2,no\n3,4,ye\0s\n5,6,no\n7,8,yes\n";
  clt_test_write_file(clt_test_tmp_path("nul_label.csv"), label, sizeof label - 1);
  EXPECT_EXIT(65, "train", "csv.cfg", "--data", "nul_label.csv");
  EXPECT_ERR("nul_label.csv:3:7: a NUL byte");
  static const char quoted[] = "a,b,y\n1,2,no\n3,\"4\0\",yes\n5,6,no\n7,8,yes\n";
  clt_test_write_file(clt_test_tmp_path("nul_quoted.csv"), quoted, sizeof quoted - 1);
  EXPECT_EXIT(65, "train", "csv.cfg", "--data", "nul_quoted.csv");
  EXPECT_ERR("nul_quoted.csv:3:");
  EXPECT_ERR("a NUL byte");
}

static void test_csv_huge_value_refused(void **state) {
  (void)state;
  write_text("huge.csv", "a,b,y\n1,2,no\n1.5e308,4,yes\n-1.5e308,6,no\n7,8,yes\n");
  EXPECT_EXIT(65, "train", "csv.cfg", "--data", "huge.csv");
  EXPECT_ERR("huge.csv:3:1:");
  EXPECT_ERR("too large");
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* good.ckpt with change() applied, written (CRC-valid) to name. */
static void altered_checkpoint(const char *name, void (*change)(clt_checkpoint *ck)) {
  need_checkpoint();
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "good.ckpt", &ck);
  change(&ck);
  assert_int_equal(clt_checkpoint_write(clt_test_tmp_path(name), &ck), CLT_OK);
  clt_checkpoint_free(&ck);
}

static void nan_parameter(clt_checkpoint *ck) {
  ck->params[ck->param_floats - 3] = NAN;
}

static void infinite_optimizer_state(clt_checkpoint *ck) {
  assert_true(ck->optimizer_floats > 10);
  ck->optimizer[7] = INFINITY;
}

static void test_non_finite_checkpoint_refused(void **state) {
  (void)state;
  altered_checkpoint("nan.ckpt", nan_parameter);
  EXPECT_EXIT(65, "eval", "nan.ckpt", "--data", good_dir);
  EXPECT_ERR("parameter of layer 2 ([dense]) bias holds NaN");
  char images[700];
  snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte", good_dir);
  EXPECT_EXIT(65, "predict", "nan.ckpt", images, "--range", "0:2");
  EXPECT_ERR("holds NaN");
  EXPECT_EXIT(65, "train", "--resume", "nan.ckpt", "--epochs", "2", "--data", good_dir);
  EXPECT_ERR("holds NaN");
  altered_checkpoint("inf.ckpt", infinite_optimizer_state);
  EXPECT_EXIT(65, "train", "--resume", "inf.ckpt", "--epochs", "2", "--data", good_dir);
  EXPECT_ERR("optimizer state 1 of 2 of layer 1 ([conv]) weights holds an infinite value");
}

static void huge_model_text(clt_checkpoint *ck) {
  static const char was[] = "filters = 2\nsize = 3\n";
  char *at = strstr(ck->model_text, was);
  assert_non_null(at);
  size_t n = strlen(ck->model_text) + 64;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "%.*sfilters = 65536\nsize = 3\n[conv]\nfilters = 65536\nsize = 3\n%s",
           (int)(at - ck->model_text), ck->model_text, at + strlen(was));
  free(ck->model_text);
  ck->model_text = text;
  ck->model_length = strlen(text);
}

static void test_checkpoint_model_text_not_its_tensors(void **state) {
  (void)state;
  altered_checkpoint("huge.ckpt", huge_model_text);
  EXPECT_EXIT(65, "eval", "huge.ckpt", "--data", good_dir);
  EXPECT_ERR("does not match the stored tensors");
  EXPECT_EXIT(65, "train", "--resume", "huge.ckpt", "--epochs", "2", "--data", good_dir);
  EXPECT_ERR("does not match the stored tensors");
}

static void test_predict_range_refused_for_an_image(void **state) {
  (void)state;
  need_checkpoint();
  write_text("one.pgm", "P2\n12 12\n255\n" /* a 12x12 grey ramp */
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n"
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n"
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n"
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n"
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n"
                        "0 1 2 3 4 5 6 7 8 9 10 11\n0 1 2 3 4 5 6 7 8 9 10 11\n");
  EXPECT_EXIT(0, "predict", "good.ckpt", "one.pgm");
  EXPECT_EXIT(64, "predict", "good.ckpt", "one.pgm", "--range", "3:5");
  EXPECT_ERR("--range selects samples of IDX files");
}

static void test_keep_best_without_validation_refused(void **state) {
  (void)state;
  EXPECT_EXIT(64, "train", "tiny.cfg", "--data", good_dir, "--val-split", "0", "--save", "kb.ckpt",
              "--keep-best");
  EXPECT_ERR("--keep-best");
  EXPECT_ERR("validation");
  assert_int_not_equal(access(clt_test_tmp_path("kb.ckpt"), F_OK), 0);
  assert_int_not_equal(access(clt_test_tmp_path("kb-best.ckpt"), F_OK), 0);
}

static void test_eval_csv_names_the_checkpoint(void **state) {
  (void)state;
  need_checkpoint();
  write_csv("eval.csv", 16);
  EXPECT_EXIT(64, "eval", "good.ckpt", "--data", "eval.csv");
  EXPECT_ERR("good.ckpt was not trained on CSV data");
}

/* ---- headers before data -------------------------------------------------------------------- */

static void test_gzip_header_checked_before_inflating(void **state) {
  (void)state;
  /* Training images of 14x14 for a 12x12 model, gzip, the stream cut in the middle: the
   * header says what is wrong; nothing past it is inflated. */
  char dir[600];
  make_set(dir, sizeof dir, "gz_shape", 12, 12, 10);
  enum { N = 200, SIDE = 14 };
  size_t n = CLT_TEST_IDX_HEADER(3) + (size_t)N * SIDE * SIDE;
  unsigned char *bytes = calloc(n, 1);
  assert_non_null(bytes);
  const uint32_t dims[3] = {N, SIDE, SIDE};
  size_t h = clt_test_idx_header(bytes, 0x08, 3, dims);
  uint32_t x = 7; /* noise: the gzip stream is about as long as the data */
  for (size_t i = h; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    bytes[i] = (unsigned char)(x >> 24);
  }
  char path[700];
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
  const char *gz = clt_test_tmp_write_gz("cut.gz", bytes, n);
  size_t gz_size = 0;
  unsigned char *packed = clt_test_read_file(gz, &gz_size);
  clt_test_write_file(path, packed, gz_size / 2 + 8);
  free(packed);
  free(bytes);
  char plain[700];
  snprintf(plain, sizeof plain, "%s/train-images-idx3-ubyte", dir);
  unlink(plain);
  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", dir);
  EXPECT_ERR("the model takes 12x12x1");
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_test_set_smaller_refused),
      cmocka_unit_test(test_test_set_larger_refused),
      cmocka_unit_test(test_test_labels_outside_classes_refused),
      cmocka_unit_test(test_csv_options_refused_for_images),
      cmocka_unit_test(test_csv_nul_byte_refused),
      cmocka_unit_test(test_csv_huge_value_refused),
      cmocka_unit_test(test_non_finite_checkpoint_refused),
      cmocka_unit_test(test_checkpoint_model_text_not_its_tensors),
      cmocka_unit_test(test_predict_range_refused_for_an_image),
      cmocka_unit_test(test_keep_best_without_validation_refused),
      cmocka_unit_test(test_eval_csv_names_the_checkpoint),
      cmocka_unit_test(test_gzip_header_checked_before_inflating),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
