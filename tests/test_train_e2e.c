/* End-to-end training (train/trainer.c) on a few hundred images: the loss falls, a
 * held-out set is mostly classified right, the same seed gives the same parameters bit
 * for bit, streaming the batches gives the same parameters as the resident data set, and
 * a run that blows up stops with CLT_ERR_NON_FINITE naming the step.
 *
 * Data: the first 600 Fashion-MNIST training images (validation: the next 200) when
 * CLT_DEFAULT_DATA_DIR exists, else a synthetic set of the same size (10 classes, each a
 * bright block at its own place plus uniform noise: separable, so the bounds below hold
 * for it too; CLTRAIN_TEST_SYNTHETIC=1 forces it).
 *
 * Model: 784 -> dense 64 relu -> dense 10 -> softmax; adam, learning rate 0.003, batch 32,
 * 5 epochs (19 steps each, the last of 24 samples), seed 42.
 * Bounds (measured on PoCL with Fashion-MNIST, printed on stderr: first read-back 2.10,
 * epoch means 1.45, 0.78, 0.68, 0.54, 0.52, held-out accuracy 0.785; synthetic set: epoch
 * means 1.02 down to 0.004, held-out accuracy 1.0):
 *   - the training loss of the last epoch is below 0.8 (a model that has not learnt stays
 *     near ln 10 = 2.3);
 *   - the epoch losses fall from the first to the last epoch, and the first read-back
 *     (after 5 steps) is above 1.2;
 *   - the held-out accuracy is above 0.6 (chance is 0.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/memory.h"
#include "runtime/rng.h"
#include "train/trainer.h"
#include "util/expect.h"
#include "util/test_util.h"

#define TRAIN_N        600
#define VAL_N          200
#define EPOCHS         5
#define MAX_LOSS_FINAL 0.8
#define MIN_LOSS_FIRST 1.2
#define MIN_VAL_ACC    0.6

static const char model_text[] = "[net]\n"
                                 "input = 28x28x1\n"
                                 "batch = 32\n"
                                 "epochs = 5\n"
                                 "optimizer = adam\n"
                                 "learning_rate = 0.003\n"
                                 "seed = 42\n"
                                 "[dense]\n"
                                 "units = 64\n"
                                 "activation = relu\n"
                                 "[dense]\n"
                                 "units = 10\n"
                                 "[softmax]\n";

static clt_dataset train_set, val_set;
static int synthetic;

/* Ten classes; class k lights a 7x7 block at its own place over uniform noise in [0, 0.5). */
static void make_synthetic(int first, int n, clt_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->h = 28;
  ds->w = 28;
  ds->c = 1;
  ds->classes = 10;
  ds->images = malloc((size_t)n * 784 * sizeof *ds->images);
  ds->labels = malloc((size_t)n * sizeof *ds->labels);
  assert_non_null(ds->images);
  assert_non_null(ds->labels);
  for (int s = 0; s < n; s++) {
    int k = (int)(clt_hash(99, 1, (uint32_t)(first + s)) % 10u);
    ds->labels[s] = k;
    int top = (k / 4) * 7 + 3, left = (k % 4) * 7;
    for (int i = 0; i < 784; i++) {
      int h = i / 28, w = i % 28;
      float v = 0.5f * clt_uniform(98, 2, (uint32_t)((first + s) * 784 + i));
      if (h >= top && h < top + 7 && w >= left && w < left + 7) v += 0.5f;
      ds->images[(size_t)s * 784 + i] = v;
    }
  }
}

