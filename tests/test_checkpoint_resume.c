/* Bit-exact resume (train/checkpoint.h, clt_train_resumable): training 2N steps straight
 * gives byte for byte the same parameters, optimizer state and layer state as training N
 * steps, saving a checkpoint to a file, reading it into a fresh network and training N more.
 *
 * The models exercise everything a resumed run must carry over or recompute: the
 * shuffle order (seed + epoch), the dropout stream (global step), batchnorm running
 * statistics (layer state), a warm-up + cosine schedule (global step of total), Adam's
 * moments and step count, SGD's momentum (Nesterov). The break falls inside an epoch, so
 * the epoch's metric accumulators are restored too (the epoch reports are compared).
 *
 * Data: 160 synthetic 12x12 images of 10 classes (a bright block per class over noise),
 * batch 16: 10 steps per epoch, 3 epochs, break after step 13. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "train/trainer.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"
#include "util/train_harness.h"

#define TRAIN_N  160
#define VAL_N    48
#define BREAK_AT 13

static const char conv_model[] =
    "[net]\ninput = 12x12x1\nbatch = 16\nepochs = 3\n"
    "optimizer = adam\nlearning_rate = 0.01\nschedule = cosine\n"
    "warmup = 5\nseed = 7\n"
    "[conv]\nfilters = 4\nsize = 3\npadding = same\nactivation = relu\n"
    "[batchnorm]\n[maxpool]\nsize = 2\n[dropout]\nrate = 0.25\n"
    "[dense]\nunits = 10\n[softmax]\n";

static const char sgd_model[] = "[net]\ninput = 12x12x1\nbatch = 16\nepochs = 3\n"
                                "optimizer = sgd\nlearning_rate = 0.05\nmomentum = 0.9\n"
                                "nesterov = 1\nweight_decay = 0.001\nschedule = step\n"
                                "step_every = 1\ngamma = 0.5\nseed = 11\n"
                                "[dense]\nunits = 24\nactivation = tanh\n[dropout]\nrate = 0.1\n"
                                "[dense]\nunits = 10\n[softmax]\n";

/* A residual block with a projection (its weights in the checkpoint like any layer's). */
static const char residual_model[] =
    "[net]\ninput = 12x12x1\nbatch = 16\nepochs = 3\n"
    "optimizer = adamw\nlearning_rate = 0.01\nseed = 5\n"
    "[conv]\nfilters = 4\nsize = 3\npadding = same\nbias = 0\nname = stem\n"
    "[batchnorm]\nmomentum = 0.9\n[conv]\nfilters = 8\nsize = 3\nstride = 2\npadding = same\n"
    "[add]\nfrom = stem\nactivation = relu\n[global_avgpool]\n[dense]\nunits = 10\n[softmax]\n";

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

/* ---- one run ---------------------------------------------------------------------------- */

typedef clt_test_run_result arenas;

/* Trains text's model; resume_from: a checkpoint file to start from (NULL: fresh);
 * save_path: where to save at step BREAK_AT (NULL: nowhere). */
static void run(const char *text, const char *resume_from, const char *save_path, arenas *out) {
  clt_test_run_spec spec = {text,        "resume.cfg", &data.train, &data.val, 0,
                            resume_from, save_path,    BREAK_AT,    0};
  clt_test_train_run(&spec, out);
}

static void check_same(const arenas *straight, const arenas *resumed) {
  assert_int_equal(straight->params_size, resumed->params_size);
  assert_int_equal(straight->optimizer_size, resumed->optimizer_size);
  assert_int_equal(straight->state_size, resumed->state_size);
  size_t p = clt_test_differing_floats(straight->params, resumed->params, straight->params_size);
  size_t o =
      clt_test_differing_floats(straight->optimizer, resumed->optimizer, straight->optimizer_size);
  size_t s = clt_test_differing_floats(straight->state, resumed->state, straight->state_size);
  if (p || o || s)
    fail_msg("resumed run differs: %zu of %zu parameter, %zu of %zu optimizer-state, %zu of %zu "
             "layer-state floats",
             p, straight->params_size / 4, o, straight->optimizer_size / 4, s,
             straight->state_size / 4);
  /* The epoch of the break reports the same training loss and accuracy: its accumulators
   * were restored. The resumed run reports the epochs from the break on. */
  int skip = straight->report_count - resumed->report_count;
  assert_int_equal(skip, BREAK_AT / 10);
  for (int e = 0; e < resumed->report_count; e++) {
    const clt_epoch_report *a = &straight->reports[skip + e], *b = &resumed->reports[e];
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->global_step, b->global_step);
    assert_true(a->loss == b->loss);
    assert_true(a->accuracy == b->accuracy);
    assert_true(a->val_loss == b->val_loss);
    assert_true(a->learning_rate == b->learning_rate);
  }
}

