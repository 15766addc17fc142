/* Device memory planning (nn/network.h, runtime/memory.h, train/memory_budget.h) on the test
 * device, with the limits the planner sees lowered by hand (ctx->dev) or through
 * $CLTRAIN_MAX_ALLOC_BYTES (runtime/device_limits.h):
 *   - an activation arena larger than the largest buffer is split into chunks, each tensor
 *     inside one, and the network trains bit for bit as with one buffer;
 *   - a run over the global limit fails before any allocation, saying what it needs, what
 *     the device has and the largest batch that fits (which does fit); absurd batches do
 *     not overflow the plan arithmetic;
 *   - --batch auto's choice: the largest power of two within the margin, smaller when the
 *     device has less memory, never above the training set's size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"
#include "optim/optimizer.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "train/memory_budget.h"
#include "train/trainer.h"
#include "util/expect.h"
#include "util/test_util.h"
#include "util/train_harness.h"

static const char small_model[] = "[net]\ninput = 8x8x1\nbatch = 32\nepochs = 2\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 7\n"
                                  "[conv]\nfilters = 8\nsize = 3\npadding = same\n"
                                  "activation = relu\n[maxpool]\nsize = 2\n"
                                  "[dense]\nunits = 16\nactivation = relu\n"
                                  "[dense]\nunits = 4\n[softmax]\n";

static clt_model *parse(const char *text) {
  clt_model *m = NULL;
  OK(clt_model_parse(text, strlen(text), "memory.cfg", &m));
  return m;
}

static clt_model *load(const char *path) {
  clt_model *m = NULL;
  OK(clt_model_load(path, &m));
  return m;
}

/* n 8x8 images of 4 classes: class k brightens quadrant k over noise. */
static void make_set(int n, clt_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->h = ds->w = 8;
  ds->c = 1;
  ds->classes = 4;
  ds->images = malloc((size_t)n * 64 * sizeof(float));
  ds->labels = malloc((size_t)n * sizeof(int32_t));
  assert_non_null(ds->images);
  assert_non_null(ds->labels);
  for (int s = 0; s < n; s++) {
    int k = (int)(clt_hash(5, 1, (uint32_t)s) % 4u);
    ds->labels[s] = k;
    for (int i = 0; i < 64; i++) {
      int quadrant = (i / 8 >= 4) * 2 + (i % 8 >= 4);
      ds->images[s * 64 + i] =
          0.5f * clt_uniform(6, 2, (uint32_t)(s * 64 + i)) + (quadrant == k ? 0.5f : 0.0f);
    }
  }
}

/* Trains small_model for its 2 epochs; returns the parameters and optimizer state (malloc'd)
 * and the activation arena's chunk count. */
static unsigned char *train_small(clt_ctx *ctx, const clt_dataset *train, size_t *bytes,
                                  int *chunks) {
  clt_test_trainee t;
  clt_test_trainee_build(ctx, small_model, "memory.cfg", &t);
  clt_network *net = t.net;
  *chunks = net->activations.chunk_count;
  for (int k = 0; k < net->activations.chunk_count; k++)
    assert_true(clt_arena_chunk_size(&net->activations, k) <= ctx->dev.max_alloc);
  OK(clt_train(net, t.opt, train, NULL, &t.cfg, NULL));
  *bytes = net->params.size + net->optimizer.size;
  unsigned char *out = malloc(*bytes);
  assert_non_null(out);
  OK(clt_buffer_read(ctx, net->params.mem, 0, net->params.size, out));
  OK(clt_buffer_read(ctx, net->optimizer.mem, 0, net->optimizer.size, out + net->params.size));
  clt_test_trainee_destroy(&t);
  return out;
}

static void test_split_trains_bit_identically(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_dataset train;
  make_set(256, &train);
  size_t whole_bytes, split_bytes;
  int whole_chunks, split_chunks;
  unsigned char *whole = train_small(ctx, &train, &whole_bytes, &whole_chunks);
  assert_int_equal(whole_chunks, 1);

  /* 128 KiB per buffer: every tensor fits one (the largest, the conv's im2col workspace, is
   * 72 KiB at batch 32) but the ~330 KiB of activations need several. The data set (64 KiB)
   * stays resident, as in the first run. */
  uint64_t saved = ctx->dev.max_alloc;
  ctx->dev.max_alloc = 128 * 1024;
  clt_model *model = parse(small_model);
  clt_memory_plan plan;
  clt_network_plan(model, ctx, 32, 2, &plan);
  clt_model_free(model);
  unsigned char *split = train_small(ctx, &train, &split_bytes, &split_chunks);
  ctx->dev.max_alloc = saved;
  fprintf(stderr, "activations %.1f KiB in %d chunks of at most 128 KiB (largest %.1f KiB)\n",
          plan.activations / 1024.0, split_chunks, plan.largest / 1024.0);
  assert_true(split_chunks >= 3);
  assert_int_equal(split_chunks, plan.activation_chunks);
  assert_true(plan.largest <= 128 * 1024);
  assert_int_equal(split_bytes, whole_bytes);
  assert_memory_equal(split, whole, whole_bytes);
  free(whole);
  free(split);
  clt_dataset_free(&train);
}

