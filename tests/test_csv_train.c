/* CSV data through the cltrain command (the built binary, run as a child process) on the test
 * device, with small generated files:
 *   - classification with string labels: the loss falls and the validation accuracy beats
 *     0.8 (chance is 1/3); the checkpoint evaluates on a separate CSV whose columns come in
 *     another order, with the training statistics; resuming at an epoch end gives the
 *     parameters of a straight run byte for byte;
 *   - regression ([mse] head, --task regression): the validation MSE ends far below the
 *     target's variance; eval reports MSE and MAE;
 *   - bad files and options: a ragged row and a non-numeric cell (exit 65 with file:line:col),
 *     --skip-bad-rows (counted), an empty file, an unknown --label (exit 64 listing the
 *     columns), an input size that does not match the feature columns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rng.h"
#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define F 6

static clt_test_cli cli; /* the folder, the device and the last run's output */

static const char class_model[] = "[net]\ninput = 6\nbatch = 64\nepochs = 4\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                  "[dense]\nunits = 32\nactivation = relu\n"
                                  "[dense]\nunits = 3\n[softmax]\n";
static const char reg_model[] = "[net]\ninput = 6\nbatch = 64\nepochs = 6\n"
                                "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                "[dense]\nunits = 32\nactivation = relu\n"
                                "[dense]\nunits = 1\n[mse]\n";
static const char wide_model[] = "[net]\ninput = 7\nbatch = 64\nepochs = 1\n"
                                 "[dense]\nunits = 3\n[softmax]\n";

static void write_text(const char *name, const char *text) {
  clt_test_write_text(cli.folder, name, text);
}

/* A table of rows samples from seed: features x_j = 10 j + (j + 1) z_j; classification:
 * the label names which of z0, z1, z2 is largest; regression: 2 z0 - z1 + 0.5 z2 z3. The
 * columns are written in the order of perm (F + 1 entries, F = the label). */
static void write_table(const char *name, int rows, uint32_t seed, int regression,
                        const int *perm) {
  static const char *names[3] = {"red", "green", "blue"};
  size_t cap = (size_t)rows * 128 + 256, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int c = 0; c <= F; c++) {
    if (perm[c] == F)
      n += (size_t)sprintf(text + n, "%s", regression ? "target" : "colour");
    else
      n += (size_t)sprintf(text + n, "x%d", perm[c]);
    text[n++] = c == F ? '\n' : ',';
  }
  for (int r = 0; r < rows; r++) {
    double z[F];
    for (int j = 0; j < F; j++) z[j] = clt_normal(seed, 7u, (uint32_t)(r * F + j));
    int k = z[0] > z[1] ? (z[0] > z[2] ? 0 : 2) : (z[1] > z[2] ? 1 : 2);
    double target = 2 * z[0] - z[1] + 0.5 * z[2] * z[3];
    for (int c = 0; c <= F; c++) {
      int j = perm[c];
      if (j < F)
        n += (size_t)sprintf(text + n, "%.6f", 10.0 * j + (j + 1) * z[j]);
      else if (regression)
        n += (size_t)sprintf(text + n, "%.6f", target);
      else
        n += (size_t)sprintf(text + n, "\"%s\"", names[k]);
      text[n++] = c == F ? '\n' : ',';
    }
  }
  text[n] = '\0';
  write_text(name, text);
  free(text);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  int plain[F + 1] = {0, 1, 2, 3, 4, 5, 6}, mixed[F + 1] = {6, 3, 0, 5, 1, 4, 2};
  write_table("train.csv", 3000, 11, 0, plain);
  write_table("test.csv", 600, 12, 0, mixed);
  write_table("reg.csv", 3000, 13, 1, plain);
  write_table("reg_test.csv", 600, 14, 1, plain);
  write_text("class.cfg", class_model);
  write_text("reg.cfg", reg_model);
  write_text("wide.cfg", wide_model);
  write_text("ragged.csv", "a,b,y\n1,2,p\n3,4,q\n5,6,7,q\n");
  write_text("word.csv", "a,b,y\n1,2,p\n3,4,q\n5,six,q\n");
  write_text("empty.csv", "");
  return 0;
}

/* Runs cltrain in the test folder on the test device (cltrain_child.h); fails the test unless
 * it exits with code, or unless its stderr holds want. Its output: cli.out and cli.err. */
#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

/* The number after the first ("first") or last occurrence of "key": in text. */
static double json_number(const char *text, const char *key, int last) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *at = strstr(text, pattern), *next;
  if (!at) fail_msg("no %s in: %s", key, text);
  while (last && (next = strstr(at + 1, pattern))) at = next;
  return strtod(at + strlen(pattern), NULL);
}