static int setup(void **state) {
  (void)state;
  struct stat sb;
  const char *force = getenv("CLTRAIN_TEST_SYNTHETIC"); /* 1: use the synthetic set anyway */
  if (!(force && strcmp(force, "1") == 0) && stat(CLT_DEFAULT_DATA_DIR, &sb) == 0 &&
      S_ISDIR(sb.st_mode)) {
    clt_dataset all;
    if (clt_dataset_load_dir(CLT_DEFAULT_DATA_DIR, 0, &all) != CLT_OK) {
      fprintf(stderr, "%s\n", clt_last_error());
      return -1;
    }
    int ok = clt_dataset_subset(&all, 0, TRAIN_N, &train_set) == CLT_OK &&
             clt_dataset_subset(&all, TRAIN_N, VAL_N, &val_set) == CLT_OK;
    clt_dataset_free(&all);
    if (!ok) return -1;
    fprintf(stderr, "data: %s, images 0-%d (training), %d-%d (held out)\n", CLT_DEFAULT_DATA_DIR,
            TRAIN_N - 1, TRAIN_N, TRAIN_N + VAL_N - 1);
  } else {
    synthetic = 1;
    make_synthetic(0, TRAIN_N, &train_set);
    make_synthetic(TRAIN_N, VAL_N, &val_set);
    fprintf(stderr, "data: synthetic (%s absent or CLTRAIN_TEST_SYNTHETIC=1)\n",
            CLT_DEFAULT_DATA_DIR);
  }
  return 0;
}

/* ---- one training run ------------------------------------------------------------------- */

#define MAX_RECORDS 256

typedef struct record {
  int progress_count;
  double progress_loss[MAX_RECORDS];
  long progress_step[MAX_RECORDS];
  int epoch_count;
  clt_epoch_report epochs[EPOCHS + 1];
} record;

static void on_progress(const clt_progress *p, void *user) {
  record *r = user;
  if (r->progress_count < MAX_RECORDS) {
    r->progress_loss[r->progress_count] = p->loss;
    r->progress_step[r->progress_count] = p->global_step;
    r->progress_count++;
  }
}

static void on_epoch(const clt_epoch_report *rep, void *user) {
  record *r = user;
  if (r->epoch_count <= EPOCHS) r->epochs[r->epoch_count++] = *rep;
}

typedef struct run_result {
  clt_status status;
  char message[512];
  record rec;
  float *params; /* the parameter arena after training */
  size_t param_bytes;
  double val_loss, val_acc; /* clt_evaluate on the held-out set */
  double seconds;
} run_result;

typedef struct run_options {
  int force_stream;
  int sgd;       /* optimizer sgd instead of adam */
  double lr;     /* 0: the model's */
  int epochs;    /* 0: the model's */
  uint32_t seed; /* 0: the model's */
  const clt_dataset *train;
  const char *text; /* NULL: model_text */
} run_options;

static void run(const run_options *o, run_result *res) {
  memset(res, 0, sizeof *res);
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = NULL;
  const char *text = o->text ? o->text : model_text;
  OK(clt_model_parse(text, strlen(text), "e2e.cfg", &model));
  clt_train_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.recipe = model->recipe;
  cfg.read_every = 5;
  cfg.force_stream = o->force_stream;
  if (o->sgd) {
    cfg.recipe.optimizer = CLT_OPT_SGD;
    cfg.recipe.momentum = 0.0;
  }
  if (o->lr > 0) cfg.recipe.learning_rate = o->lr;
  if (o->epochs > 0) cfg.recipe.epochs = o->epochs;
  if (o->seed) cfg.recipe.seed = o->seed;
  clt_optim *opt = NULL;
  OK(clt_optim_create(ctx, &cfg.recipe, &opt));
  clt_network *net = NULL;
  OK(clt_network_create(model, ctx, cfg.recipe.batch, clt_optim_state_per_param(opt),
                        cfg.recipe.seed, &net));
  clt_train_callbacks cb = {on_progress, on_epoch, &res->rec, NULL};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clt_clear_error();
  res->status = clt_train(net, opt, o->train ? o->train : &train_set, &val_set, &cfg, &cb);
  snprintf(res->message, sizeof res->message, "%s", clt_last_error());
  clock_gettime(CLOCK_MONOTONIC, &t1);
  res->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  if (res->status == CLT_OK) {
    OK(clt_evaluate(net, &val_set, o->force_stream, &res->val_loss, &res->val_acc));
    res->param_bytes = net->params.size;
    res->params = malloc(res->param_bytes);
    assert_non_null(res->params);
    OK(clt_buffer_read(ctx, net->params.mem, 0, res->param_bytes, res->params));
  }
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_model_free(model);
}