/* A data set with only its sizes: the budget reads nothing else. */
static clt_dataset sized_set(int n) {
  clt_dataset ds;
  memset(&ds, 0, sizeof ds);
  ds.n = n;
  ds.h = ds.w = 28;
  ds.c = 1;
  return ds;
}

static void test_over_global_fails_before_allocating(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = load(CLT_SOURCE_DIR "/models/fashion_cnn.cfg");
  clt_dataset train = sized_set(54000), val = sized_set(6000), test = sized_set(10000);
  clt_memory_budget b = {model, ctx, 2, &train, &val, &test, 0, 0};
  uint64_t saved = ctx->dev.global_mem;
  ctx->dev.global_mem = 256ull << 20; /* 256 MiB: the data (180 MiB) are streamed */
  clt_clear_error();
  assert_int_equal(clt_budget_check(&b, 1024), CLT_ERR_OUT_OF_MEMORY);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", clt_last_error());
  fprintf(stderr, "%s\n", msg);
  assert_non_null(strstr(msg, "batch 1024 needs"));
  assert_non_null(strstr(msg, "has 256.0 MiB"));
  assert_non_null(strstr(msg, ctx->dev.name));
  const char *hint = strstr(msg, "use a batch of ");
  if (!hint) fail_msg("no batch hint in '%s'", msg);
  int best = atoi(hint + strlen("use a batch of "));
  assert_true(best >= 1 && best < 1024);
  OK(clt_budget_check(&b, best));
  assert_int_equal(clt_budget_check(&b, 2 * best), CLT_ERR_OUT_OF_MEMORY);

  /* The network alone fails the same way, on the plan: no network comes back. */
  clt_network *net = (clt_network *)&net;
  assert_int_equal(clt_network_create(model, ctx, 4096, 2, 1, &net), CLT_ERR_OUT_OF_MEMORY);
  assert_null(net);

  /* The largest batches: the plan grows with the batch and never wraps around. */
  clt_memory_plan big, biggest;
  clt_network_plan(model, ctx, 1 << 20, 2, &big);
  clt_network_plan(model, ctx, INT_MAX, 2, &biggest);
  assert_true(biggest.total > big.total);
  assert_true(biggest.total >= (size_t)INT_MAX * 28 * 28 * sizeof(float));
  assert_int_equal(clt_budget_check(&b, INT_MAX), CLT_ERR_OUT_OF_MEMORY);
  fprintf(stderr, "%s\n", clt_last_error());
  ctx->dev.global_mem = saved;

  /* Room enough in all, but one tensor too large for a buffer: said so. */
  saved = ctx->dev.max_alloc;
  ctx->dev.max_alloc = 16ull << 20;
  assert_int_equal(clt_budget_check(&b, 1024), CLT_ERR_OUT_OF_MEMORY);
  snprintf(msg, sizeof msg, "%s", clt_last_error());
  fprintf(stderr, "%s\n", msg);
  assert_non_null(strstr(msg, "batch 1024 needs one tensor of"));
  assert_non_null(strstr(msg, "at most 16.0 MiB per buffer"));
  hint = strstr(msg, "use a batch of ");
  if (!hint) fail_msg("no batch hint in '%s'", msg);
  OK(clt_budget_check(&b, atoi(hint + strlen("use a batch of "))));
  ctx->dev.max_alloc = saved;

  /* Too little room with the training set resident, enough when it streams: said so. */
  saved = ctx->dev.global_mem;
  ctx->dev.global_mem = 340ull << 20;
  assert_int_equal(clt_budget_check(&b, 512), CLT_ERR_OUT_OF_MEMORY);
  assert_non_null(strstr(clt_last_error(), "use streaming"));
  clt_memory_budget streamed = b;
  streamed.force_stream = 1;
  OK(clt_budget_check(&streamed, 512));
  ctx->dev.global_mem = saved;
  clt_model_free(model);
}

