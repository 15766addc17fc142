/* Augmentation through the cltrain command (the built binary as a child process):
 *   - --augment-crop/--augment-flip and the same [augment] section train alike, byte for byte;
 *     --no-augment on that model file trains as the model without the section;
 *   - the flags are kept in the checkpoint: 1 epoch with --save, then --resume --epochs 2,
 *     ends with the parameters of 2 epochs straight; flags that change it on --resume are
 *     refused (exit 64);
 *   - flags that do not fit the input (padding as large as the image, a 1x1xF input, a
 *     negative number) exit 64 with one line saying why; eval reads the checkpoint.
 * Data: synthetic 12x12 IDX files written here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define NET                                                                                        \
  "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 2\noptimizer = adam\nlearning_rate = 0.01\n"       \
  "seed = 3\n"
#define LAYERS                                                                                     \
  "[conv]\nfilters = 4\nsize = 3\nactivation = relu\n[maxpool]\nsize = 2\n[dense]\nunits = 10\n"   \
  "[softmax]\n"
static const char plain_model[] = NET LAYERS;
static const char augment_model[] = NET "[augment]\ncrop_padding = 2\nflip = horizontal\n" LAYERS;
static const char flat_model[] = "[net]\ninput = 1x1x144\nbatch = 32\nepochs = 1\n"
                                 "[dense]\nunits = 10\n[softmax]\n";

static void path_of(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", folder, name);
}

static void write_file(const char *name, const char *text) {
  char p[1024];
  path_of(p, sizeof p, name);
  clt_test_write_file(p, text, strlen(text));
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
  write_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, 320);
  write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 320, 64);
  write_file("plain.cfg", plain_model);
  write_file("augment.cfg", augment_model);
  write_file("flat.cfg", flat_model);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  clt_test_tmpdir_remove();
  return 0;
}

static void slurp_into(const char *name, char *buf, size_t size) {
  char p[1024];
  path_of(p, sizeof p, name);
  size_t n;
  unsigned char *d = clt_test_read_file(p, &n);
  snprintf(buf, size, "%s", (char *)d);
  free(d);
}

/* Runs cltrain with the arguments (NULL-terminated) in the test folder on the test device;
 * returns its exit code; its stdout and stderr land in out_text and err_text. */
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

/* Whether two checkpoints hold the same parameters and optimizer state, byte for byte. */
static int same_tensors(const char *a_name, const char *b_name) {
  char pa[1024], pb[1024];
  path_of(pa, sizeof pa, a_name);
  path_of(pb, sizeof pb, b_name);
  clt_checkpoint a, b;
  OK(clt_checkpoint_read(pa, &a));
  OK(clt_checkpoint_read(pb, &b));
  assert_int_equal(a.param_floats, b.param_floats);
  assert_int_equal(a.pos.global_step, b.pos.global_step);
  int same = memcmp(a.params, b.params, a.param_floats * sizeof(float)) == 0 &&
             memcmp(a.optimizer, b.optimizer, a.optimizer_floats * sizeof(float)) == 0;
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);
  return same;
}

static void test_flags_file_and_resume(void **state) {
  (void)state;
  EXPECT_EXIT(0, "train", "plain.cfg", "--data", ".", "--augment-crop", "2", "--augment-flip",
              "--save", "flags.ckpt");
  assert_non_null(strstr(out_text, "Augmentation of training batches: crop 2, flip horizontal"));
  EXPECT_EXIT(0, "train", "augment.cfg", "--data", ".", "--save", "file.ckpt");
  assert_true(same_tensors("flags.ckpt", "file.ckpt"));
  EXPECT_EXIT(0, "train", "plain.cfg", "--data", ".", "--save", "plain.ckpt");
  assert_null(strstr(out_text, "Augmentation"));
  assert_false(same_tensors("flags.ckpt", "plain.ckpt")); /* the augmentation acted */
  EXPECT_EXIT(0, "train", "augment.cfg", "--data", ".", "--no-augment", "--save", "off.ckpt");
  assert_true(same_tensors("plain.ckpt", "off.ckpt"));

  /* Resume: the flags live in the checkpoint's recipe. */
  EXPECT_EXIT(0, "train", "plain.cfg", "--data", ".", "--epochs", "1", "--augment-crop", "2",
              "--augment-flip", "--save", "half.ckpt");
  EXPECT_EXIT(64, "train", "--resume", "half.ckpt", "--epochs", "2", "--no-augment");
  expect_err("the augmentation flags ask for off but the checkpoint's run augments with crop 2, "
             "flip horizontal");
  EXPECT_EXIT(64, "train", "--resume", "half.ckpt", "--epochs", "2", "--augment-crop", "3");
  EXPECT_EXIT(0, "train", "--resume", "half.ckpt", "--epochs", "2", "--augment-crop", "2");
  assert_non_null(strstr(out_text, "Augmentation of training batches: crop 2, flip horizontal"));
  assert_true(same_tensors("flags.ckpt", "half.ckpt"));
  EXPECT_EXIT(0, "eval", "half.ckpt", "--data", ".");
}

static void test_bad_flags(void **state) {
  (void)state;
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "12");
  expect_err("--augment-crop: crop padding 12 does not fit the 12x12 image: use 0 (no crop) to 11");
  EXPECT_EXIT(64, "train", "flat.cfg", "--data", ".", "--augment-flip");
  expect_err("--augment-flip: augmentation shifts and mirrors images, but the input 1x1x144 is "
             "not an image");
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "-1");
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "two");
  write_file("bad.cfg", NET "[augment]\ncrop_padding = 12\n" LAYERS);
  EXPECT_EXIT(65, "train", "bad.cfg", "--data", ".");
  expect_err("bad.cfg:9: [augment] crop_padding = 12: crop padding 12 does not fit");
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flags_file_and_resume),
      cmocka_unit_test(test_bad_flags),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  clt_test_ctx_release();
  return rc;
}
