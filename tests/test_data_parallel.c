/* Data-parallel training in one process (train/replicas.h, docs/SCALING.md) through the
 * public API, on a learnable 12x12 IDX set (600 training images) with dropout and random
 * crops and flips, so that the shards' random streams are checked too:
 * - two replicas on one PoCL device ("pocl,pocl": two contexts), equal split, end within 1e-4
 *   (relative to the largest parameter) of one replica with the same global batch and seed;
 * - PoCL + rusticl likewise (two vendors; RUSTICL_ENABLE=llvmpipe is set by CTest);
 * - a 2-replica run stopped mid-epoch, saved and resumed ends bit-identical to the
 *   uninterrupted 2-replica run;
 * - resuming that checkpoint on one replica warns once and goes on;
 * - gradient buckets (clt_config.bucket_kib): with 1 KiB buckets the model's 3 buckets are
 *   read as the backward pass produces them, 2 of 3 reads queued ahead of the backward of
 *   the first layer (the host can sum and start the ranks' sums of those while the devices
 *   still compute), none with 4 MiB (one bucket, read after the whole pass); both end with
 *   the same bits (the sum of each element does not depend on the bucket boundaries);
 * - bad input: an unknown device in the list, an empty entry, an unknown balance, a batch
 *   smaller than the replica count, a device that cannot hold its shard: a status and one
 *   message, no crash.
 * Needs PoCL and rusticl: exits 77 (skipped; a failure under CI) without either. */
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

#include "nn/recipe.h"
#include "optim/optimizer.h"
#include "runtime/device_open.h"
#include "runtime/memory.h"
#include "train/checkpoint.h"
#include "train/session_internal.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"

#define TRAIN_N 600

static const char model[] = "[net]\n"
                            "input = 12x12x1\n"
                            "batch = 32\n"
                            "epochs = 2\n"
                            "optimizer = adam\n"
                            "learning_rate = 0.01\n"
                            "seed = 3\n"
                            "[dense]\n"
                            "units = 32\n"
                            "activation = relu\n"
                            "[dropout]\n"
                            "rate = 0.2\n"
                            "[dense]\n"
                            "units = 10\n"
                            "[softmax]\n";

static char data_dir[512];

#define OK(call)                                                                                   \
  do {                                                                                             \
    clt_status st_ = (call);                                                                       \
    if (st_ != CLT_OK) fail_msg("%s: %s", #call, clt_last_error());                                \
  } while (0)

typedef struct heard {
  int warnings;
  char last[1024];
} heard;

static void on_warning(const char *text, void *user) {
  heard *h = user;
  h->warnings++;
  snprintf(h->last, sizeof h->last, "%s", text);
}

static void config_for(clt_config *c, const char *device, heard *h) {
  clt_config_init(c);
  c->device = device;
  c->gemm_selection = "default";
  c->warning = on_warning;
  c->user = h;
}

static void run_for(clt_run_config *r) {
  clt_run_config_init(r);
  r->data = data_dir;
  r->val_split = 0.1;
  r->read_every = 5;
  r->augment_crop = 1;
  r->augment_flip = 1;
}

/* Trains device's run to the end and saves it to path (name in the temporary folder). */
static void train_to(const char *device, const char *balance, const char *name, char *path,
                     size_t size) {
  heard h = {0};
  clt_config c;
  config_for(&c, device, &h);
  c.balance = balance;
  clt_run_config r;
  run_for(&r);
  clt_session *s = NULL;
  OK(clt_session_open_text(&c, model, sizeof model - 1, "dp-mlp", &r, &s));
  OK(clt_session_train(s, NULL, NULL));
  snprintf(path, size, "%s/%s", clt_test_tmpdir(), name);
  OK(clt_session_save(s, path));
  clt_session_close(s);
  assert_int_equal(h.warnings, 0);
}

/* The largest parameter difference of two checkpoints relative to the largest magnitude;
 * *same: the parameter bytes are identical. */
static double relative_difference(const char *a_path, const char *b_path, int *same) {
  clt_checkpoint a, b;
  OK(clt_checkpoint_read(a_path, &a));
  OK(clt_checkpoint_read(b_path, &b));
  assert_int_equal(a.param_floats, b.param_floats);
  double diff = 0, mag = 0;
  for (size_t i = 0; i < a.param_floats; i++) {
    double d = fabs((double)a.params[i] - (double)b.params[i]);
    assert_false(isnan(d));
    if (d > diff) diff = d;
    if (fabs((double)a.params[i]) > mag) mag = fabs((double)a.params[i]);
  }
  *same = memcmp(a.params, b.params, a.param_floats * sizeof(float)) == 0 &&
          memcmp(a.optimizer, b.optimizer, a.optimizer_floats * sizeof(float)) == 0;
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);
  return diff / mag;
}

