/* Checkpoints through the cltrain command (the built binary, run as a child process) on
 * the test device:
 *   - train 2 epochs straight == train 1 epoch with --save, then --resume --epochs 2:
 *     parameters, optimizer state and layer state byte for byte; the --log CSV has its
 *     header once and one row per epoch; eval and predict read the checkpoint;
 *   - a truncated checkpoint, one with a byte flipped, the wrong magic, a newer format,
 *     a missing file, a model that does not match and an incompatible option: each refused
 *     with its message and exit code (65 bad data, 66 missing, 64 usage), nothing crashes;
 *   - a learning rate that makes the loss NaN: exit 81 naming the step, the checkpoint
 *     saved before left byte for byte as it was; with --save-every 1 the checkpoint left is
 *     the last one before the first non-finite loss, and holds only finite values.
 * Data: synthetic IDX files written here (12x12 images, 10 classes), so the test needs
 * no data package. */
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
#include <zlib.h>

#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static clt_test_cli cli; /* the folder, the device and the last run's output */

static const char small_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 2\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                  "[conv]\nfilters = 4\nsize = 3\nactivation = relu\n"
                                  "[batchnorm]\n[maxpool]\nsize = 2\n[dropout]\nrate = 0.2\n"
                                  "[dense]\nunits = 10\n[softmax]\n";
/* The same with 5 filters: a model that does not match the checkpoint. */
static const char other_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 2\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                  "[conv]\nfilters = 5\nsize = 3\nactivation = relu\n"
                                  "[batchnorm]\n[maxpool]\nsize = 2\n[dropout]\nrate = 0.2\n"
                                  "[dense]\nunits = 10\n[softmax]\n";
/* Two linear dense layers under plain SGD: a large learning rate makes the weights feed
 * each other's growth until the loss overflows to NaN within a few steps. */
static const char linear_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 1\n"
                                   "optimizer = sgd\nlearning_rate = 0.01\nseed = 5\n"
                                   "[dense]\nunits = 32\n[dense]\nunits = 10\n[softmax]\n";

static void write_file(const char *name, const void *data, size_t n) {
  clt_test_write_file(clt_test_tmp_path(name), data, n);
}

static unsigned char *read_whole(const char *name, size_t *n) {
  return clt_test_read_file(clt_test_tmp_path(name), n);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  clt_test_write_block_idx_set(cli.folder, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0,
                               480);
  clt_test_write_block_idx_set(cli.folder, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 480,
                               100);
  write_file("small.cfg", small_model, strlen(small_model));
  write_file("other.cfg", other_model, strlen(other_model));
  write_file("linear.cfg", linear_model, strlen(linear_model));
  return 0;
}

/* Runs cltrain in the test folder on the test device (cltrain_child.h); fails the test unless
 * it exits with code, or unless its stderr holds want. Its output: cli.out and cli.err. */
#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

/* ---- tests ------------------------------------------------------------------------------- */