static void print_run(const char *what, const run_result *r) {
  fprintf(stderr, "%s: %.1f s;", what, r->seconds);
  for (int e = 0; e < r->rec.epoch_count; e++)
    fprintf(stderr, " epoch %d loss %.4f acc %.3f val %.4f/%.3f;", e + 1, r->rec.epochs[e].loss,
            r->rec.epochs[e].accuracy, r->rec.epochs[e].val_loss, r->rec.epochs[e].val_accuracy);
  fprintf(stderr, " held out: loss %.4f accuracy %.3f\n", r->val_loss, r->val_acc);
}

/* ---- tests ------------------------------------------------------------------------------- */

static run_result resident; /* the reference run, shared by the tests below */

static int teardown(void **state) {
  (void)state;
  clt_dataset_free(&train_set);
  clt_dataset_free(&val_set);
  free(resident.params);
  return 0;
}

static void test_learns(void **state) {
  (void)state;
  run_options o = {0};
  run(&o, &resident);
  if (resident.status != CLT_OK) fail_msg("clt_train: %s", resident.message);
  print_run("resident", &resident);
  const record *r = &resident.rec;
  fprintf(stderr, "read-backs:");
  for (int i = 0; i < r->progress_count; i++)
    fprintf(stderr, " %ld:%.3f", r->progress_step[i], r->progress_loss[i]);
  fprintf(stderr, "\n");

  assert_int_equal(r->epoch_count, EPOCHS);
  /* Read-backs every 5 steps and at the end of each 19-step epoch: 4 per epoch. */
  assert_int_equal(r->progress_count, 4 * EPOCHS);
  assert_int_equal(r->progress_step[0], 5);
  assert_int_equal(r->epochs[EPOCHS - 1].global_step, 19 * EPOCHS);
  assert_true(r->progress_loss[0] > MIN_LOSS_FIRST);
  assert_true(r->progress_loss[r->progress_count - 1] < r->progress_loss[0]);
  for (int e = 0; e < EPOCHS; e++) {
    assert_int_equal(r->epochs[e].epoch, e + 1);
    assert_true(r->epochs[e].has_validation);
    assert_true(isfinite(r->epochs[e].loss));
  }
  double first = r->epochs[0].loss, last = r->epochs[EPOCHS - 1].loss;
  if (!(last < first)) fail_msg("epoch loss did not fall: %.4f then %.4f", first, last);
  if (!(last < MAX_LOSS_FINAL))
    fail_msg("last epoch's training loss %.4f, expected below %.2f", last, MAX_LOSS_FINAL);
  if (!(resident.val_acc > MIN_VAL_ACC))
    fail_msg("held-out accuracy %.3f, expected above %.2f", resident.val_acc, MIN_VAL_ACC);
  /* The last epoch's validation is the same pass as clt_evaluate afterwards. */
  assert_true(r->epochs[EPOCHS - 1].val_loss == resident.val_loss);
  assert_true(r->epochs[EPOCHS - 1].val_accuracy == resident.val_acc);
}

static void test_same_seed_same_parameters(void **state) {
  (void)state;
  assert_non_null(resident.params);
  run_options o = {0};
  run_result again;
  run(&o, &again);
  if (again.status != CLT_OK) fail_msg("clt_train: %s", again.message);
  assert_int_equal(again.param_bytes, resident.param_bytes);
  assert_memory_equal(again.params, resident.params, resident.param_bytes);
  for (int e = 0; e < EPOCHS; e++)
    assert_true(again.rec.epochs[e].loss == resident.rec.epochs[e].loss);
  free(again.params);

  /* Another seed trains to other parameters. */
  o.seed = 43;
  o.epochs = 1;
  run(&o, &again);
  if (again.status != CLT_OK) fail_msg("clt_train: %s", again.message);
  assert_true(memcmp(again.params, resident.params, resident.param_bytes) != 0);
  free(again.params);
}

