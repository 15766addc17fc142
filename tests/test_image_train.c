/* Image folders end to end through the cltrain command on the test device: a generated,
 * learnable folder (train/ and test/, 3 classes, 12x12 images in grey PNG, colour PNG and
 * JPEG) trains a small model of 8x8x1 input (each image converted to grey and shrunk): the
 * loss falls and the test accuracy beats chance (1/3) by far; the second run reads the cache;
 * with a host memory limit below the set's size the samples stream from the cache file;
 * predict classifies a PNG and a JPEG; a zero-byte file, a corrupt JPEG and a text file named
 * .jpg stop train with the file's name (exit 65) or, with --skip-bad-images, are skipped and
 * counted; a folder whose class folders hold no image stops with exit 65. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/rng.h"
#include "util/cltrain_child.h"
#include "util/image_files.h"
#include "util/temp_files.h"

static clt_test_cli cli;

#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

static const char *const classes[3] = {"circle", "cross", "square"};

static const char model[] = "[net]\n"
                            "input = 8x8x1\n"
                            "batch = 16\n"
                            "epochs = 4\n"
                            "optimizer = adam\n"
                            "learning_rate = 0.01\n"
                            "\n[dense]\nunits = 32\nactivation = relu\n"
                            "\n[dense]\nunits = 3\n"
                            "\n[softmax]\n";

/* Image i of class k: a bright block in the k-th third of the rows (12x12), noise elsewhere. */
static void write_image(const char *dir, int k, int i, uint32_t seed) {
  uint8_t px[12 * 12 * 3];
  int c = i % 3 == 1 ? 3 : 1, jpeg = i % 3 == 2;
  for (int y = 0; y < 12; y++)
    for (int x = 0; x < 12; x++)
      for (int ch = 0; ch < c; ch++) {
        uint32_t r =
            (uint32_t)(clt_hash(seed, (uint32_t)(k * 1000 + i), (uint32_t)(y * 36 + x * 3 + ch)) >>
                       24);
        px[(y * 12 + x) * c + ch] = (uint8_t)(y / 4 == k ? 160 + r % 96 : r % 96);
      }
  char path[4600];
  snprintf(path, sizeof path, "%s/%s/%03d.%s", dir, classes[k], i, jpeg ? "jpg" : "png");
  if (jpeg)
    clt_test_write_jpeg(path, 12, 12, c, px, 90);
  else
    clt_test_write_png(path, 12, 12, c, px);
}

static void make_set(const char *root, const char *set, int per, uint32_t seed) {
  char dir[4300], cls[4400];
  snprintf(dir, sizeof dir, "%s/%s", root, set);
  mkdir(root, 0755);
  mkdir(dir, 0755);
  for (int k = 0; k < 3; k++) {
    snprintf(cls, sizeof cls, "%s/%s", dir, classes[k]);
    mkdir(cls, 0755);
    for (int i = 0; i < per; i++) write_image(dir, k, i, seed);
  }
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  char path[4200];
  snprintf(path, sizeof path, "%s/cache", cli.folder);
  setenv("CLTRAIN_CACHE_DIR", path, 1); /* the children's image cache: inside the test folder */
  snprintf(path, sizeof path, "%s/shapes", cli.folder);
  make_set(path, "train", 80, 5);
  make_set(path, "test", 20, 6);
  clt_test_write_text(cli.folder, "tiny.cfg", model);
  return 0;
}

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

