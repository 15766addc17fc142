/* Augmentation in training runs (train/augment.h inside clt_train): a run with [augment]
 * resumed from a checkpoint saved inside an epoch ends with the same parameters, optimizer
 * state and reports, bit for bit, as the straight run (the draws follow from seed, global
 * step and batch position alone); streamed batches are augmented as resident ones; the
 * augmentation changes training (the same model without it ends elsewhere) and never touches
 * the validation pass (its report equals a plain clt_evaluate of the trained network).
 *
 * Data: 160 synthetic 12x12 images of 10 classes, batch 16: 10 steps per epoch, 3 epochs,
 * break after step 13 (as tests/test_checkpoint_resume.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"
#include "util/train_harness.h"

#define TRAIN_N  160
#define VAL_N    48
#define BREAK_AT 13

#define NET                                                                                        \
  "[net]\ninput = 12x12x1\nbatch = 16\nepochs = 3\noptimizer = adam\n"                             \
  "learning_rate = 0.01\nschedule = cosine\nwarmup = 5\nseed = 7\n"
#define LAYERS                                                                                     \
  "[conv]\nfilters = 4\nsize = 3\npadding = same\nactivation = relu\n"                             \
  "[maxpool]\nsize = 2\n[dropout]\nrate = 0.25\n[dense]\nunits = 10\n[softmax]\n"

static const char augmented[] = NET "[augment]\ncrop_padding = 2\nflip = horizontal\n" LAYERS;
static const char plain[] = NET LAYERS;

static clt_test_block_data data; /* training and validation sets, the temporary folder */

static int setup(void **state) {
  (void)state;
  return clt_test_block_data_create(&data, TRAIN_N, VAL_N);
}

static int teardown(void **state) {
  (void)state;
  clt_test_block_data_free(&data);
  return 0;
}

typedef clt_test_run_result result;

/* Trains text's model (streaming the batches when stream), from checkpoint resume_from when
 * not NULL, saving at step BREAK_AT to save_path when not NULL; then evaluates it on the
 * validation set. */
static void run(const char *text, int stream, const char *resume_from, const char *save_path,
                result *out) {
  clt_test_run_spec spec = {text,        "augment.cfg", &data.train, &data.val, stream,
                            resume_from, save_path,     BREAK_AT,    1};
  clt_test_train_run(&spec, out);
}

static void expect_same(const result *a, const result *b, const char *what) {
  assert_int_equal(a->params_size, b->params_size);
  assert_int_equal(a->optimizer_size, b->optimizer_size);
  size_t p = clt_test_differing_floats(a->params, b->params, a->params_size);
  size_t o = clt_test_differing_floats(a->optimizer, b->optimizer, a->optimizer_size);
  if (p || o)
    fail_msg("%s: %zu of %zu parameter and %zu of %zu optimizer-state floats differ", what, p,
             a->params_size / 4, o, a->optimizer_size / 4);
}

static void test_resume_matches_straight(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/mid.ckpt", data.folder);
  result straight, resumed;
  run(augmented, 0, NULL, path, &straight); /* 30 steps, the state of step 13 saved */
  run(augmented, 0, path, NULL, &resumed);  /* 13 + 17 steps */
  expect_same(&straight, &resumed, "resumed run");
  /* The epochs from the break on report the same training and validation numbers. */
  assert_int_equal(straight.report_count, 3);
  assert_int_equal(resumed.report_count, 2);
  for (int e = 0; e < 2; e++) {
    const clt_epoch_report *a = &straight.reports[1 + e], *b = &resumed.reports[e];
    assert_int_equal(a->global_step, b->global_step);
    assert_true(a->loss == b->loss);
    assert_true(a->accuracy == b->accuracy);
    assert_true(a->val_loss == b->val_loss);
  }
  fprintf(stderr, "augmented run resumed at step %d: identical (%zu parameter bytes)\n", BREAK_AT,
          straight.params_size);
  clt_test_run_result_free(&straight);
  clt_test_run_result_free(&resumed);
  unlink(path);
}

/* Batches gathered on the device (resident) and batches streamed from the host are
 * augmented alike. */
static void test_streamed_like_resident(void **state) {
  (void)state;
  result resident, streamed;
  run(augmented, 0, NULL, NULL, &resident);
  run(augmented, 1, NULL, NULL, &streamed);
  expect_same(&resident, &streamed, "streamed run");
  clt_test_run_result_free(&resident);
  clt_test_run_result_free(&streamed);
}

/* The augmentation acts on training (without it the run ends elsewhere) and not on
 * validation: the last epoch's validation report is what a plain inference pass over the
 * validation set gives for the trained network, bit for bit. */
static void test_training_only(void **state) {
  (void)state;
  result aug, none;
  run(augmented, 0, NULL, NULL, &aug);
  run(plain, 0, NULL, NULL, &none);
  size_t differ = clt_test_differing_floats(aug.params, none.params, aug.params_size);
  fprintf(stderr, "with augmentation %zu of %zu parameters differ from the run without\n", differ,
          aug.params_size / 4);
  assert_true(differ > aug.params_size / 4 / 2);
  for (int i = 0; i < 2; i++) {
    const result *r = i == 0 ? &aug : &none;
    const clt_epoch_report *last = &r->reports[r->report_count - 1];
    assert_true(last->has_validation);
    fprintf(stderr, "%s: last epoch val_loss %.6f, evaluate %.6f; train loss %.4f\n",
            i == 0 ? "augmented" : "plain", last->val_loss, r->eval_loss, last->loss);
    assert_true(last->val_loss == r->eval_loss);
    assert_true(last->val_accuracy == r->eval_accuracy);
  }
  clt_test_run_result_free(&aug);
  clt_test_run_result_free(&none);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resume_matches_straight),
      cmocka_unit_test(test_streamed_like_resident),
      cmocka_unit_test(test_training_only),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, teardown);
}
