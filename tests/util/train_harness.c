/* In-process training runs of train_harness.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "temp_files.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train_harness.h"

void clt_test_make_block_set(int first, int n, clt_dataset *ds) {
  enum { SIDE = CLT_TEST_TRAIN_SIDE };
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

int clt_test_block_data_create(clt_test_block_data *data, int train_n, int val_n) {
  clt_test_make_block_set(0, train_n, &data->train);
  clt_test_make_block_set(train_n, val_n, &data->val);
  data->folder = clt_test_tmpdir_create();
  return data->folder ? 0 : -1;
}

void clt_test_block_data_free(clt_test_block_data *data) {
  clt_dataset_free(&data->train);
  clt_dataset_free(&data->val);
  clt_test_tmpdir_remove();
}

void clt_test_trainee_build(clt_ctx *ctx, const char *text, const char *name, clt_test_trainee *t) {
  memset(t, 0, sizeof *t);
  OK(clt_model_parse(text, strlen(text), name, &t->model));
  t->cfg.recipe = t->model->recipe;
  t->cfg.read_every = 4;
  OK(clt_optim_create(ctx, &t->cfg.recipe, &t->opt));
  OK(clt_network_create(t->model, ctx, t->cfg.recipe.batch, clt_optim_state_per_param(t->opt),
                        t->cfg.recipe.seed, &t->net));
}

void clt_test_trainee_destroy(clt_test_trainee *t) {
  clt_network_destroy(t->net);
  clt_optim_destroy(t->opt);
  clt_model_free(t->model);
  memset(t, 0, sizeof *t);
}

/* What the trainer's callbacks see of the run. */
typedef struct run_ctx {
  const clt_test_run_spec *spec;
  clt_network *net;
  int saved;
  clt_test_run_result *out;
} run_ctx;

static void on_epoch(const clt_epoch_report *r, void *user) {
  clt_test_run_result *out = ((run_ctx *)user)->out;
  if (out->report_count < 8) out->reports[out->report_count++] = *r;
}

static clt_status on_save(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                          void *user) {
  (void)rep;
  (void)new_best;
  run_ctx *rc = user;
  if (pos->global_step != rc->spec->save_at || !rc->spec->save_path) return CLT_OK;
  clt_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  static const char text[] = "[net]\n"; /* the tensors are what these tests are about */
  ck.model_text = (char *)text;
  ck.model_length = strlen(text);
  ck.pos = *pos;
  ck.batch = rc->net->batch;
  clt_status st = clt_checkpoint_capture(rc->net, &ck);
  if (st == CLT_OK) st = clt_checkpoint_write(rc->spec->save_path, &ck);
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

void clt_test_train_run(const clt_test_run_spec *spec, clt_test_run_result *out) {
  memset(out, 0, sizeof *out);
  clt_ctx *ctx = clt_test_ctx();
  clt_test_trainee t;
  clt_test_trainee_build(ctx, spec->text, spec->name, &t);
  t.cfg.force_stream = spec->stream;
  run_ctx rc = {spec, t.net, 0, out};
  clt_train_saving saving;
  memset(&saving, 0, sizeof saving);
  saving.save = on_save;
  saving.user = &rc;
  saving.save_every = 1;
  if (spec->resume_from) {
    clt_checkpoint ck;
    OK(clt_checkpoint_read(spec->resume_from, &ck));
    OK(clt_checkpoint_restore(t.net, &ck, 1));
    saving.start = ck.pos;
    clt_checkpoint_free(&ck);
  }
  clt_train_callbacks cb = {NULL, on_epoch, &rc, NULL};
  OK(clt_train_resumable(t.net, t.opt, spec->train, spec->val, &t.cfg, &cb, &saving));
  if (spec->save_path) assert_true(rc.saved);
  if (spec->evaluate)
    OK(clt_evaluate(t.net, spec->val, spec->stream, &out->eval_loss, &out->eval_accuracy));
  out->params = read_arena(ctx, &t.net->params, &out->params_size);
  out->optimizer = read_arena(ctx, &t.net->optimizer, &out->optimizer_size);
  out->state = read_arena(ctx, &t.net->state, &out->state_size);
  clt_test_trainee_destroy(&t);
}

void clt_test_run_result_free(clt_test_run_result *r) {
  free(r->params);
  free(r->optimizer);
  free(r->state);
}

size_t clt_test_differing_floats(const unsigned char *a, const unsigned char *b, size_t bytes) {
  size_t n = 0;
  for (size_t i = 0; i < bytes; i += sizeof(float)) n += memcmp(a + i, b + i, sizeof(float)) != 0;
  return n;
}
