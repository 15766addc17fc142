#include "train/train_memory.h"

#include <math.h>
#include <string.h>

#include "data/idx_peek.h"
#include "train/batch_speed.h"

/* Seconds of timed steps per candidate batch on CPU devices. */
#define SPEED_SECONDS 0.3

/* The batch the run will use, min(recipe batch, training set size), against the device. */
static clt_status check_batch(clt_memory_budget *b, int recipe_batch) {
  int batch = recipe_batch < b->train->n ? recipe_batch : b->train->n;
  if (batch < recipe_batch) b->requested_batch = recipe_batch;
  return clt_budget_check(b, batch);
}

/* CPU devices: the fastest of the powers of two from the smallest candidate to largest (the
 * largest that fits, capped), by images/s of a few steps each, into *batch; the
 * measurements into line. */
static clt_status fastest_batch(clt_model *model, clt_ctx *ctx, clt_optim *opt,
                                int optimizer_blocks, int first, int largest, int *batch,
                                char *line, size_t size) {
  int len =
      snprintf(line, size, "(the fastest of %d..%d measured on this CPU device:", first, largest);
  double best = -1.0;
  for (int c = first; c <= largest; c *= 2) {
    double ips = 0.0;
    CLT_TRY(clt_batch_images_per_second(model, ctx, opt, optimizer_blocks, c, SPEED_SECONDS, &ips));
    if (len >= 0 && (size_t)len < size)
      len += snprintf(line + len, size - (size_t)len, "%s %d: %.0f", c == first ? "" : ",", c, ips);
    if (ips > best) {
      best = ips;
      *batch = c;
    }
  }
  if (len >= 0 && (size_t)len < size) snprintf(line + len, size - (size_t)len, " images/s)");
  return CLT_OK;
}

clt_status clt_train_memory_plan(clt_model *model, clt_ctx *ctx, clt_optim *opt,
                                 int optimizer_blocks, const clt_dataset *train,
                                 const clt_dataset *val, const clt_dataset *test, int force_stream,
                                 int batch_auto, int resumed, FILE *info) {
  clt_memory_budget b = {model, ctx, optimizer_blocks, train, val, test, force_stream, 0};
  clt_recipe *r = &model->recipe;
  if (batch_auto && resumed) {
    fprintf(info, "batch auto: %d, the checkpoint's (a resumed run keeps its batch)\n", r->batch);
  } else if (batch_auto) {
    char line[128];
    CLT_TRY(clt_budget_auto_batch_capped(&b, CLT_AUTO_BATCH_CAP, &r->batch, line, sizeof line));
    int first = train->n > 0 && train->n < CLT_AUTO_BATCH_MIN ? train->n : CLT_AUTO_BATCH_MIN;
    if (ctx->dev.kind == CLT_DEVICE_CPU && opt && r->batch > first) {
      char why[512];
      int largest = r->batch;
      CLT_TRY(fastest_batch(model, ctx, opt, optimizer_blocks, first, largest, &r->batch, why,
                            sizeof why));
      fprintf(info, "batch auto: %d %s\n", r->batch, why);
    } else {
      fprintf(info, "%s (the largest that fits, at most %d)\n", line, CLT_AUTO_BATCH_CAP);
    }
    fflush(info);
  }
  return check_batch(&b, r->batch);
}

/* A data set of n samples of h x w x 1 with no contents: the budget reads only the sizes. */
static clt_dataset sized(int n, int h, int w) {
  clt_dataset ds;
  memset(&ds, 0, sizeof ds);
  ds.n = n;
  ds.h = h;
  ds.w = w;
  ds.c = 1;
  return ds;
}

clt_status clt_train_memory_precheck(const clt_model *model, const clt_ctx *ctx,
                                     int optimizer_blocks, const char *data_dir, int subset,
                                     double val_split, int force_stream) {
  int n, h, w, test_n, test_h, test_w;
  if (clt_idx_peek_images(data_dir, 0, &n, &h, &w) != 0 ||
      clt_idx_peek_images(data_dir, 1, &test_n, &test_h, &test_w) != 0)
    return CLT_OK; /* loading the data will say what is wrong */
  if (h != model->input.h || w != model->input.w || model->input.c != 1 || test_h != h ||
      test_w != w || !(val_split >= 0.0 && val_split < 1.0))
    return CLT_OK;
  if (subset > 0 && subset < n) n = subset;
  if (subset > 0 && subset < test_n) test_n = subset;
  int n_val = (int)floor((double)n * val_split + 0.5); /* as clt_dataset_split */
  if (n_val >= n) return CLT_OK;
  clt_dataset train = sized(n - n_val, h, w), val = sized(n_val, h, w);
  clt_dataset test = sized(test_n, h, w);
  clt_memory_budget b = {model, ctx, optimizer_blocks, &train, &val, &test, force_stream, 0};
  return check_batch(&b, model->recipe.batch);
}