static char one_path[600];

static int setup_one(void **state) {
  (void)state;
  train_to("pocl", NULL, "one.ckpt", one_path, sizeof one_path);
  return 0;
}

static void test_two_contexts_match_one(void **state) {
  (void)state;
  char two[600];
  train_to("pocl,pocl", "equal", "two.ckpt", two, sizeof two);
  int same = 0;
  double rel = relative_difference(one_path, two, &same);
  print_message("pocl,pocl vs pocl: relative difference %.3g\n", rel);
  assert_true(rel <= 1e-4);
  /* The checkpoint records the layout. */
  clt_checkpoint ck;
  OK(clt_checkpoint_read(two, &ck));
  assert_non_null(ck.layout);
  assert_non_null(strstr(ck.layout, "replicas = 2"));
  assert_non_null(strstr(ck.layout, "split = 16,16"));
  clt_checkpoint_free(&ck);
}

static void test_two_vendors_match_one(void **state) {
  (void)state;
  char mixed[600];
  train_to("pocl,rusticl", "equal", "mixed.ckpt", mixed, sizeof mixed);
  int same = 0;
  double rel = relative_difference(one_path, mixed, &same);
  print_message("pocl,rusticl vs pocl: relative difference %.3g\n", rel);
  assert_true(rel <= 1e-4);
}

static int stop_at_step(const clt_progress_info *p, void *user) {
  (void)user;
  return p->epoch == 1 && p->step == 10;
}

static void test_resume_bit_identical_and_other_count_warns(void **state) {
  (void)state;
  char straight[600], mid[600], resumed[600], other[600];
  train_to("pocl,pocl", "equal", "straight.ckpt", straight, sizeof straight);

  heard h = {0};
  clt_config c;
  config_for(&c, "pocl,pocl", &h);
  c.balance = "equal";
  clt_run_config r;
  run_for(&r);
  clt_session *s = NULL;
  OK(clt_session_open_text(&c, model, sizeof model - 1, "dp-mlp", &r, &s));
  clt_callbacks cb = {sizeof cb, stop_at_step, NULL, NULL};
  int stopped = 0;
  OK(clt_session_train(s, &cb, &stopped));
  assert_int_equal(stopped, 1);
  snprintf(mid, sizeof mid, "%s/mid.ckpt", clt_test_tmpdir());
  OK(clt_session_save(s, mid));
  clt_session_close(s);

  /* The same layout: bit for bit the straight run. */
  clt_run_config over;
  clt_run_config_init(&over);
  snprintf(resumed, sizeof resumed, "%s/resumed.ckpt", clt_test_tmpdir());
  over.save = resumed;
  OK(clt_session_resume(&c, mid, NULL, &over, &s));
  OK(clt_session_train(s, NULL, NULL));
  clt_session_close(s);
  assert_int_equal(h.warnings, 0);
  int same = 0;
  double rel = relative_difference(straight, resumed, &same);
  assert_true(same);
  assert_true(rel == 0.0);

  /* One replica: a warning, and the run goes on to the end. */
  heard h1 = {0};
  clt_config c1;
  config_for(&c1, "pocl", &h1);
  snprintf(other, sizeof other, "%s/other.ckpt", clt_test_tmpdir());
  over.save = other;
  OK(clt_session_resume(&c1, mid, NULL, &over, &s));
  OK(clt_session_train(s, NULL, NULL));
  clt_model_info mi = {.struct_size = sizeof mi};
  OK(clt_session_model(s, &mi));
  assert_int_equal(mi.epochs_done, 2);
  clt_session_close(s);
  assert_int_equal(h1.warnings, 1);
  assert_non_null(strstr(h1.last, "no longer bit-identical"));
  rel = relative_difference(straight, other, &same);
  assert_true(rel <= 1e-3); /* the same maths but for rounding */
}