static void test_train_cache_predict(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "tiny.cfg", "--data", "shapes", "--json", "--save", "s.ckpt");
  double loss1 = json_number(cli.out, 0, "loss"), loss4 = json_number(cli.out, 3, "loss");
  double acc = json_number(cli.out, 4, "test_accuracy");
  fprintf(stderr, "image folder: loss %.4f -> %.4f, test accuracy %.4f\n", loss1, loss4, acc);
  assert_true(loss4 < 0.7 * loss1);
  assert_true(acc > 0.8); /* chance: 1/3 */
  assert_true(json_number(cli.out, 4, "test_samples") == 60);

  EXPECT_EXIT(0, "train", "tiny.cfg", "--data", "shapes", "--epochs", "1");
  assert_non_null(strstr(cli.out, "Image folder (train): 240 images from the cache"));
  assert_non_null(strstr(cli.out, "Image folder (test): 60 images from the cache"));
  assert_non_null(strstr(cli.out, "216 training, 24 validation, 60 test images"));

  /* larger than (a pretended 1 KiB of) host memory: streamed from the cache file */
  setenv("CLTRAIN_HOST_MEMORY_BYTES", "1K", 1);
  EXPECT_EXIT(0, "train", "tiny.cfg", "--data", "shapes", "--json");
  unsetenv("CLTRAIN_HOST_MEMORY_BYTES");
  assert_non_null(strstr(cli.err, "Image folder (train): 240 images streamed from the cache"));
  double streamed_acc = json_number(cli.out, 4, "test_accuracy");
  fprintf(stderr, "image folder, streamed: test accuracy %.4f\n", streamed_acc);
  assert_true(streamed_acc > 0.8);

  /* predict: a grey PNG of the first class and a JPEG of the last, resized and converted */
  EXPECT_EXIT(0, "predict", "s.ckpt", "shapes/test/circle/000.png", "shapes/test/square/002.jpg",
              "--resize");
  assert_non_null(strstr(cli.out, "shapes/test/circle/000.png: circle ("));
  assert_non_null(strstr(cli.out, "shapes/test/square/002.jpg: square ("));
  EXPECT_EXIT(65, "predict", "s.ckpt", "shapes/test/circle/000.png");
  EXPECT_ERR("pass --resize");
  clt_test_write_text(cli.folder, "text.png", "not a picture\n");
  EXPECT_EXIT(65, "predict", "s.ckpt", "text.png");
  EXPECT_ERR("text.png: neither a PNG nor a JPEG file");
  EXPECT_ERR("give an intact PNG or JPEG image");
  EXPECT_EXIT(0, "eval", "s.ckpt");
  assert_non_null(strstr(cli.out, "60 images"));
}

static void test_bad_files(void **state) {
  (void)state;
  char path[4200];
  snprintf(path, sizeof path, "%s/mixed", cli.folder);
  make_set(path, "train", 30, 7);
  make_set(path, "test", 6, 8);
  snprintf(path, sizeof path, "%s/mixed/train/cross/zero.png", cli.folder);
  clt_test_write_file(path, "", 0);
  snprintf(path, sizeof path, "%s/mixed/train/circle/text.jpg", cli.folder);
  clt_test_write_file(path, "hello\n", 6);
  size_t n;
  unsigned char *jpg =
      clt_test_read_file(strcat(strcpy(path, cli.folder), "/mixed/train/square/002.jpg"), &n);
  snprintf(path, sizeof path, "%s/mixed/train/square/cut.jpg", cli.folder);
  clt_test_write_file(path, jpg, n / 2);
  free(jpg);
  snprintf(path, sizeof path, "%s/mixed/train/square/notes.txt", cli.folder);
  clt_test_write_file(path, "x", 1);

  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", "mixed", "--epochs", "1");
  EXPECT_ERR("mixed/train/circle/text.jpg: neither a PNG nor a JPEG file");
  EXPECT_ERR("pass --skip-bad-images");
  EXPECT_EXIT(0, "train", "tiny.cfg", "--data", "mixed", "--epochs", "1", "--skip-bad-images");
  assert_non_null(strstr(cli.out, "3 bad image(s) skipped (--skip-bad-images); the first: "));
  assert_non_null(strstr(cli.out, "files that are not .png, .jpg or .jpeg ignored: .txt (1)"));
  assert_non_null(strstr(cli.out, "Image folder (train): 90 images"));

  /* class folders with no image */
  snprintf(path, sizeof path, "%s/empty", cli.folder);
  mkdir(path, 0755);
  strcat(path, "/a");
  mkdir(path, 0755);
  EXPECT_EXIT(65, "train", "tiny.cfg", "--data", "empty", "--epochs", "1");
  EXPECT_ERR("empty/a: class folder holds no PNG or JPEG image");
}

int main(void) {
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_train_cache_predict),
      cmocka_unit_test(test_bad_files),
  };
  return cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
}
