/* CIFAR-format data end to end through the cltrain command on the test device:
 * models/cifar10_cnn.cfg (the Keras CIFAR-10 tutorial CNN) trains on a generated, learnable
 * CIFAR-10 binary folder (500 training records in data_batch_1.bin and data_batch_2.bin, 200
 * test records; class-dependent colours and squares under noise): the loss falls epoch by
 * epoch and the held-out accuracy beats chance (0.1) by far; streamed batches train too;
 * eval shows CIFAR's class names from the checkpoint, and predict classifies a PPM cut from
 * a test record and the records of test_batch.bin; `cltrain bench --data` reports an epoch's data
 * wait, resident and streamed. A folder with neither data format stops train with one line and
 * exit 66. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cifar_bytes.h"
#include "util/cltrain_child.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define SEED 11

static clt_test_cli cli; /* the folder, the device and the last run's output */

/* Runs cltrain in the test folder on the test device (cltrain_child.h); fails the test unless
 * it exits with code, or unless its stderr holds want. Its output: cli.out and cli.err. */
#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  clt_test_write_cifar_batch(cli.folder, "data_batch_1.bin", SEED, 0, 250, 10);
  clt_test_write_cifar_batch(cli.folder, "data_batch_2.bin", SEED, 250, 250, 10);
  clt_test_write_cifar_batch(cli.folder, "test_batch.bin", SEED, 1000, 200, 10);
  clt_test_write_cifar_meta(cli.folder, clt_test_cifar_names, 10);
  return 0;
}

/* The number key of the JSON object on line number line (0-based) of text. */
static double json_number(const char *text, int line, const char *key) {
  const char *p = text;
  for (int i = 0; i < line; i++) {
    p = strchr(p, '\n');
    assert_non_null(p);
    p++;
  }
  const char *end = strchr(p, '\n');
  char buf[4096];
  snprintf(buf, sizeof buf, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
  cJSON *o = cJSON_Parse(buf);
  if (!o) fail_msg("line %d is not JSON: %s", line, buf);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(v)) fail_msg("line %d has no number '%s': %s", line, key, buf);
  double d = v->valuedouble;
  cJSON_Delete(o);
  return d;
}

static void test_train_eval_predict(void **state) {
  (void)state;
  const char *model = CLT_SOURCE_DIR "/models/cifar10_cnn.cfg";
  EXPECT_EXIT(0, "train", model, "--data", ".", "--epochs", "3", "--batch", "32", "--json",
              "--save", "c.ckpt");
  double loss1 = json_number(cli.out, 0, "loss"), loss3 = json_number(cli.out, 2, "loss");
  double test_acc = json_number(cli.out, 3, "test_accuracy");
  fprintf(stderr, "cifar10_cnn: loss %.4f -> %.4f, test accuracy %.4f\n", loss1, loss3, test_acc);
  assert_true(loss3 < 0.7 * loss1);
  assert_true(test_acc > 0.5); /* chance: 0.1 */
  assert_true(json_number(cli.out, 3, "test_samples") == 200);
  assert_non_null(strstr(cli.err, "450 training, 50 validation, 200 test images"));

  /* Streamed batches (the CIFAR record size through the staging path). */
  EXPECT_EXIT(0, "train", model, "--data", ".", "--epochs", "1", "--batch", "32", "--stream",
              "--json");
  assert_true(json_number(cli.out, 1, "test_accuracy") > 0.2);

  /* eval: the checkpoint's data folder, CIFAR's class names from its CLAS section. */
  EXPECT_EXIT(0, "eval", "c.ckpt");
  assert_non_null(strstr(cli.out, "Test data: ., 200 images"));
  assert_non_null(strstr(cli.out, "0   airplane"));
  assert_non_null(strstr(cli.out, "9   truck"));
  EXPECT_EXIT(0, "eval", "c.ckpt", "--json");
  assert_non_null(strstr(cli.out, "\"name\":\"automobile\""));

  /* predict on a PPM (interleaved RGB, as NHWC) cut from a test record. */
  uint8_t rec[CLT_TEST_CIFAR_RECORD];
  int label = clt_test_cifar_record(rec, SEED, 1000, 10);
  static const char head[] = "P6 32 32 255\n";
  unsigned char ppm[sizeof head - 1 + 3072];
  memcpy(ppm, head, sizeof head - 1);
  for (int p = 0; p < 1024; p++)
    for (int ch = 0; ch < 3; ch++) ppm[sizeof head - 1 + p * 3 + ch] = rec[1 + ch * 1024 + p];
  char path[1024];
  snprintf(path, sizeof path, "%s/x.ppm", cli.folder);
  clt_test_write_file(path, ppm, sizeof ppm);
  EXPECT_EXIT(0, "predict", "c.ckpt", "x.ppm");
  char want[128];
  snprintf(want, sizeof want, "x.ppm: %s (", clt_test_cifar_names[label]);
  if (!strstr(cli.out, want)) fail_msg("predict: '%s' lacks '%s'", cli.out, want);

  /* predict on records of a CIFAR batch, with their labels; a range past its end: exit 64. */
  EXPECT_EXIT(0, "predict", "c.ckpt", "test_batch.bin", "--range", "0:2");
  snprintf(want, sizeof want, "test_batch.bin[0]: %s (", clt_test_cifar_names[label]);
  if (!strstr(cli.out, want)) fail_msg("predict: '%s' lacks '%s'", cli.out, want);
  snprintf(want, sizeof want, "[label: %s]", clt_test_cifar_names[label]);
  assert_non_null(strstr(cli.out, want));
  assert_non_null(strstr(cli.out, "test_batch.bin[1]: "));
  EXPECT_EXIT(64, "predict", "c.ckpt", "test_batch.bin", "--range", "199:201");
  assert_non_null(strstr(cli.err, "holds samples 0 to 199"));
}