static void test_classification_eval_resume(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "class.cfg", "--data", "train.csv", "--label", "colour", "--save",
              "class.ckpt", "--json");
  double first_loss = json_number(cli.out, "loss", 0), last_loss = json_number(cli.out, "loss", 1);
  double val_acc = json_number(cli.out, "val_accuracy", 1);
  printf("classification: loss %.4f -> %.4f, val_accuracy %.4f\n", first_loss, last_loss, val_acc);
  assert_true(last_loss < first_loss);
  assert_true(val_acc > 0.8);
  EXPECT_ERR("label \"colour\": 3 classes (blue, green, red)");
  EXPECT_ERR("2700 training rows");

  /* Eval on another file, columns in another order: the stored statistics apply. */
  EXPECT_EXIT(0, "eval", "class.ckpt", "--data", "test.csv", "--json");
  double test_acc = json_number(cli.out, "accuracy", 0);
  printf("eval on test.csv: accuracy %.4f\n", test_acc);
  assert_true(test_acc > 0.8);
  assert_non_null(strstr(cli.out, "\"name\":\"red\""));
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "class.ckpt", &ck);
  assert_non_null(ck.table);
  clt_checkpoint_free(&ck);

  /* Resume: 2 epochs, then on to 4 == 4 straight, byte for byte. */
  EXPECT_EXIT(0, "train", "class.cfg", "--data", "train.csv", "--label", "colour", "--epochs", "2",
              "--save", "half.ckpt");
  EXPECT_EXIT(0, "train", "--resume", "half.ckpt", "--epochs", "4");
  assert_non_null(strstr(cli.out, "Resuming"));
  EXPECT_EXIT(64, "train", "--resume", "half.ckpt", "--epochs", "5", "--label", "x0");
  EXPECT_ERR("--label x0 differs from the checkpoint's colour");
  clt_checkpoint a, b;
  clt_test_cli_read_checkpoint(&cli, "class.ckpt", &a);
  clt_test_cli_read_checkpoint(&cli, "half.ckpt", &b);
  assert_int_equal(a.param_floats, b.param_floats);
  assert_int_equal(b.pos.epoch, 4);
  assert_memory_equal(a.params, b.params, a.param_floats * sizeof(float));
  assert_int_equal(a.data_crc, b.data_crc);
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);
}

static void test_regression(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "reg.cfg", "--data", "reg.csv", "--label", "target", "--task",
              "regression", "--save", "reg.ckpt", "--json");
  double first_loss = json_number(cli.out, "loss", 0), last_loss = json_number(cli.out, "loss", 1);
  double val_mse = json_number(cli.out, "val_loss", 1),
         val_mae = json_number(cli.out, "val_mae", 1);
  printf("regression: loss %.4f -> %.4f, val MSE %.4f, val MAE %.4f (target variance 5.25)\n",
         first_loss, last_loss, val_mse, val_mae);
  assert_true(last_loss < first_loss);
  assert_true(val_mse < 1.0); /* predicting the mean gives about 5.25 */
  assert_true(val_mae < 0.8);
  EXPECT_EXIT(0, "eval", "reg.ckpt", "--data", "reg_test.csv");
  assert_non_null(strstr(cli.out, "Loss (MSE)"));
  assert_non_null(strstr(cli.out, "MAE"));
  EXPECT_EXIT(0, "eval", "reg.ckpt", "--data", "reg_test.csv", "--json");
  double test_mse = json_number(cli.out, "mse", 0), test_mae = json_number(cli.out, "mae", 0);
  printf("eval on reg_test.csv: MSE %.4f, MAE %.4f\n", test_mse, test_mae);
  assert_true(test_mse < 1.0 && test_mae < 0.8);
  /* The task and the head must agree. */
  EXPECT_EXIT(65, "train", "class.cfg", "--data", "reg.csv", "--task", "regression", "--epochs",
              "1");
  EXPECT_ERR("ends in the [mse] head");
  /* A numeric target read as classes: too many of them. */
  EXPECT_EXIT(65, "train", "reg.cfg", "--data", "reg.csv", "--epochs", "1");
  EXPECT_ERR("pass --task regression");
}

static void test_bad_files(void **state) {
  (void)state;
  EXPECT_EXIT(65, "train", "class.cfg", "--data", "ragged.csv");
  EXPECT_ERR("cltrain: ragged.csv:4:7: the row has 4 fields but the header has 3");
  EXPECT_ERR("pass --skip-bad-rows");
  EXPECT_EXIT(65, "train", "class.cfg", "--data", "word.csv", "--label", "y");
  EXPECT_ERR("cltrain: word.csv:4:3: \"six\" in column \"b\" is not a number");
  /* Skipped and counted; the model then needs 2 inputs, which it does not have. */
  EXPECT_EXIT(65, "train", "class.cfg", "--data", "word.csv", "--skip-bad-rows");
  assert_non_null(strstr(cli.out, "skipped 1 bad rows"));
  EXPECT_ERR("takes 1x1x6 inputs but");
  EXPECT_EXIT(65, "train", "class.cfg", "--data", "empty.csv");
  EXPECT_ERR("is empty");
  EXPECT_EXIT(64, "train", "class.cfg", "--data", "train.csv", "--label", "hue");
  EXPECT_ERR("its columns are: x0, x1, x2, x3, x4, x5, colour");
  EXPECT_EXIT(65, "train", "wide.cfg", "--data", "train.csv", "--label", "colour");
  EXPECT_ERR("has 6 feature columns (besides the label \"colour\"); set input = 6 in [net]");
  EXPECT_EXIT(66, "train", "class.cfg", "--data", "absent.csv");
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classification_eval_resume),
      cmocka_unit_test(test_regression),
      cmocka_unit_test(test_bad_files),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
