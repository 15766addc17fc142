/* augment/<case>: the training-data augmentation kernel (cl/augment.cl through
 * train/augment.h) against the host reference (src/ref/ref_augment.c) on odd image sizes,
 * 1 and 3 channels, crop padding up to 4 with and without flip, a batch smaller than the
 * one planned and two global steps.
 *
 * Tolerance: exact. The transform moves floats and writes zeros, with the draws from the
 * integer generator of docs/INTERNALS.md: any difference is a wrong index or a wrong draw.
 * The output carries sentinels past its end, so a missing index guard shows. */
#include <stdio.h>
#include <stdlib.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "nn/recipe.h"
#include "ref/ref_augment.h"
#include "runtime/memory.h"
#include "train/augment.h"

typedef struct augment_case {
  const char *name;
  int h, w, c, pad, flip;
  int batch, n; /* planned batch, samples augmented */
  int quick;
} augment_case;

static const augment_case cases[] = {
    {"crop4-flip-9x7x3", 9, 7, 3, 4, 1, 19, 19, 1},
    {"crop2-28x28x1-partial-batch", 28, 28, 1, 2, 0, 37, 23, 0},
    {"flip-5x11x1", 5, 11, 1, 0, 1, 33, 33, 0},
    {"crop1-flip-3x3x2", 3, 3, 2, 1, 1, 65, 65, 0},
};

static clt_status run_step(const clt_check_env *env, const augment_case *ac, uint32_t step,
                           clt_check_result *r) {
  clt_recipe rec;
  clt_recipe_defaults(&rec);
  rec.in_h = ac->h;
  rec.in_w = ac->w;
  rec.in_c = ac->c;
  rec.augment_crop = ac->pad;
  rec.augment_flip = ac->flip ? CLT_FLIP_HORIZONTAL : CLT_FLIP_NONE;
  rec.seed = 4242u + step;
  size_t count = (size_t)ac->n * ac->h * ac->w * ac->c;
  double *x = clt_check_alloc(count), *got = clt_check_alloc(count), *want = clt_check_alloc(count);
  float *xf = malloc((count ? count : 1) * sizeof *xf),
        *wf = malloc((count ? count : 1) * sizeof *wf);
  clt_augmenter aug;
  cl_mem y = NULL;
  clt_status st = x && got && want && xf && wf ? CLT_OK : clt_check_oom();
  if (st == CLT_OK) st = clt_augmenter_create(env->ctx, &rec, ac->batch, &aug);
  if (st == CLT_OK) {
    clt_check_fill(x, count, 0.5, 1.5, 77u, step); /* nonzero: a missed zero shows */
    for (size_t i = 0; i < count; i++) xf[i] = (float)x[i];
    st = clt_buffer_write(env->ctx, clt_augmenter_target(&aug, NULL), 0, count * sizeof *xf, xf);
  }
  if (st == CLT_OK) st = clt_check_upload(env->ctx, NULL, count, CHECK_PAD, &y); /* junk */
  if (st == CLT_OK) st = clt_augmenter_apply(&aug, env->ctx, y, ac->n, step, 0);
  if (st == CLT_OK) st = clt_check_download(env->ctx, y, count, got);
  if (st == CLT_OK) {
    clt_ref_augment(xf, wf, ac->n, ac->h, ac->w, ac->c, ac->pad, ac->flip, rec.seed, step);
    for (size_t i = 0; i < count; i++) want[i] = wf[i];
    char what[64];
    snprintf(what, sizeof what, "batch of step %u", step);
    clt_check_compare(r, what, got, want, count, 1.0, 0.0);
    st = clt_check_tail(env->ctx, y, count, CHECK_PAD, what, r);
  }
  clt_ctx_finish(env->ctx);
  clt_buffer_release(&y);
  clt_augmenter_release(&aug);
  free(x), free(got), free(want), free(xf), free(wf);
  return st;
}

static clt_status run_augment(const clt_check_env *env, const clt_check *check,
                              clt_check_result *r) {
  const augment_case *ac = check->arg;
  CLT_TRY(run_step(env, ac, 0u, r));
  return run_step(env, ac, 123457u, r);
}

clt_status clt_check_add_augment(clt_check_list *list, int quick) {
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    if (quick && !cases[i].quick) continue;
    char name[80];
    snprintf(name, sizeof name, "augment/%s", cases[i].name);
    CLT_TRY(clt_check_add(list, name, "the augmented batch: exact", run_augment, &cases[i], i));
  }
  return CLT_OK;
}