static void resume_matches_straight(const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/mid.ckpt", data.folder);
  arenas straight, resumed;
  run(text, NULL, path, &straight); /* 30 steps straight, saving the state of step 13 */
  clt_checkpoint ck;
  OK(clt_checkpoint_read(path, &ck));
  assert_int_equal(ck.pos.global_step, BREAK_AT);
  assert_int_equal(ck.pos.epoch, 1);
  assert_int_equal(ck.pos.step, BREAK_AT - 10);
  assert_true(ck.pos.metrics[2] == (float)((BREAK_AT - 10) * 16)); /* samples so far */
  clt_checkpoint_free(&ck);
  run(text, path, NULL, &resumed); /* 13 + 17 steps */
  check_same(&straight, &resumed);
  fprintf(stderr, "identical after %d + %d steps: %zu parameter, %zu optimizer, %zu state bytes\n",
          BREAK_AT, 30 - BREAK_AT, straight.params_size, straight.optimizer_size,
          straight.state_size);
  clt_test_run_result_free(&straight);
  clt_test_run_result_free(&resumed);
  unlink(path);
}

static void test_resume_adam_conv_batchnorm_dropout(void **state) {
  (void)state;
  resume_matches_straight(conv_model);
}

static void test_resume_sgd_nesterov_step_schedule(void **state) {
  (void)state;
  resume_matches_straight(sgd_model);
}

static void test_resume_residual_projection(void **state) {
  (void)state;
  resume_matches_straight(residual_model);
}

/* The comparison itself can tell runs apart: a restart from scratch at step 13 (the
 * parameters restored but not the optimizer state) ends elsewhere. */
static void test_without_optimizer_state_differs(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/mid.ckpt", data.folder);
  arenas straight;
  run(conv_model, NULL, path, &straight);
  clt_checkpoint ck;
  OK(clt_checkpoint_read(path, &ck));
  memset(ck.optimizer, 0, ck.optimizer_floats * sizeof(float));
  OK(clt_checkpoint_write(path, &ck));
  clt_checkpoint_free(&ck);
  arenas resumed;
  run(conv_model, path, NULL, &resumed);
  assert_true(memcmp(straight.params, resumed.params, straight.params_size) != 0);
  clt_test_run_result_free(&straight);
  clt_test_run_result_free(&resumed);
  unlink(path);
}

/* A checkpoint position that does not fit the run is refused before any step. */
static void test_bad_start_refused(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = NULL;
  OK(clt_model_parse(sgd_model, strlen(sgd_model), "resume.cfg", &model));
  clt_train_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.recipe = model->recipe;
  clt_optim *opt = NULL;
  OK(clt_optim_create(ctx, &cfg.recipe, &opt));
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, 16, clt_optim_state_per_param(opt), 1, &net));
  clt_train_saving saving;
  memset(&saving, 0, sizeof saving);
  saving.start.epoch = 1;
  saving.start.step = 3;
  saving.start.global_step = 99; /* not 1 * 10 + 3: another batch size or data set */
  assert_int_equal(clt_train_resumable(net, opt, &data.train, &data.val, &cfg, NULL, &saving),
                   CLT_ERR_USAGE);
  assert_non_null(strstr(clt_last_error(), "batch size or the training data differ"));
  saving.start.epoch = 3; /* all 3 epochs done */
  saving.start.step = 0;
  saving.start.global_step = 30;
  assert_int_equal(clt_train_resumable(net, opt, &data.train, &data.val, &cfg, NULL, &saving),
                   CLT_ERR_USAGE);
  assert_non_null(strstr(clt_last_error(), "set epochs to 4"));
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_model_free(model);
}

int main(void) {
  clt_test_ctx_or_skip();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resume_adam_conv_batchnorm_dropout),
      cmocka_unit_test(test_resume_sgd_nesterov_step_schedule),
      cmocka_unit_test(test_resume_residual_projection),
      cmocka_unit_test(test_without_optimizer_state_differs),
      cmocka_unit_test(test_bad_start_refused),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  clt_test_ctx_release();
  return rc;
}
