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

#include "runtime/memory.h"
#include "runtime/rng.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "util/expect.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define SIDE     12
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

static clt_dataset train_set, val_set;
static const char *folder;

/* A bright block per class, placed off-centre so that shifts and flips change the image. */
static void make_set(int first, int n, clt_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->h = SIDE;
  ds->w = SIDE;
  ds->c = 1;
  ds->classes = 10;
  ds->images = malloc((size_t)n * SIDE * SIDE * sizeof *ds->images);
  ds->labels = malloc((size_t)n * sizeof *ds->labels);
  assert_non_null(ds->images);
  assert_non_null(ds->labels);
  for (int s = 0; s < n; s++) {
    int k = (int)(clt_hash(5, 1, (uint32_t)(first + s)) % 10u);
    ds->labels[s] = k;
    int top = (k / 4) * 4, left = (k % 4) * 3;
    for (int i = 0; i < SIDE * SIDE; i++) {
      int h = i / SIDE, w = i % SIDE;
      float v = 0.5f * clt_uniform(6, 2, (uint32_t)((first + s) * SIDE * SIDE + i));
      if (h >= top && h < top + 4 && w >= left && w < left + 3) v += 0.5f;
      ds->images[(size_t)s * SIDE * SIDE + i] = v;
    }
  }
}

static int setup(void **state) {
  (void)state;
  make_set(0, TRAIN_N, &train_set);
  make_set(TRAIN_N, VAL_N, &val_set);
  folder = clt_test_tmpdir_create();
  return folder ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  clt_dataset_free(&train_set);
  clt_dataset_free(&val_set);
  clt_test_tmpdir_remove();
  return 0;
}

typedef struct result {
  unsigned char *params, *optimizer;
  size_t params_size, optimizer_size;
  clt_epoch_report reports[4];
  int report_count;
  double eval_loss, eval_accuracy; /* clt_evaluate on the validation set after the run */
} result;

typedef struct run_ctx {
  clt_network *net;
  const char *save_path;
  int saved;
  result *out;
} run_ctx;

static void on_epoch(const clt_epoch_report *r, void *user) {
  result *a = ((run_ctx *)user)->out;
  if (a->report_count < 4) a->reports[a->report_count++] = *r;
}

static clt_status on_save(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                          void *user) {
  (void)rep;
  (void)new_best;
  run_ctx *rc = user;
  if (pos->global_step != BREAK_AT || !rc->save_path) return CLT_OK;
  clt_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  static const char text[] = "[net]\n";
  ck.model_text = (char *)text;
  ck.model_length = strlen(text);
  ck.pos = *pos;
  ck.batch = rc->net->batch;
  clt_status st = clt_checkpoint_capture(rc->net, &ck);
  if (st == CLT_OK) st = clt_checkpoint_write(rc->save_path, &ck);
  ck.model_text = NULL;
  clt_checkpoint_free(&ck);
  rc->saved = st == CLT_OK;
  return st;
}

static unsigned char *read_arena(clt_ctx *ctx, const clt_arena *a, size_t *size) {
  *size = a->size;
  unsigned char *p = malloc(a->size ? a->size : 1);
  assert_non_null(p);
  if (a->size) OK(clt_buffer_read(ctx, a->mem, 0, a->size, p));
  return p;
}

/* Trains text's model (streaming the batches when stream), from checkpoint resume_from when
 * not NULL, saving at step BREAK_AT to save_path when not NULL. */
static void run(const char *text, int stream, const char *resume_from, const char *save_path,
                result *out) {
  memset(out, 0, sizeof *out);
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = NULL;
  OK(clt_model_parse(text, strlen(text), "augment.cfg", &model));
  clt_train_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.recipe = model->recipe;
  cfg.read_every = 4;
  cfg.force_stream = stream;
  clt_optim *opt = NULL;
  OK(clt_optim_create(ctx, &cfg.recipe, &opt));
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, cfg.recipe.batch, clt_optim_state_per_param(opt),
                        cfg.recipe.seed, &net));
  run_ctx rc = {net, save_path, 0, out};
  clt_train_saving saving;
  memset(&saving, 0, sizeof saving);
  saving.save = on_save;
  saving.user = &rc;
  saving.save_every = 1;
  if (resume_from) {
    clt_checkpoint ck;
    OK(clt_checkpoint_read(resume_from, &ck));
    OK(clt_checkpoint_restore(net, &ck, 1));
    saving.start = ck.pos;
    clt_checkpoint_free(&ck);
  }
  clt_train_callbacks cb = {NULL, on_epoch, &rc};
  OK(clt_train_resumable(net, opt, &train_set, &val_set, &cfg, &cb, &saving));
  if (save_path) assert_true(rc.saved);
  OK(clt_evaluate(net, &val_set, stream, &out->eval_loss, &out->eval_accuracy));
  out->params = read_arena(ctx, &net->params, &out->params_size);
  out->optimizer = read_arena(ctx, &net->optimizer, &out->optimizer_size);
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_model_free(model);
}

static void free_result(result *a) {
  free(a->params);
  free(a->optimizer);
}

static size_t differing_floats(const unsigned char *a, const unsigned char *b, size_t bytes) {
  size_t n = 0;
  for (size_t i = 0; i < bytes; i += sizeof(float)) n += memcmp(a + i, b + i, sizeof(float)) != 0;
  return n;
}

static void expect_same(const result *a, const result *b, const char *what) {
  assert_int_equal(a->params_size, b->params_size);
  assert_int_equal(a->optimizer_size, b->optimizer_size);
  size_t p = differing_floats(a->params, b->params, a->params_size);
  size_t o = differing_floats(a->optimizer, b->optimizer, a->optimizer_size);
  if (p || o)
    fail_msg("%s: %zu of %zu parameter and %zu of %zu optimizer-state floats differ", what, p,
             a->params_size / 4, o, a->optimizer_size / 4);
}

static void test_resume_matches_straight(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/mid.ckpt", folder);
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
  free_result(&straight);
  free_result(&resumed);
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
  free_result(&resident);
  free_result(&streamed);
}

/* The augmentation acts on training (without it the run ends elsewhere) and not on
 * validation: the last epoch's validation report is what a plain inference pass over the
 * validation set gives for the trained network, bit for bit. */
static void test_training_only(void **state) {
  (void)state;
  result aug, none;
  run(augmented, 0, NULL, NULL, &aug);
  run(plain, 0, NULL, NULL, &none);
  size_t differ = differing_floats(aug.params, none.params, aug.params_size);
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
  free_result(&aug);
  free_result(&none);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resume_matches_straight),
      cmocka_unit_test(test_streamed_like_resident),
      cmocka_unit_test(test_training_only),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, teardown);
}
