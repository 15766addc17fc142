/* optim/<kind>: every optimizer kernel (src/optim) against the float64 reference steps
 * (ref_optim.c): 5 steps with fresh random gradients and a learning rate that changes
 * every step, over vectors of 1, 2 x (work-group) + 1 and 1001 floats (--quick: 1 and 37).
 *
 * Tolerance: parameters and optimizer state (v; m and v) within 1e-6 of the largest
 * magnitude of the reference tensor (over the sizes of the row, largest first): each step is a
 * handful of float operations per element (a few ulp, 2^-24 each), and the bias corrections are
 * computed on the host in double; an error in a formula is O(1e-3) or more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "nn/recipe.h"
#include "optim/optimizer.h"
#include "ref/ref.h"
#include "runtime/memory.h"

#define TOL_OPTIM 1e-6
#define STEPS     5

typedef struct optim_case {
  const char *name;
  clt_optimizer kind;
  double momentum;
  int nesterov;
  double weight_decay;
  double beta1, beta2, epsilon; /* 0: the recipe default */
  int quick;
} optim_case;

static const optim_case cases[] = {
    {"sgd", CLT_OPT_SGD, 0.0, 0, 0.0, 0, 0, 0, 1},
    {"sgd-weight-decay", CLT_OPT_SGD, 0.0, 0, 0.01, 0, 0, 0, 0},
    {"sgd-momentum", CLT_OPT_SGD, 0.9, 0, 0.0, 0, 0, 0, 1},
    {"sgd-nesterov-weight-decay", CLT_OPT_SGD, 0.9, 1, 0.001, 0, 0, 0, 0},
    {"adam", CLT_OPT_ADAM, 0.0, 0, 0.0, 0, 0, 0, 1},
    {"adam-weight-decay-betas", CLT_OPT_ADAM, 0.0, 0, 0.01, 0.8, 0.99, 1e-4, 0},
    {"adamw", CLT_OPT_ADAMW, 0.0, 0, CLT_RECIPE_DEFAULT_ADAMW_DECAY, 0, 0, 0, 1},
};

static clt_recipe recipe_of(const optim_case *oc) {
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.optimizer = oc->kind;
  r.momentum = oc->momentum;
  r.nesterov = oc->nesterov;
  r.weight_decay = oc->weight_decay;
  if (oc->beta1 > 0) r.beta1 = oc->beta1;
  if (oc->beta2 > 0) r.beta2 = oc->beta2;
  if (oc->epsilon > 0) r.epsilon = oc->epsilon;
  return r;
}

static void ref_step(const clt_recipe *r, double lr, long t, long n, double *w, const double *g,
                     double *state) {
  if (r->optimizer == CLT_OPT_SGD) {
    clt_ref_sgd p = {r->momentum, r->nesterov, r->weight_decay};
    clt_ref_sgd_step(&p, lr, n, w, g, state);
    return;
  }
  clt_ref_adam p = {r->beta1, r->beta2, r->epsilon, r->weight_decay};
  if (r->optimizer == CLT_OPT_ADAM)
    clt_ref_adam_step(&p, lr, t, n, w, g, state, state + n);
  else
    clt_ref_adamw_step(&p, lr, t, n, w, g, state, state + n);
}

/* Writes a (as floats) into the first n floats of mem. */
static clt_status write_floats(clt_ctx *ctx, cl_mem mem, const double *a, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  if (!f) return clt_check_oom();
  for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
  clt_status st = clt_buffer_write(ctx, mem, 0, n * sizeof *f, f);
  free(f);
  return st;
}

/* floor, or max |a| when larger. */
static double scale_of(const double *a, size_t n, double floor) {
  for (size_t i = 0; i < n; i++) floor = fmax(floor, fabs(a[i]));
  return floor;
}

/* STEPS steps over n floats, compared into r. floors[3] (w, state blocks) carry the largest
 * magnitude of each tensor from one size to the next: a single element can end near 0 by
 * cancellation, and its error is then measured against the tensor's natural scale. */