static void test_resume_exact_log_eval_predict(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--epochs", "2", "--save", "straight.ckpt");
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--epochs", "1", "--save", "r.ckpt", "--log",
              "r.csv", "--keep-best");
  assert_non_null(strstr(cli.out, "Checkpoint: r.ckpt; best: r-best.ckpt"));
  EXPECT_EXIT(0, "train", "--resume", "r.ckpt", "--epochs", "2");
  assert_non_null(strstr(cli.out, "Resuming r.ckpt: 1 of 2 epochs done"));
  assert_non_null(strstr(cli.out, "Epoch 2/2"));
  assert_null(strstr(cli.out, "Epoch 1/2"));

  clt_checkpoint a, b;
  clt_test_cli_read_checkpoint(&cli, "straight.ckpt", &a);
  clt_test_cli_read_checkpoint(&cli, "r.ckpt", &b);
  assert_int_equal(a.pos.global_step, b.pos.global_step);
  assert_int_equal(b.pos.epoch, 2);
  assert_int_equal(a.param_floats, b.param_floats);
  assert_int_equal(a.optimizer_floats, b.optimizer_floats);
  assert_true(a.optimizer_floats == 2 * a.param_floats); /* adam: m and v */
  assert_int_equal(a.state_floats, b.state_floats);
  assert_true(a.state_floats == 8); /* batchnorm: running mean and variance of 4 channels */
  assert_memory_equal(a.params, b.params, a.param_floats * sizeof(float));
  assert_memory_equal(a.optimizer, b.optimizer, a.optimizer_floats * sizeof(float));
  assert_memory_equal(a.state, b.state, a.state_floats * sizeof(float));
  char v[64];
  assert_true(clt_checkpoint_value(b.options, "log", v, sizeof v));
  assert_string_equal(v, "r.csv"); /* taken over from the checkpoint */
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);

  /* The log: the header once, epochs 1 and 2 (the second appended by the resumed run). */
  size_t n;
  char *log = (char *)read_whole("r.csv", &n);
  static const char header[] = "epoch,step,loss,accuracy,val_loss,val_accuracy,learning_rate,"
                               "seconds,images_per_second\n";
  assert_true(strncmp(log, header, strlen(header)) == 0);
  assert_null(strstr(log + 1, "epoch,"));
  assert_non_null(strstr(log, "\n1,14,"));
  assert_non_null(strstr(log, "\n2,28,"));
  free(log);
  /* tools/plot-log draws it (where Debian's matplotlib is installed). */
  if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/tools/plot-log %s/r.csv -o %s/r.png >/dev/null", CLT_SOURCE_DIR,
             cli.folder, cli.folder);
    assert_int_equal(system(cmd), 0);
    unsigned char *png = read_whole("r.png", &n);
    assert_true(n > 1000 && memcmp(png, "\x89PNG", 4) == 0);
    free(png);
  } else {
    fprintf(stderr, "python3-matplotlib missing: tools/plot-log not tried\n");
  }

  EXPECT_EXIT(0, "eval", "r.ckpt");
  assert_non_null(strstr(cli.out, "Test data: ., 100 images"));
  assert_non_null(strstr(cli.out, "top-5 accuracy"));
  assert_non_null(strstr(cli.out, "weighted avg"));
  assert_non_null(strstr(cli.out, "Confusion matrix (rows: true class"));
  EXPECT_EXIT(0, "eval", "r-best.ckpt", "--json", "--subset", "50");
  assert_non_null(strstr(cli.out, "\"samples\":50"));
  assert_non_null(strstr(cli.out, "\"confusion\":[["));
  EXPECT_EXIT(0, "predict", "r.ckpt", "t10k-images-idx3-ubyte", "--range", "5:8", "--top", "2");
  assert_non_null(strstr(cli.out, "t10k-images-idx3-ubyte[5]: "));
  assert_non_null(strstr(cli.out, "t10k-images-idx3-ubyte[7]: "));
  assert_null(strstr(cli.out, "t10k-images-idx3-ubyte[8]"));
  assert_non_null(strstr(cli.out, "[label: "));
  /* A PGM of the wrong size: refused unless --resize. */
  static const unsigned char pgm[] = "P5 24 24 255\n";
  unsigned char img[sizeof pgm - 1 + 24 * 24];
  memcpy(img, pgm, sizeof pgm - 1);
  memset(img + sizeof pgm - 1, 200, 24 * 24);
  write_file("big.pgm", img, sizeof img);
  EXPECT_EXIT(65, "predict", "r.ckpt", "big.pgm");
  EXPECT_ERR("big.pgm is 24x24x1 (height x width x channels) but the model takes 12x12x1");
  EXPECT_ERR("--resize");
  EXPECT_EXIT(0, "predict", "r.ckpt", "big.pgm", "--resize", "--json");
  assert_non_null(strstr(cli.out, "\"input\":\"big.pgm\""));
  EXPECT_EXIT(66, "predict", "r.ckpt", "nothing.pgm");
}

/* Damaged copies of a good checkpoint: each refused by eval and by train --resume. */
static void test_damaged_refused(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--epochs", "1", "--save", "good.ckpt");
  size_t n;
  unsigned char *d = read_whole("good.ckpt", &n);
  unsigned char *e = malloc(n);
  assert_non_null(e);
  struct {
    const char *name, *message;
  } cases[] = {
      {"truncated.ckpt", "truncated"},
      {"flipped.ckpt", "is damaged (CRC mismatch)"},
      {"magic.ckpt", "is not a cltrain checkpoint (wrong magic number)"},
      {"newer.ckpt", "was made by a newer cltrain (format 7); this build reads up to format 1"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    memcpy(e, d, n);
    size_t len = n;
    if (c == 0) len = n / 2;
    if (c == 1) e[n - 200] ^= 0x01; /* inside the optimizer state */
    if (c == 2) e[0] = 'C';
    if (c == 3) { /* format 7 with a correct header CRC */
      uint32_t v = 7;
      memcpy(e + 8, &v, 4);
      uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), e, 20);
      memcpy(e + 20, &crc, 4);
    }
    write_file(cases[c].name, e, len);
    EXPECT_EXIT(65, "eval", cases[c].name);
    EXPECT_ERR(cases[c].message);
    EXPECT_EXIT(65, "train", "--resume", cases[c].name, "--epochs", "2");
    EXPECT_ERR(cases[c].message);
    EXPECT_ERR("cltrain: ");
    if (c < 2) EXPECT_ERR("use another copy");
  }
  free(e);
  free(d);
  EXPECT_EXIT(66, "eval", "missing.ckpt");
  EXPECT_ERR("missing.ckpt: no such checkpoint file");
  EXPECT_EXIT(65, "eval", "small.cfg"); /* a model file is not a checkpoint */
  EXPECT_ERR("not a cltrain checkpoint");

  /* A model that does not match, and options a resumed run cannot change. */
  EXPECT_EXIT(64, "train", "other.cfg", "--resume", "good.ckpt", "--epochs", "2");
  EXPECT_ERR("other.cfg differs from the model good.ckpt was made with");
  EXPECT_ERR("first difference on line 9");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "1");
  EXPECT_ERR("has finished 1 epochs already");
  EXPECT_ERR("--epochs 2");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--batch", "16");
  EXPECT_ERR("--batch 16 differs from the checkpoint's 32");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--optimizer", "sgd");
  EXPECT_ERR("--optimizer sgd differs from the checkpoint's adam");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--subset", "100");
  EXPECT_ERR("--subset 100 differs");
  /* The model it was made with is accepted. */
  EXPECT_EXIT(0, "train", "small.cfg", "--resume", "good.ckpt", "--epochs", "2", "--data", ".");
}