/* Trains "pocl,pocl" with buckets of bucket_kib, saves to name; the reads placed. */
static void train_buckets(int bucket_kib, const char *name, char *path, size_t size,
                          clt_replica_times *times, int *buckets) {
  heard h = {0};
  clt_config c;
  config_for(&c, "pocl,pocl", &h);
  c.balance = "equal";
  c.bucket_kib = bucket_kib;
  clt_run_config r;
  run_for(&r);
  clt_session *s = NULL;
  OK(clt_session_open_text(&c, model, sizeof model - 1, "dp-mlp", &r, &s));
  OK(clt_session_train(s, NULL, NULL));
  assert_non_null(s->reps);
  *times = s->reps->times;
  *buckets = s->reps->buckets;
  snprintf(path, size, "%s/%s", clt_test_tmpdir(), name);
  OK(clt_session_save(s, path));
  clt_session_close(s);
  assert_int_equal(h.warnings, 0);
}

static void test_buckets_overlap_same_bits(void **state) {
  (void)state;
  char small[600], large[600];
  clt_replica_times ts, tl;
  int bs = 0, bl = 0;
  train_buckets(1, "small.ckpt", small, sizeof small, &ts, &bs);
  train_buckets(4096, "large.ckpt", large, sizeof large, &tl, &bl);
  print_message("1 KiB: %d buckets, %ld of %ld reads early; 4 MiB: %d, %ld of %ld\n", bs,
                ts.early_reads, ts.reads, bl, tl.early_reads, tl.reads);
  /* Backward order: dense 10's weights (1280 bytes: bucket 0, read after the backward of
   * layer index 2), its bias and dense 32's weights (bucket 1), dense 32's bias (bucket 2):
   * those two read after the backward of layer index 0, the last. */
  assert_int_equal(bs, 3);
  assert_int_equal(bl, 1);
  assert_true(ts.reads > 0 && tl.reads > 0);
  assert_int_equal(ts.early_reads * 3, ts.reads); /* bucket 0 of every lane and step */
  assert_int_equal(tl.early_reads, 0);
  int same = 0;
  double rel = relative_difference(small, large, &same);
  assert_true(same);
  assert_true(rel == 0.0);
  /* Out of range: refused, naming the setting. */
  heard h = {0};
  clt_config c;
  config_for(&c, "pocl,pocl", &h);
  c.bucket_kib = -1;
  clt_run_config r;
  run_for(&r);
  clt_session *s = NULL;
  assert_int_equal(clt_session_open_text(&c, model, sizeof model - 1, "dp-mlp", &r, &s),
                   CLT_ERR_USAGE);
  assert_null(s);
  assert_non_null(strstr(clt_last_error(), "gradient bucket size"));
}

/* One Adam update of the same floats on PoCL and on rusticl: how many differ (the reason the
 * replicas are copied from replica 0 at every epoch end, train/replicas.h). Reported; the two
 * must agree to 1e-6 relative. */