static clt_status run_size(clt_ctx *ctx, clt_optim *opt, const clt_recipe *rec, size_t n,
                           uint32_t seed, double floors[3], clt_check_result *r) {
  int spp = clt_optim_state_per_param(opt);
  size_t ns = (size_t)spp * n;
  double *w = clt_check_alloc(n), *g = clt_check_alloc(n), *s = clt_check_alloc(ns);
  double *got = clt_check_alloc(ns > n ? ns : n);
  cl_mem dw = NULL, dg = NULL, ds = NULL;
  clt_status st = w && g && s && got ? CLT_OK : clt_check_oom();
  if (st == CLT_OK) {
    clt_check_fill(w, n, -1.0, 1.0, seed, 1u);
    st = clt_check_upload(ctx, w, n, CHECK_PAD, &dw);
  }
  if (st == CLT_OK) st = clt_check_upload(ctx, NULL, n, 0, &dg);
  if (st == CLT_OK && ns) st = clt_check_upload(ctx, s, ns, CHECK_PAD, &ds); /* zeros */
  for (long t = 1; t <= STEPS && st == CLT_OK; t++) {
    clt_check_fill(g, n, -1.0, 1.0, seed, 100u + (uint32_t)t);
    st = write_floats(ctx, dg, g, n);
    double lr = (double)(float)(0.01 * (1.0 + 0.3 * (double)t));
    if (st == CLT_OK) st = clt_optim_step(opt, dw, dg, ds, n, lr, t);
    ref_step(rec, lr, t, (long)n, w, g, s);
  }
  char what[64];
  if (st == CLT_OK) st = clt_check_download(ctx, dw, n, got);
  if (st == CLT_OK) {
    snprintf(what, sizeof what, "w (n=%zu)", n);
    floors[0] = scale_of(w, n, floors[0]);
    clt_check_compare(r, what, got, w, n, floors[0], TOL_OPTIM);
    st = clt_check_tail(ctx, dw, n, CHECK_PAD, what, r);
  }
  if (st == CLT_OK && ns) st = clt_check_download(ctx, ds, ns, got);
  for (int b = 0; st == CLT_OK && b < spp; b++) {
    snprintf(what, sizeof what, "%s (n=%zu)", spp == 1 ? "v" : b == 0 ? "m" : "v", n);
    floors[1 + b] = scale_of(s + (size_t)b * n, n, floors[1 + b]);
    clt_check_compare(r, what, got + (size_t)b * n, s + (size_t)b * n, n, floors[1 + b], TOL_OPTIM);
  }
  if (st == CLT_OK && ns) st = clt_check_tail(ctx, ds, ns, CHECK_PAD, "optimizer state", r);
  clt_ctx_finish(ctx);
  clt_buffer_release(&dw);
  clt_buffer_release(&dg);
  clt_buffer_release(&ds);
  free(w), free(g), free(s), free(got);
  return st;
}

static clt_status run_optim(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const optim_case *oc = check->arg;
  clt_recipe rec = recipe_of(oc);
  clt_optim *opt = NULL;
  CLT_TRY(clt_optim_create(env->ctx, &rec, &opt));
  /* Largest first: its scale is the floor of the smaller ones. */
  size_t sizes[3] = {1001, 2 * env->group + 1, 1};
  if (env->quick) sizes[0] = 0, sizes[1] = 37;
  double floors[3] = {1e-12, 1e-12, 1e-12};
  clt_status st = CLT_OK;
  for (int i = 0; i < 3 && st == CLT_OK; i++)
    if (sizes[i]) st = run_size(env->ctx, opt, &rec, sizes[i], 500u + 31u * (uint32_t)i, floors, r);
  clt_optim_destroy(opt);
  return st;
}

clt_status clt_check_add_optim(clt_check_list *list, int quick) {
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    if (quick && !cases[i].quick) continue;
    char name[80];
    snprintf(name, sizeof name, "optim/%s", cases[i].name);
    CLT_TRY(clt_check_add(list, name, "w, v, m after 5 steps: 1e-6 of max |ref|", run_optim,
                          &cases[i], i));
  }
  return CLT_OK;
}
