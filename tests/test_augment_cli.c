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

#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static clt_test_cli cli; /* the folder, the device and the last run's output */

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

static void write_file(const char *name, const char *text) {
  clt_test_write_text(cli.folder, name, text);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  clt_test_write_block_idx_set(cli.folder, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0,
                               320);
  clt_test_write_block_idx_set(cli.folder, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 320,
                               64);
  write_file("plain.cfg", plain_model);
  write_file("augment.cfg", augment_model);
  write_file("flat.cfg", flat_model);
  return 0;
}

/* Runs cltrain in the test folder on the test device (cltrain_child.h); fails the test unless
 * it exits with code, or unless its stderr holds want. Its output: cli.out and cli.err. */
#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

/* Whether two checkpoints hold the same parameters and optimizer state, byte for byte. */
static int same_tensors(const char *a_name, const char *b_name) {
  clt_checkpoint a, b;
  clt_test_cli_read_checkpoint(&cli, a_name, &a);
  clt_test_cli_read_checkpoint(&cli, b_name, &b);
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
  assert_non_null(strstr(cli.out, "Augmentation of training batches: crop 2, flip horizontal"));
  EXPECT_EXIT(0, "train", "augment.cfg", "--data", ".", "--save", "file.ckpt");
  assert_true(same_tensors("flags.ckpt", "file.ckpt"));
  EXPECT_EXIT(0, "train", "plain.cfg", "--data", ".", "--save", "plain.ckpt");
  assert_null(strstr(cli.out, "Augmentation"));
  assert_false(same_tensors("flags.ckpt", "plain.ckpt")); /* the augmentation acted */
  EXPECT_EXIT(0, "train", "augment.cfg", "--data", ".", "--no-augment", "--save", "off.ckpt");
  assert_true(same_tensors("plain.ckpt", "off.ckpt"));

  /* Resume: the flags live in the checkpoint's recipe. */
  EXPECT_EXIT(0, "train", "plain.cfg", "--data", ".", "--epochs", "1", "--augment-crop", "2",
              "--augment-flip", "--save", "half.ckpt");
  EXPECT_EXIT(64, "train", "--resume", "half.ckpt", "--epochs", "2", "--no-augment");
  EXPECT_ERR("the augmentation flags ask for off but the checkpoint's run augments with crop 2, "
             "flip horizontal");
  EXPECT_EXIT(64, "train", "--resume", "half.ckpt", "--epochs", "2", "--augment-crop", "3");
  EXPECT_EXIT(0, "train", "--resume", "half.ckpt", "--epochs", "2", "--augment-crop", "2");
  assert_non_null(strstr(cli.out, "Augmentation of training batches: crop 2, flip horizontal"));
  assert_true(same_tensors("flags.ckpt", "half.ckpt"));
  EXPECT_EXIT(0, "eval", "half.ckpt", "--data", ".");
}

static void test_bad_flags(void **state) {
  (void)state;
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "12");
  EXPECT_ERR("--augment-crop: crop padding 12 does not fit the 12x12 image: use 0 (no crop) to 11");
  EXPECT_EXIT(64, "train", "flat.cfg", "--data", ".", "--augment-flip");
  EXPECT_ERR("--augment-flip: augmentation shifts and mirrors images, but the input 1x1x144 is "
             "not an image");
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "-1");
  EXPECT_EXIT(64, "train", "plain.cfg", "--data", ".", "--augment-crop", "two");
  write_file("bad.cfg", NET "[augment]\ncrop_padding = 12\n" LAYERS);
  EXPECT_EXIT(65, "train", "bad.cfg", "--data", ".");
  EXPECT_ERR("bad.cfg:9: [augment] crop_padding = 12: crop padding 12 does not fit");
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flags_file_and_resume),
      cmocka_unit_test(test_bad_flags),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
