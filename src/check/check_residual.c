/* add/<case> and global_avgpool/<case>: the residual layers on the device against the
 * float64 reference (src/ref/ref_residual.c), as check_layers.c does for the one-input
 * layers. [add] has a second input (the output of the layer its key from names) and adds
 * its skip gradient into the network's accumulator, which check_layers.c's harness does
 * not model; so they have their own rows here (check_layers.c leaves them to this file).
 *
 * One case: the layer built from its section with the skip shape given as the network
 * gives it, random float inputs, parameters and starting gradients; forward, then
 * backward. Compared: y; dx (written over junk); dx2 (the accumulator starts from random
 * values and must end at start + skip gradient); dW (starts random, must end at start +
 * gradient). Every output buffer carries CHECK_PAD sentinels past its end.
 *
 * Tolerance 1e-5 of max |ref|: each value is a float sum of at most C + 1 O(1) terms
 * (one GEMM of depth C or F <= 19), a tanh to a few ulp; an indexing error is O(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "nn/activation.h"
#include "nn/ini.h"
#include "nn/layer.h"
#include "ref/ref.h"
#include "runtime/memory.h"

#define TOL_RESIDUAL 1e-5

enum { DEF = 1, QUICK = 2, BOTH = 3 };

typedef struct residual_case {
  const char *layer, *name;
  int modes;
  int n, h, w, c;   /* input */
  int sh, sw, sc;   /* skip input (add only) */
  const char *keys; /* after "from = src" for add */
  clt_ref_add ref;  /* add only */
} residual_case;

static const residual_case cases[] = {
    {"add",
     "identity-relu",
     BOTH,
     3,
     7,
     5,
     3,
     7,
     5,
     3,
     "activation = relu\n",
     {0, 1, CLT_ACT_RELU, 0.01}},
    {"add", "projection-s2", BOTH, 2, 4, 3, 19, 7, 5, 6, "", {1, 2, CLT_ACT_LINEAR, 0.01}},
    {"add",
     "projection-s1-tanh-batch1",
     DEF,
     1,
     5,
     3,
     7,
     5,
     3,
     13,
     "activation = tanh\n",
     {1, 1, CLT_ACT_TANH, 0.01}},
    {"add",
     "projection-always-s3",
     DEF,
     2,
     3,
     2,
     5,
     7,
     5,
     5,
     "projection = always\n",
     {1, 3, CLT_ACT_LINEAR, 0.01}},
    {"global_avgpool", "7x5x3", BOTH, 3, 7, 5, 3, 0, 0, 0, "", {0}},
    {"global_avgpool", "1x1x13-batch37", DEF, 37, 1, 1, 13, 0, 0, 0, "", {0}},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

int clt_check_residual_covers(const char *layer) {
  return strcmp(layer, "add") == 0 || strcmp(layer, "global_avgpool") == 0;
}

typedef struct tensors {
  size_t nx, ny, ns, nw;
  double *x, *s, *W, *dy, *ds, *dW, *y, *dx, *got; /* ds, dW: start values, then the reference */
  cl_mem bx, bs, bW, bdy, bds, bdW, by, bdx, bws;
} tensors;

static void tensors_free(tensors *t) {
  double *host[] = {t->x, t->s, t->W, t->dy, t->ds, t->dW, t->y, t->dx, t->got};
  for (size_t i = 0; i < sizeof host / sizeof host[0]; i++) free(host[i]);
  cl_mem *dev[] = {&t->bx, &t->bs, &t->bW, &t->bdy, &t->bds, &t->bdW, &t->by, &t->bdx, &t->bws};
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) clt_buffer_release(dev[i]);
}

