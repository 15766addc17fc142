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

#include "runtime/rng.h"
#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define SIDE 12

static const char *folder;
static char device[32];
static char out_text[1 << 16], err_text[1 << 16];

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

static void path_of(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", folder, name);
}

static void write_file(const char *name, const void *data, size_t n) {
  char p[1024];
  path_of(p, sizeof p, name);
  clt_test_write_file(p, data, n);
}

static unsigned char *read_whole(const char *name, size_t *n) {
  char p[1024];
  path_of(p, sizeof p, name);
  return clt_test_read_file(p, n);
}

/* IDX images and labels of n samples: class k lights its own 4x3 block over noise. */
static void write_idx(const char *images, const char *labels, int first, int n) {
  size_t px = (size_t)n * SIDE * SIDE;
  unsigned char *img = malloc(px), *lab = malloc((size_t)n);
  assert_non_null(img);
  assert_non_null(lab);
  for (int s = 0; s < n; s++) {
    int k = (int)(clt_hash(21, 1, (uint32_t)(first + s)) % 10u);
    lab[s] = (unsigned char)k;
    int top = (k / 4) * 4, left = (k % 4) * 3;
    for (int i = 0; i < SIDE * SIDE; i++) {
      int h = i / SIDE, w = i % SIDE;
      int v = (int)(120.0f * clt_uniform(22, 2, (uint32_t)((first + s) * SIDE * SIDE + i)));
      if (h >= top && h < top + 4 && w >= left && w < left + 3) v += 130;
      img[(size_t)s * SIDE * SIDE + i] = (unsigned char)v;
    }
  }
  clt_test_write_idx_set(folder, images, labels, n, SIDE, SIDE, img, lab);
  free(img);
  free(lab);
}

static int setup(void **state) {
  (void)state;
  clt_test_device_spec(device, sizeof device);
  if (!(folder = clt_test_tmpdir_create())) return -1;
  write_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, 480);
  write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 480, 100);
  write_file("small.cfg", small_model, strlen(small_model));
  write_file("other.cfg", other_model, strlen(other_model));
  write_file("linear.cfg", linear_model, strlen(linear_model));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  clt_test_tmpdir_remove();
  return 0;
}

static void slurp_into(const char *name, char *buf, size_t size) {
  size_t n;
  unsigned char *d = read_whole(name, &n);
  snprintf(buf, size, "%s", (char *)d);
  free(d);
}

/* Runs build/cltrain with the arguments (NULL-terminated) in the test folder, adding
 * --device for subcommands that take one; returns its exit code (128 + signal when killed).
 * Its stdout and stderr land in out_text and err_text. */
static int cltrain(const char *first, ...) {
  const char *argv[48];
  int argc = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a && argc < 44; a = va_arg(ap, const char *)) argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;
  int rc = clt_test_cltrain_wait(clt_test_cltrain_start(folder, device, argv));
  slurp_into("out.txt", out_text, sizeof out_text);
  slurp_into("err.txt", err_text, sizeof err_text);
  return rc;
}

#define EXPECT_EXIT(code, ...)                                                                     \
  do {                                                                                             \
    int rc_ = cltrain(__VA_ARGS__, NULL);                                                          \
    if (rc_ != (code))                                                                             \
      fail_msg("exit %d, expected %d; stderr: %s; stdout tail: %s", rc_, code, err_text,           \
               out_text + (strlen(out_text) > 600 ? strlen(out_text) - 600 : 0));                  \
  } while (0)

static void expect_err(const char *want) {
  if (!strstr(err_text, want)) fail_msg("stderr lacks '%s': %s", want, err_text);
}