static int all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

/* The step the message names: "at step N" or "(first at step N)" of a training step, or
 * "after step N" of the validation after step N. */
static long named_step(const char *msg) {
  static const char *const forms[] = {"first at step ", "at step ", "after step "};
  for (int i = 0; i < 3; i++) {
    const char *s = strstr(msg, forms[i]);
    if (s) return strtol(s + strlen(forms[i]), NULL, 10);
  }
  fail_msg("no step in '%s'", msg);
  return -1;
}

static void test_nan_stops_and_keeps_checkpoint(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "linear.cfg", "--data", ".", "--save", "nan.ckpt");
  size_t n0, n1;
  unsigned char *before = read_whole("nan.ckpt", &n0);
  EXPECT_EXIT(81, "train", "--resume", "nan.ckpt", "--epochs", "20", "--lr", "10");
  EXPECT_ERR("loss became NaN or infinite");
  EXPECT_ERR("lower the learning rate (--lr)");
  long first = named_step(cli.err);
  fprintf(stderr, "lr 10: %s", cli.err);
  assert_true(first > 14 && first <= 20 * 14);
  unsigned char *after = read_whole("nan.ckpt", &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0); /* the last good checkpoint, untouched */
  free(after);

  /* Saving every step: what is left is the state after the last step whose loss the host
   * saw finite, one before the first non-finite loss, and it holds only finite values. */
  EXPECT_EXIT(81, "train", "--resume", "nan.ckpt", "--epochs", "20", "--lr", "10", "--save-every",
              "1", "--save", "every.ckpt");
  assert_int_equal(named_step(cli.err), first); /* the same run, step for step */
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "every.ckpt", &ck);
  /* A training step's loss: the step before it. The validation after an epoch's last step N
   * (whose state would have been saved at the epoch end, after validation): step N - 1. */
  assert_int_equal(ck.pos.global_step, first - 1);
  assert_true(all_finite(ck.params, ck.param_floats));
  assert_true(all_finite(ck.optimizer, ck.optimizer_floats));
  clt_checkpoint_free(&ck);
  after = read_whole("nan.ckpt", &n1);
  assert_memory_equal(before, after, n0);
  free(after);
  free(before);

  /* No validation set: the loss of a training step goes first. The device guard records
   * the exact step, which the message names though the host looks only every 5 steps. */
  EXPECT_EXIT(81, "train", "linear.cfg", "--data", ".", "--val-split", "0", "--lr", "10",
              "--epochs", "20", "--read-every", "5", "--save", "train.ckpt");
  fprintf(stderr, "no validation: %s", cli.err);
  EXPECT_ERR("loss became NaN or infinite");
  first = named_step(cli.err);
  const char *by = strstr(cli.err, "by step "); /* "by step R (first at step F)" */
  long seen = by ? strtol(by + 8, NULL, 10) : first;
  assert_true(first >= 1 && first <= seen);
  /* 480 images, 15 steps per epoch: a read-back every 5 steps of an epoch. */
  assert_true(seen % 15 % 5 == 0);
  if (first <= 15) { /* within the first epoch: nothing was saved, and nothing is */
    assert_int_not_equal(access(clt_test_tmp_path("train.ckpt"), F_OK), 0);
  } else { /* the last epoch end before the first non-finite loss */
    clt_test_cli_read_checkpoint(&cli, "train.ckpt", &ck);
    assert_int_equal(ck.pos.global_step, (first - 1) / 15 * 15);
    assert_true(all_finite(ck.params, ck.param_floats));
    clt_checkpoint_free(&ck);
  }
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resume_exact_log_eval_predict),
      cmocka_unit_test(test_damaged_refused),
      cmocka_unit_test(test_nan_stops_and_keeps_checkpoint),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