/* cltrain bench --data: one epoch of the trainer on the CIFAR folder, with its data wait, for
 * resident and streamed data (the figures are timings: only their presence and the counts
 * are checked). */
static void test_bench_data_wait(void **state) {
  (void)state;
  const char *modes[2] = {"resident", "streamed"};
  for (int m = 0; m < 2; m++) {
    const char *stream = m ? "--stream" : NULL; /* NULL ends the arguments */
    EXPECT_EXIT(0, "bench", CLT_SOURCE_DIR "/models/cifar10_cnn.cfg", "--data", ".", "--subset",
                "200", "--train-only", "--windows", "1", "--steps", "2", "--json", stream);
    cJSON *o = cJSON_Parse(cli.out);
    if (!o) fail_msg("bench --json is not JSON: %s", cli.out);
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "data_mode");
    assert_true(cJSON_IsString(mode));
    assert_string_equal(mode->valuestring, modes[m]);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "data_wait_ms_per_step")));
    const cJSON *epochs = cJSON_GetObjectItemCaseSensitive(o, "epochs");
    assert_int_equal(cJSON_GetArraySize(epochs), 1);
    const cJSON *e = cJSON_GetArrayItem(epochs, 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "images")->valueint, 200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "steps")->valueint, 4); /* 3 x 64 + 8 */
    double wait = cJSON_GetObjectItemCaseSensitive(e, "data_wait_ms")->valuedouble;
    assert_true(wait >= 0.0);
    if (m == 0) assert_true(wait == 0.0); /* resident data never wait, by definition */
    assert_true(cJSON_GetObjectItemCaseSensitive(e, "data_load_device_ms")->valuedouble > 0.0);
    cJSON_Delete(o);
  }
}

static void test_neither_format(void **state) {
  (void)state;
  char empty[1024];
  clt_test_make_subdir(empty, sizeof empty, "empty");
  EXPECT_EXIT(66, "train", CLT_SOURCE_DIR "/models/cifar10_cnn.cfg", "--data", empty);
  assert_non_null(strstr(cli.err, "no data set found; looked for MNIST-layout IDX files"));
  assert_non_null(strstr(cli.err, "CIFAR-10 binary batches"));
}

int main(void) {
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_train_eval_predict),
      cmocka_unit_test(test_bench_data_wait),
      cmocka_unit_test(test_neither_format),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, clt_test_tmpdir_teardown);
}