static void test_stream_equals_resident(void **state) {
  (void)state;
  assert_non_null(resident.params);
  run_options o = {0};
  o.force_stream = 1;
  run_result streamed;
  run(&o, &streamed);
  if (streamed.status != CLT_OK) fail_msg("clt_train: %s", streamed.message);
  print_run("streamed", &streamed);
  assert_int_equal(streamed.param_bytes, resident.param_bytes);
  size_t n = resident.param_bytes / sizeof(float), differ = 0;
  for (size_t i = 0; i < n; i++)
    if (memcmp(&streamed.params[i], &resident.params[i], sizeof(float)) != 0) differ++;
  if (differ) fail_msg("%zu of %zu parameters differ between streamed and resident", differ, n);
  for (int e = 0; e < EPOCHS; e++)
    assert_true(streamed.rec.epochs[e].loss == resident.rec.epochs[e].loss);
  assert_true(streamed.val_loss == resident.val_loss);
  assert_true(streamed.val_acc == resident.val_acc);
  free(streamed.params);
}

/* The step number in "... by step N; ...". */
static long step_in(const char *msg) {
  const char *s = strstr(msg, "step ");
  if (!s) fail_msg("no step in '%s'", msg);
  return strtol(s + 5, NULL, 10);
}

static void test_blow_up(void **state) {
  (void)state;
  /* SGD with learning rate 1e6. With the relu model the loss reaches ~1e28 and then every
   * hidden unit dies: the loss stays finite (~5e5), nothing to report. With a linear hidden
   * layer the two weight matrices feed each other's growth (a factor ~ lr * |x|^2 per
   * step), so the weights overflow to infinity within a few steps and the loss to NaN. */
  static const char linear_text[] = "[net]\ninput = 28x28x1\nbatch = 32\nepochs = 5\nseed = 42\n"
                                    "[dense]\nunits = 64\n[dense]\nunits = 10\n[softmax]\n";
  run_options o = {0};
  o.sgd = 1;
  o.lr = 1e6;
  o.text = linear_text;
  run_result r;
  run(&o, &r);
  fprintf(stderr, "sgd lr 1e6: %s: %s\n", clt_status_string(r.status), r.message);
  assert_int_equal(r.status, CLT_ERR_NON_FINITE);
  long step = step_in(r.message);
  assert_true(step >= 1 && step <= 19 * EPOCHS);
  assert_true(step % 5 == 0 || step % 19 == 0); /* a read-back step */
  assert_non_null(strstr(r.message, "lower the learning rate"));
  /* Nothing after the failure was reported as a finished epoch with a finite loss. */
  for (int i = 0; i < r.rec.progress_count; i++) assert_true(r.rec.progress_step[i] < step);
  free(r.params);

  /* An infinite pixel in the first image of the first step (the shuffle of epoch 0 with
   * seed 42): the first read-back fails, whatever the learning rate. */
  clt_dataset bad;
  OK(clt_dataset_subset(&train_set, 0, TRAIN_N, &bad));
  int32_t order[TRAIN_N];
  clt_shuffle_order(42, 0, TRAIN_N, order);
  bad.images[(size_t)order[0] * 784 + 400] = INFINITY;
  memset(&o, 0, sizeof o);
  o.train = &bad;
  run(&o, &r);
  fprintf(stderr, "infinite pixel: %s: %s\n", clt_status_string(r.status), r.message);
  assert_int_equal(r.status, CLT_ERR_NON_FINITE);
  assert_true(step_in(r.message) <= 5);
  assert_int_equal(r.rec.progress_count, 0);
  free(r.params);
  clt_dataset_free(&bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_learns),
      cmocka_unit_test(test_same_seed_same_parameters),
      cmocka_unit_test(test_stream_equals_resident),
      cmocka_unit_test(test_blow_up),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, teardown);
}