static void test_optimizer_across_vendors(void **state) {
  (void)state;
  enum { N = 4096 };
  static float p[N], g[N], out[2][N];
  uint32_t x = 99u;
  for (int i = 0; i < N; i++) {
    x = x * 1664525u + 1013904223u;
    p[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
    x = x * 1664525u + 1013904223u;
    g[i] = ((float)(x >> 8) / 16777216.0f - 0.5f) * 1e-3f;
  }
  const char *devices[2] = {"pocl", "rusticl"};
  for (int d = 0; d < 2; d++) {
    clt_device_options o = {0};
    o.device = devices[d];
    o.no_kernel_cache = 1;
    clt_ctx *ctx = NULL;
    OK(clt_open_device(&o, 0, &ctx));
    clt_recipe r;
    clt_recipe_defaults(&r);
    clt_optim *opt = NULL;
    OK(clt_optim_create(ctx, &r, &opt));
    int blocks = clt_optim_state_per_param(opt);
    cl_mem pm = NULL, gm = NULL, sm = NULL;
    OK(clt_buffer_create(ctx, sizeof p, &pm));
    OK(clt_buffer_create(ctx, sizeof g, &gm));
    OK(clt_buffer_create(ctx, sizeof p * (size_t)(blocks ? blocks : 1), &sm));
    OK(clt_buffer_write(ctx, pm, 0, sizeof p, p));
    OK(clt_buffer_write(ctx, gm, 0, sizeof g, g));
    OK(clt_buffer_zero(ctx, sm, 0, sizeof p * (size_t)(blocks ? blocks : 1)));
    for (long t = 1; t <= 3; t++) OK(clt_optim_step(opt, pm, gm, blocks ? sm : NULL, N, 1e-3, t));
    OK(clt_buffer_read(ctx, pm, 0, sizeof p, out[d]));
    clt_buffer_release(&pm);
    clt_buffer_release(&gm);
    clt_buffer_release(&sm);
    clt_optim_destroy(opt);
    clt_ctx_destroy(ctx);
  }
  int differ = 0;
  double worst = 0;
  for (int i = 0; i < N; i++) {
    if (out[0][i] != out[1][i]) differ++;
    double d = fabs((double)out[0][i] - (double)out[1][i]);
    if (d > worst) worst = d;
  }
  print_message("3 Adam updates of %d floats: %d differ between PoCL and rusticl (max %.3g)\n", N,
                differ, worst);
  assert_true(worst <= 1e-6);
}

static void expect_refused(const char *device, const char *balance, uint64_t memory_limit,
                           clt_status want, const char *phrase) {
  heard h = {0};
  clt_config c;
  config_for(&c, device, &h);
  c.balance = balance;
  c.memory_limit = memory_limit;
  clt_run_config r;
  run_for(&r);
  clt_session *s = NULL;
  clt_status st = clt_session_open_text(&c, model, sizeof model - 1, "dp-mlp", &r, &s);
  assert_null(s);
  if (st != want) fail_msg("%s: status %d, wanted %d: %s", device, st, want, clt_last_error());
  const char *e = clt_last_error();
  assert_null(strchr(e, '\n'));
  if (!strstr(e, phrase)) fail_msg("'%s' lacks '%s'", e, phrase);
}

static void test_bad_input(void **state) {
  (void)state;
  expect_refused("pocl,nosuchdevice", NULL, 0, CLT_ERR_NO_DEVICE, "nosuchdevice");
  expect_refused("pocl,,pocl", NULL, 0, CLT_ERR_USAGE, "empty entry");
  expect_refused("pocl,pocl", "nonsense", 0, CLT_ERR_USAGE, "nonsense");
  /* 33 replicas of a batch of 32. */
  char many[33 * 5 + 1] = "";
  for (int i = 0; i < 33; i++) strcat(many, i ? ",pocl" : "pocl");
  expect_refused(many, NULL, 0, CLT_ERR_USAGE, "cannot be split over 33 replicas");
  expect_refused("pocl,pocl", NULL, 4096, CLT_ERR_OUT_OF_MEMORY, "");
}

int main(void) {
  int count = 0;
  clt_device_desc d[16];
  if (clt_list_devices(d, 16, &count) != CLT_OK) return 77;
  int pocl = 0, rusticl = 0;
  for (int i = 0; i < count && i < 16; i++) {
    if (strstr(d[i].platform, "Portable")) pocl = 1;
    if (strstr(d[i].platform, "rusticl")) rusticl = 1;
  }
  if (!pocl || !rusticl) {
    fprintf(stderr, "needs PoCL and rusticl (RUSTICL_ENABLE=llvmpipe): skipping\n");
    return 77;
  }
  if (!clt_test_tmpdir_create()) {
    perror("mkdtemp");
    return 1;
  }
  clt_test_make_subdir(data_dir, sizeof data_dir, "blocks");
  clt_test_write_block_idx_set(data_dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0,
                               TRAIN_N);
  clt_test_write_block_idx_set(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                               TRAIN_N, 100);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_contexts_match_one),
      cmocka_unit_test(test_two_vendors_match_one),
      cmocka_unit_test(test_resume_bit_identical_and_other_count_warns),
      cmocka_unit_test(test_buckets_overlap_same_bits),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_optimizer_across_vendors),
  };
  int failed = cmocka_run_group_tests(tests, setup_one, NULL);
  clt_test_tmpdir_remove();
  return failed;
}
