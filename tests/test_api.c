/* The public API (include/cltrain/cltrain.h) as a user calls it, through <cltrain/cltrain.h>
 * alone: on a learnable 12x12 IDX set (tests/util/idx_bytes.h: 600 training and 200 test
 * images, 10 classes), a session trains, its loss falls; a callback stops it after the first
 * epoch and the next clt_session_train goes on to the end; a checkpoint it saves, resumed
 * and opened for inference, predicts what the session predicts, bit for bit; the summary,
 * memory plan, model info and class names describe the run; bad input is refused with a
 * status and one message, never a crash.
 *
 * Bounds: the learnable set reaches a test accuracy near 1.0 in a few epochs (measured on
 * PoCL: accuracy 1.00, last epoch loss 0.005 from a first read-back of 2.16); above 0.8
 * passes, chance is 0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cltrain/cltrain.h>

#include "util/idx_bytes.h"
#include "util/temp_files.h"

#define TRAIN_N 600
#define TEST_N  200
#define EPOCHS  4

static const char model[] = "[net]\n"
                            "input = 12x12x1\n"
                            "batch = 32\n"
                            "epochs = 4\n"
                            "optimizer = adam\n"
                            "learning_rate = 0.01\n"
                            "seed = 5\n"
                            "[dense]\n"
                            "units = 32\n"
                            "activation = relu\n"
                            "[dense]\n"
                            "units = 10\n"
                            "[softmax]\n";

static char data_dir[512];

#define OK(call)                                                                                   \
  do {                                                                                             \
    clt_status st_ = (call);                                                                       \
    if (st_ != CLT_OK) fail_msg("%s: %s", #call, clt_last_error());                                \
  } while (0)

static void config_for_test(clt_config *c) {
  clt_config_init(c);
  c->device = getenv("CLTRAIN_TEST_DEVICE") ? getenv("CLTRAIN_TEST_DEVICE") : "portable";
}

static void run_for_test(clt_run_config *r) {
  clt_run_config_init(r);
  r->data = data_dir;
  r->val_split = 0.1;
  r->read_every = 5;
}

typedef struct record {
  int progress_calls, epochs_seen, stop_after_epoch;
  double first_loss, last_epoch_loss;
} record;

static int on_progress(const clt_progress_info *p, void *user) {
  record *r = user;
  if (r->progress_calls++ == 0) r->first_loss = p->loss;
  assert_true(p->step >= 1 && p->step <= p->steps);
  return 0;
}

static int on_epoch(const clt_epoch_info *e, void *user) {
  record *r = user;
  r->epochs_seen++;
  r->last_epoch_loss = e->loss;
  assert_true(e->has_validation);
  return r->stop_after_epoch && e->epoch == r->stop_after_epoch;
}

static void test_devices(void **state) {
  (void)state;
  int count = -1;
  OK(clt_list_devices(NULL, 0, &count));
  assert_true(count >= 1);
  clt_device_desc *d = calloc((size_t)count, sizeof *d);
  assert_non_null(d);
  int again = 0;
  OK(clt_list_devices(d, count, &again));
  assert_int_equal(again, count);
  assert_true(d[0].name[0] != '\0' && d[0].global_memory > 0);
  free(d);
  assert_int_equal(clt_list_devices(NULL, 3, &count), CLT_ERR_USAGE);
  assert_true(clt_last_error()[0] != '\0');
}

static void test_train_stop_save_resume_predict(void **state) {
  (void)state;
  clt_config config;
  config_for_test(&config);
  clt_run_config run;
  run_for_test(&run);
  clt_session *s = NULL;
  OK(clt_session_open_text(&config, model, sizeof model - 1, "api-mlp", &run, &s));

  clt_model_info mi = {.struct_size = sizeof mi};
  OK(clt_session_model(s, &mi));
  assert_int_equal(mi.height, 12);
  assert_int_equal(mi.classes, 10);
  assert_int_equal(mi.layers, 3);
  assert_int_equal(mi.parameters, 144 * 32 + 32 + 32 * 10 + 10);
  assert_int_equal(mi.train_samples + mi.val_samples, TRAIN_N);
  assert_int_equal(mi.test_samples, TEST_N);
  assert_int_equal(mi.epochs_done, 0);

  clt_memory_info mem = {.struct_size = sizeof mem};
  OK(clt_session_memory(s, &mem));
  assert_true(mem.parameters >= mi.parameters * sizeof(float));
  assert_true(mem.optimizer >= 2 * mem.parameters - 64); /* adam: two moments */
  assert_true(mem.total >= mem.parameters + mem.gradients + mem.activations);

  size_t needed = 0;
  OK(clt_session_summary(s, NULL, 0, &needed));
  char *summary = malloc(needed);
  assert_non_null(summary);
  OK(clt_session_summary(s, summary, needed, NULL));
  assert_int_equal(strlen(summary) + 1, needed);
  assert_non_null(strstr(summary, "Total parameters: 4970"));
  free(summary);

  /* A callback stops the run after epoch 1; the next call goes on to the end. */
  record rec = {0};
  rec.stop_after_epoch = 1;
  clt_callbacks cb = {sizeof cb, on_progress, on_epoch, &rec};
  int stopped = 0;
  OK(clt_session_train(s, &cb, &stopped));
  assert_int_equal(stopped, 1);
  assert_int_equal(rec.epochs_seen, 1);
  OK(clt_session_model(s, &mi));
  assert_int_equal(mi.epochs_done, 1);
  rec.stop_after_epoch = 0;
  OK(clt_session_train(s, &cb, &stopped));
  assert_int_equal(stopped, 0);
  assert_int_equal(rec.epochs_seen, EPOCHS);
  fprintf(stderr, "first read-back loss %.3f, last epoch %.3f\n", rec.first_loss,
          rec.last_epoch_loss);
  assert_true(rec.last_epoch_loss < 0.5 * rec.first_loss);
  /* Nothing left to train. */
  assert_int_equal(clt_session_train(s, NULL, NULL), CLT_ERR_USAGE);

  double loss = 0, acc = 0;
  int n = 0;
  OK(clt_session_evaluate(s, NULL, &loss, &acc, &n));
  fprintf(stderr, "test: loss %.4f accuracy %.4f (%d)\n", loss, acc, n);
  assert_int_equal(n, TEST_N);
  assert_true(acc > 0.8);

  enum { K = 7 };
  float *images = malloc(K * 144 * sizeof *images), probs[K * 10], again[K * 10];
  int labels[K];
  assert_non_null(images);
  OK(clt_session_samples(s, CLT_SPLIT_TEST, 3, K, images, labels));
  OK(clt_session_predict(s, images, K, probs));
  for (int i = 0; i < K; i++) {
    double sum = 0;
    for (int k = 0; k < 10; k++) sum += probs[i * 10 + k];
    assert_true(fabs(sum - 1.0) < 1e-4);
  }
  assert_int_equal(clt_session_samples(s, CLT_SPLIT_TEST, TEST_N - 2, 3, images, NULL),
                   CLT_ERR_USAGE);
  const char *name = NULL;
  OK(clt_session_class_name(s, 9, &name));
  assert_string_equal(name, "9");
  assert_int_equal(clt_session_class_name(s, 10, &name), CLT_ERR_USAGE);

  char ckpt[600];
  snprintf(ckpt, sizeof ckpt, "%s/api.ckpt", clt_test_tmpdir());
  OK(clt_session_save(s, ckpt));

  /* Opened for inference: the same probabilities, bit for bit. */
  clt_session *inf = NULL;
  OK(clt_session_open_checkpoint(&config, ckpt, 0, &inf));
  OK(clt_session_predict(inf, images, K, again));
  assert_memory_equal(probs, again, sizeof probs);
  assert_int_equal(clt_session_train(inf, NULL, NULL), CLT_ERR_USAGE);
  /* Its full report on the data it was trained on agrees with clt_session_evaluate. */
  clt_eval_report rep = {.struct_size = sizeof rep};
  OK(clt_session_report(inf, NULL, 0, &rep));
  assert_int_equal(rep.samples, TEST_N);
  assert_int_equal(rep.classes, 10);
  assert_true(fabs(rep.accuracy - acc) < 1e-9);
  long total = 0, diagonal = 0;
  for (int t = 0; t < 10; t++)
    for (int p = 0; p < 10; p++) {
      total += rep.confusion[t * 10 + p];
      if (t == p) diagonal += rep.confusion[t * 10 + p];
    }
  assert_int_equal(total, TEST_N);
  assert_int_equal(diagonal, (long)lround(acc * TEST_N));
  assert_int_equal(rep.weighted.support, TEST_N);
  OK(clt_session_report(inf, NULL, 50, &rep));
  assert_int_equal(rep.samples, 50);
  clt_model_info ci = {.struct_size = sizeof ci};
  OK(clt_session_model(inf, &ci));
  assert_string_equal(ci.name, "api-mlp");
  assert_string_equal(ci.data, data_dir);
  assert_int_equal(ci.epochs_done, EPOCHS);
  assert_int_equal(ci.global_step, (long)EPOCHS * ((mi.train_samples + 31) / 32));
  clt_session_close(inf);

  /* Resumed with more epochs: it starts where the save left off. */
  clt_run_config more;
  clt_run_config_init(&more);
  more.epochs = EPOCHS + 1;
  clt_session *r = NULL;
  OK(clt_session_resume(&config, ckpt, NULL, &more, &r));
  OK(clt_session_model(r, &mi));
  assert_int_equal(mi.epochs_done, EPOCHS);
  OK(clt_session_predict(r, images, K, again));
  assert_memory_equal(probs, again, sizeof probs);
  record rec2 = {0};
  clt_callbacks cb2 = {sizeof cb2, NULL, on_epoch, &rec2};
  OK(clt_session_train(r, &cb2, NULL));
  assert_int_equal(rec2.epochs_seen, 1);
  clt_session_close(r);

  /* A resumed run may not change its batch: one line naming the setting. */
  more.batch = 16;
  assert_int_equal(clt_session_resume(&config, ckpt, NULL, &more, &r), CLT_ERR_USAGE);
  assert_null(r);
  assert_non_null(strstr(clt_last_error(), "batch 16 differs from the checkpoint's 32"));
  assert_null(strstr(clt_last_error(), "--"));
  free(images);
  clt_session_close(s);
}