static int make_host(const residual_case *rc, tensors *t, uint32_t seed) {
  int add = strcmp(rc->layer, "add") == 0;
  t->nx = (size_t)rc->n * rc->h * rc->w * rc->c;
  t->ny = add ? t->nx : (size_t)rc->n * rc->c;
  t->ns = add ? (size_t)rc->n * rc->sh * rc->sw * rc->sc : 1;
  t->nw = add && rc->ref.project ? (size_t)rc->c * rc->sc : 1;
  size_t most = t->nx > t->ns ? t->nx : t->ns;
  t->x = clt_check_alloc(t->nx), t->s = clt_check_alloc(t->ns), t->W = clt_check_alloc(t->nw);
  t->dy = clt_check_alloc(t->ny), t->ds = clt_check_alloc(t->ns), t->dW = clt_check_alloc(t->nw);
  t->y = clt_check_alloc(t->ny), t->dx = clt_check_alloc(t->nx);
  t->got = clt_check_alloc(most > t->nw ? most : t->nw);
  if (!t->x || !t->s || !t->W || !t->dy || !t->ds || !t->dW || !t->y || !t->dx || !t->got) return 0;
  clt_check_fill(t->x, t->nx, -1, 1, seed, 1);
  clt_check_fill(t->s, t->ns, -1, 1, seed, 2);
  clt_check_fill(t->W, t->nw, -0.5, 0.5, seed, 3);
  clt_check_fill(t->dy, t->ny, -1, 1, seed, 4);
  clt_check_fill(t->ds, t->ns, -0.25, 0.25, seed, 5);
  clt_check_fill(t->dW, t->nw, -0.25, 0.25, seed, 6);
  return 1;
}

static clt_status build(const residual_case *rc, const clt_check *check, const clt_layer_ops *ops,
                        clt_ctx *ctx, void **self, clt_layer_sizes *sz) {
  char text[256];
  if (ops->from)
    snprintf(text, sizeof text, "[%s]\nfrom = src\n%s", rc->layer, rc->keys);
  else
    snprintf(text, sizeof text, "[%s]\n%s", rc->layer, rc->keys);
  clt_ini *ini = NULL;
  clt_shape out;
  clt_status st = clt_ini_parse_string(text, check->name, &ini);
  if (st == CLT_OK) st = ops->parse(&ini->sections[0], self);
  if (st == CLT_OK) st = clt_ini_check_unused(&ini->sections[0]);
  if (st == CLT_OK && ops->set_from_shape)
    ops->set_from_shape(*self, (clt_shape){rc->sh, rc->sw, rc->sc});
  if (st == CLT_OK)
    st = ops->infer(*self, &ini->sections[0], (clt_shape){rc->h, rc->w, rc->c}, &out);
  if (st == CLT_OK) ops->sizes(*self, rc->n, sz);
  if (st == CLT_OK) st = ops->prepare(*self, ctx);
  clt_ini_free(ini);
  return st;
}

static clt_status run_device(clt_ctx *ctx, const clt_layer_ops *ops, void *self,
                             const residual_case *rc, const clt_layer_sizes *sz, tensors *t) {
  int add = ops->from != NULL;
  CLT_TRY(clt_check_upload(ctx, t->x, t->nx, 0, &t->bx));
  CLT_TRY(clt_check_upload(ctx, NULL, t->ny, CHECK_PAD, &t->by));
  CLT_TRY(clt_check_upload(ctx, NULL, t->nx, CHECK_PAD, &t->bdx)); /* junk: dx is written */
  if (add) {
    CLT_TRY(clt_check_upload(ctx, t->s, t->ns, 0, &t->bs));
    CLT_TRY(clt_check_upload(ctx, t->ds, t->ns, CHECK_PAD, &t->bds));
  }
  if (sz->param_count) {
    CLT_TRY(clt_check_upload(ctx, t->W, t->nw, 0, &t->bW));
    CLT_TRY(clt_check_upload(ctx, t->dW, t->nw, CHECK_PAD, &t->bdW));
  }
  if (sz->workspace_floats) CLT_TRY(clt_check_upload(ctx, NULL, 0, sz->workspace_floats, &t->bws));
  clt_pass pass;
  memset(&pass, 0, sizeof pass);
  pass.ctx = ctx;
  pass.batch = rc->n;
  pass.training = 1;
  pass.x = t->bx;
  pass.y = t->by;
  pass.x2 = t->bs;
  pass.params[0] = t->bW;
  pass.grads[0] = t->bdW;
  pass.workspace = t->bws;
  CLT_TRY(ops->forward(self, &pass));
  /* Spoil the workspace between the passes: it does not survive (nn/layer.h). */
  if (t->bws) CLT_TRY(clt_check_spoil(ctx, t->bws, sz->workspace_floats));
  CLT_TRY(clt_check_upload(ctx, t->dy, t->ny, 0, &t->bdy)); /* consumed in place */
  pass.dy = t->bdy;
  pass.dx = t->bdx;
  pass.dx2 = t->bds;
  CLT_TRY(ops->backward(self, &pass));
  return clt_ctx_finish(ctx);
}