/* The auto batch of fashion_cnn with global_mem bytes (0: the device's); its line into line. */
static int auto_batch(clt_ctx *ctx, clt_model *model, const clt_dataset *train, uint64_t global_mem,
                      char *line, size_t size) {
  uint64_t saved = ctx->dev.global_mem;
  if (global_mem) ctx->dev.global_mem = global_mem;
  clt_dataset val = sized_set(train->n / 9);
  clt_memory_budget b = {model, ctx, 2, train, &val, NULL, 0, 0};
  int batch = 0;
  OK(clt_budget_auto_batch(&b, &batch, line, size));
  /* The choice fits the margin, and the next power of two would not (or is not tried). */
  clt_memory_plan plan;
  clt_network_plan(model, ctx, batch, 2, &plan);
  assert_true(
      clt_memory_plan_fits(&plan, ctx, clt_budget_data_bytes(&b, batch), CLT_AUTO_BATCH_FRACTION));
  if (2 * batch <= CLT_AUTO_BATCH_MAX && 2 * batch <= train->n) {
    clt_network_plan(model, ctx, 2 * batch, 2, &plan);
    assert_false(clt_memory_plan_fits(&plan, ctx, clt_budget_data_bytes(&b, 2 * batch),
                                      CLT_AUTO_BATCH_FRACTION));
  }
  ctx->dev.global_mem = saved;
  return batch;
}

static void test_auto_batch(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = load(CLT_SOURCE_DIR "/models/fashion_cnn.cfg");
  clt_dataset train = sized_set(54000), tiny = sized_set(10), some = sized_set(300);
  char line[128];
  int full = auto_batch(ctx, model, &train, 0, line, sizeof line);
  fprintf(stderr, "device memory: %s\n", line);
  assert_non_null(strstr(line, "batch auto: "));
  int small = auto_batch(ctx, model, &train, 96ull << 20, line, sizeof line);
  fprintf(stderr, "96 MiB: %s\n", line);
  assert_true(small >= CLT_AUTO_BATCH_MIN);
  assert_true(small < full);
  /* Never above the training set's size. */
  assert_int_equal(auto_batch(ctx, model, &tiny, 0, line, sizeof line), 10);
  assert_true(auto_batch(ctx, model, &some, 0, line, sizeof line) <= 256);
  /* Too little memory for the smallest candidate: the out-of-memory message. */
  uint64_t saved = ctx->dev.global_mem;
  ctx->dev.global_mem = 4ull << 20;
  clt_memory_budget b = {model, ctx, 2, &train, NULL, NULL, 0, 0};
  int batch = -1;
  clt_clear_error();
  assert_int_equal(clt_budget_auto_batch(&b, &batch, line, sizeof line), CLT_ERR_OUT_OF_MEMORY);
  assert_int_equal(batch, -1);
  fprintf(stderr, "4 MiB: %s\n", clt_last_error());
  ctx->dev.global_mem = saved;
  clt_model_free(model);
}

static void test_env_limits(void **state) {
  (void)state;
  setenv("CLTRAIN_MAX_ALLOC_BYTES", "3M", 1);
  setenv("CLTRAIN_DEVICE_MEMORY_BYTES", "12582912", 1);
  clt_ctx *ctx = clt_test_ctx_with(NULL, NULL, 0);
  assert_int_equal(ctx->dev.max_alloc, 3u << 20);
  assert_int_equal(ctx->dev.global_mem, 12u << 20);
  clt_ctx_destroy(ctx);
  /* Malformed values are ignored (with a warning); limits are never raised. */
  setenv("CLTRAIN_MAX_ALLOC_BYTES", "lots", 1);
  setenv("CLTRAIN_DEVICE_MEMORY_BYTES", "999999G", 1);
  ctx = clt_test_ctx_with(NULL, NULL, 0);
  assert_int_equal(ctx->dev.max_alloc, clt_test_ctx()->dev.max_alloc);
  assert_int_equal(ctx->dev.global_mem, clt_test_ctx()->dev.global_mem);
  clt_ctx_destroy(ctx);
  unsetenv("CLTRAIN_MAX_ALLOC_BYTES");
  unsetenv("CLTRAIN_DEVICE_MEMORY_BYTES");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split_trains_bit_identically),
      cmocka_unit_test(test_over_global_fails_before_allocating),
      cmocka_unit_test(test_auto_batch),
      cmocka_unit_test(test_env_limits),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