static void test_bad_input(void **state) {
  (void)state;
  clt_config config;
  config_for_test(&config);
  clt_run_config run;
  run_for_test(&run);
  clt_session *s = (clt_session *)&run; /* must come back NULL */
  static const char broken[] = "[net]\ninput = 12x12x1\n[dense]\nunits = -3\n[softmax]\n";
  assert_int_equal(clt_session_open_text(&config, broken, sizeof broken - 1, "broken", &run, &s),
                   CLT_ERR_BAD_DATA);
  assert_null(s);
  assert_true(clt_last_error()[0] != '\0');

  config.memory_limit = 100 << 10; /* parameters, gradients and Adam alone take 80 KiB */
  assert_int_equal(clt_session_open_text(&config, model, sizeof model - 1, "m", &run, &s),
                   CLT_ERR_OUT_OF_MEMORY);
  assert_null(s);
  fprintf(stderr, "100 KiB: %s\n", clt_last_error());
  assert_non_null(strstr(clt_last_error(), "needs"));
  assert_null(strstr(clt_last_error(), "--"));
  config.memory_limit = 0;

  assert_int_equal(clt_session_open(&config, NULL, &run, &s), CLT_ERR_USAGE);
  assert_int_equal(clt_session_open_checkpoint(&config, "/nonexistent/x.ckpt", 0, &s),
                   CLT_ERR_MISSING_INPUT);
  assert_int_equal(clt_session_predict(NULL, NULL, 1, NULL), CLT_ERR_USAGE);
  clt_session_close(NULL);
}

int main(void) {
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  clt_test_make_subdir(data_dir, sizeof data_dir, "blocks");
  clt_test_write_block_idx_set(data_dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0,
                               TRAIN_N);
  clt_test_write_block_idx_set(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                               TRAIN_N, TEST_N);
  int count = 0;
  if (clt_list_devices(NULL, 0, &count) != CLT_OK || count == 0) {
    fprintf(stderr, "no OpenCL device: skipping (install pocl-opencl-icd)\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_devices),
      cmocka_unit_test(test_train_stop_save_resume_predict),
      cmocka_unit_test(test_bad_input),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