static clt_status compare(clt_ctx *ctx, const residual_case *rc, const clt_layer_sizes *sz,
                          tensors *t, clt_check_result *r) {
  int add = strcmp(rc->layer, "add") == 0;
  clt_ref_shape in = {rc->n, rc->h, rc->w, rc->c}, skip = {rc->n, rc->sh, rc->sw, rc->sc};
  if (add) {
    if (sz->param_count != rc->ref.project)
      clt_check_failf(r, "the layer reports %d parameter tensors; the reference has %d",
                      sz->param_count, rc->ref.project);
    clt_ref_add_forward(&rc->ref, in, skip, t->x, t->s, t->W, t->y);
    clt_ref_add_backward(&rc->ref, in, skip, t->s, t->W, t->y, t->dy, t->dx, t->ds, t->dW);
  } else {
    clt_ref_global_avgpool_forward(in, t->x, t->y);
    clt_ref_global_avgpool_backward(in, t->dy, t->dx);
  }
  struct {
    const char *what;
    cl_mem mem;
    const double *want;
    size_t n;
  } outs[] = {{"y", t->by, t->y, t->ny},
              {"dx", t->bdx, t->dx, t->nx},
              {"dx2", t->bds, t->ds, t->ns},
              {"dweights", t->bdW, t->dW, t->nw}};
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    if (!outs[i].mem) continue;
    CLT_TRY(clt_check_download(ctx, outs[i].mem, outs[i].n, t->got));
    clt_check_compare(r, outs[i].what, t->got, outs[i].want, outs[i].n, 1e-30, TOL_RESIDUAL);
    CLT_TRY(clt_check_tail(ctx, outs[i].mem, outs[i].n, CHECK_PAD, outs[i].what, r));
  }
  return CLT_OK;
}

static clt_status run_case(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const residual_case *rc = check->arg;
  const clt_layer_ops *ops = clt_layer_find(rc->layer);
  if (!ops) return clt_fail(CLT_ERR_INTERNAL, "no layer type %s", rc->layer);
  void *self = NULL;
  clt_layer_sizes sz;
  memset(&sz, 0, sizeof sz);
  tensors t;
  memset(&t, 0, sizeof t);
  clt_status st = build(rc, check, ops, env->ctx, &self, &sz);
  if (st == CLT_OK && !make_host(rc, &t, 5000u + 31u * (uint32_t)check->index))
    st = clt_check_oom();
  if (st == CLT_OK) st = run_device(env->ctx, ops, self, rc, &sz, &t);
  if (st == CLT_OK) st = compare(env->ctx, rc, &sz, &t, r);
  clt_ctx_finish(env->ctx);
  tensors_free(&t);
  if (self) ops->destroy(self);
  return st;
}

clt_status clt_check_add_residual(clt_check_list *list, int quick) {
  int mode = quick ? QUICK : DEF;
  for (int i = 0; i < CASE_COUNT; i++) {
    if (!(cases[i].modes & mode)) continue;
    char name[80];
    snprintf(name, sizeof name, "%s/%s", cases[i].layer, cases[i].name);
    const char *tol = strcmp(cases[i].layer, "add") == 0 ? "y, dx, dx2, dweights: 1e-5 of max |ref|"
                                                         : "y, dx: 1e-5 of max |ref|";
    CLT_TRY(clt_check_add(list, name, tol, run_case, &cases[i], 100 + i));
  }
  return CLT_OK;
}