static void read_ckpt(const char *name, clt_checkpoint *ck) {
  char p[1024];
  path_of(p, sizeof p, name);
  OK(clt_checkpoint_read(p, ck));
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_resume_exact_log_eval_predict(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--epochs", "2", "--save", "straight.ckpt");
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--epochs", "1", "--save", "r.ckpt", "--log",
              "r.csv", "--keep-best");
  assert_non_null(strstr(out_text, "Checkpoint: r.ckpt; best: r-best.ckpt"));
  EXPECT_EXIT(0, "train", "--resume", "r.ckpt", "--epochs", "2");
  assert_non_null(strstr(out_text, "Resuming r.ckpt: 1 of 2 epochs done"));
  assert_non_null(strstr(out_text, "Epoch 2/2"));
  assert_null(strstr(out_text, "Epoch 1/2"));

  clt_checkpoint a, b;
  read_ckpt("straight.ckpt", &a);
  read_ckpt("r.ckpt", &b);
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
             folder, folder);
    assert_int_equal(system(cmd), 0);
    unsigned char *png = read_whole("r.png", &n);
    assert_true(n > 1000 && memcmp(png, "\x89PNG", 4) == 0);
    free(png);
  } else {
    fprintf(stderr, "python3-matplotlib missing: tools/plot-log not tried\n");
  }

  EXPECT_EXIT(0, "eval", "r.ckpt");
  assert_non_null(strstr(out_text, "Test data: ., 100 images"));
  assert_non_null(strstr(out_text, "top-5 accuracy"));
  assert_non_null(strstr(out_text, "weighted avg"));
  assert_non_null(strstr(out_text, "Confusion matrix (rows: true class"));
  EXPECT_EXIT(0, "eval", "r-best.ckpt", "--json", "--subset", "50");
  assert_non_null(strstr(out_text, "\"samples\":50"));
  assert_non_null(strstr(out_text, "\"confusion\":[["));
  EXPECT_EXIT(0, "predict", "r.ckpt", "t10k-images-idx3-ubyte", "--range", "5:8", "--top", "2");
  assert_non_null(strstr(out_text, "t10k-images-idx3-ubyte[5]: "));
  assert_non_null(strstr(out_text, "t10k-images-idx3-ubyte[7]: "));
  assert_null(strstr(out_text, "t10k-images-idx3-ubyte[8]"));
  assert_non_null(strstr(out_text, "[label: "));
  /* A PGM of the wrong size: refused unless --resize. */
  static const unsigned char pgm[] = "P5 24 24 255\n";
  unsigned char img[sizeof pgm - 1 + 24 * 24];
  memcpy(img, pgm, sizeof pgm - 1);
  memset(img + sizeof pgm - 1, 200, 24 * 24);
  write_file("big.pgm", img, sizeof img);
  EXPECT_EXIT(65, "predict", "r.ckpt", "big.pgm");
  expect_err("big.pgm is 24x24x1 (height x width x channels) but the model takes 12x12x1");
  expect_err("--resize");
  EXPECT_EXIT(0, "predict", "r.ckpt", "big.pgm", "--resize", "--json");
  assert_non_null(strstr(out_text, "\"input\":\"big.pgm\""));
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
    expect_err(cases[c].message);
    EXPECT_EXIT(65, "train", "--resume", cases[c].name, "--epochs", "2");
    expect_err(cases[c].message);
    expect_err("cltrain: ");
    if (c < 2) expect_err("use another copy");
  }
  free(e);
  free(d);
  EXPECT_EXIT(66, "eval", "missing.ckpt");
  expect_err("missing.ckpt: no such checkpoint file");
  EXPECT_EXIT(65, "eval", "small.cfg"); /* a model file is not a checkpoint */
  expect_err("not a cltrain checkpoint");

  /* A model that does not match, and options a resumed run cannot change. */
  EXPECT_EXIT(64, "train", "other.cfg", "--resume", "good.ckpt", "--epochs", "2");
  expect_err("other.cfg differs from the model good.ckpt was made with");
  expect_err("first difference on line 9");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "1");
  expect_err("has finished 1 epochs already");
  expect_err("--epochs 2");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--batch", "16");
  expect_err("--batch 16 differs from the checkpoint's 32");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--optimizer", "sgd");
  expect_err("--optimizer sgd differs from the checkpoint's adam");
  EXPECT_EXIT(64, "train", "--resume", "good.ckpt", "--epochs", "2", "--subset", "100");
  expect_err("--subset 100 differs");
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
  expect_err("loss became NaN or infinite");
  expect_err("lower the learning rate (--lr)");
  long first = named_step(err_text);
  fprintf(stderr, "lr 10: %s", err_text);
  assert_true(first > 14 && first <= 20 * 14);
  unsigned char *after = read_whole("nan.ckpt", &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0); /* the last good checkpoint, untouched */
  free(after);

  /* Saving every step: what is left is the state after the last step whose loss the host
   * saw finite, one before the first non-finite loss, and it holds only finite values. */
  EXPECT_EXIT(81, "train", "--resume", "nan.ckpt", "--epochs", "20", "--lr", "10", "--save-every",
              "1", "--save", "every.ckpt");
  assert_int_equal(named_step(err_text), first); /* the same run, step for step */
  clt_checkpoint ck;
  read_ckpt("every.ckpt", &ck);
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
  fprintf(stderr, "no validation: %s", err_text);
  expect_err("loss became NaN or infinite");
  first = named_step(err_text);
  const char *by = strstr(err_text, "by step "); /* "by step R (first at step F)" */
  long seen = by ? strtol(by + 8, NULL, 10) : first;
  assert_true(first >= 1 && first <= seen);
  /* 480 images, 15 steps per epoch: a read-back every 5 steps of an epoch. */
  assert_true(seen % 15 % 5 == 0);
  char p[1024];
  path_of(p, sizeof p, "train.ckpt");
  if (first <= 15) { /* within the first epoch: nothing was saved, and nothing is */
    assert_int_not_equal(access(p, F_OK), 0);
  } else { /* the last epoch end before the first non-finite loss */
    read_ckpt("train.ckpt", &ck);
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
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  clt_test_ctx_release();
  return rc;
}
