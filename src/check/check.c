/* The check list and the runner (check.h): they call the groups (check_groups.h), which use
 * the helpers of check_util.c (check_internal.h). */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "runtime/program.h"
#include "runtime/quirks.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the list ---- */

clt_status clt_check_list_build(int quick, clt_check_list *list) {
  memset(list, 0, sizeof *list);
  clt_status st = clt_check_add_build(list, quick);
  if (st == CLT_OK) st = clt_check_add_layers(list, quick);
  if (st == CLT_OK) st = clt_check_add_residual(list, quick);
  if (st == CLT_OK) st = clt_check_add_optim(list, quick);
  if (st == CLT_OK) st = clt_check_add_gemm(list, quick);
  if (st == CLT_OK) st = clt_check_add_train(list, quick);
  if (st == CLT_OK) st = clt_check_add_augment(list, quick);
  if (st != CLT_OK) clt_check_list_free(list);
  return st;
}

void clt_check_list_free(clt_check_list *list) {
  free(list->items);
  memset(list, 0, sizeof *list);
}

static int name_matches(const char *name, const char *pattern) {
  if (fnmatch(pattern, name, 0) == 0) return 1;
  size_t n = strlen(pattern);
  return strncmp(name, pattern, n) == 0 && name[n] == '/'; /* a group name */
}

int clt_check_list_filter(clt_check_list *list, const char *const *patterns, int count) {
  int kept = 0;
  for (int i = 0; i < list->count; i++) {
    int keep = 0;
    for (int p = 0; p < count && !keep; p++) keep = name_matches(list->items[i].name, patterns[p]);
    if (keep) list->items[kept++] = list->items[i];
  }
  list->count = kept;
  return kept;
}

/* ---- results ---- */

/* ---- the runner ---- */

/* A typical 1-D work-group size: that of the activation kernel. */
static size_t typical_group(clt_ctx *ctx) {
  clt_kernel k;
  size_t group = 64;
  if (clt_kernel_create(ctx, "activation.cl", "activation_forward", "", &k) == CLT_OK) {
    group = k.local_1d;
    clt_kernel_release(&k);
  }
  clt_clear_error();
  return group;
}

void clt_check_run_all(clt_ctx *ctx, int quick, const clt_check_list *list,
                       clt_check_result *results, clt_check_progress_fn progress, void *user) {
  clt_check_env env = {ctx, quick, typical_group(ctx), clt_device_quirks(&ctx->dev)};
  for (int i = 0; i < list->count; i++) {
    const clt_check *c = &list->items[i];
    clt_check_result *r = &results[i];
    memset(r, 0, sizeof *r);
    clt_check_result_clear(r);
    if (progress) progress(c, i, list->count, user);
    double t0 = now_seconds();
    clt_clear_error();
    clt_status st = c->run(&env, c, r);
    /* Errors of enqueued work show at the latest here. */
    if (st == CLT_OK)
      st = clt_ctx_finish(ctx);
    else
      clt_ctx_finish(ctx);
    if (st != CLT_OK) {
      const char *msg = clt_last_error();
      clt_check_failf(r, "%s", msg[0] ? msg : clt_status_string(st));
    }
    r->seconds = now_seconds() - t0;
  }
}

void clt_check_fail_all(const clt_check_list *list, clt_check_result *results,
                        const char *message) {
  for (int i = 0; i < list->count; i++) {
    memset(&results[i], 0, sizeof results[i]);
    clt_check_result_clear(&results[i]);
    clt_check_failf(&results[i], "%s", message);
  }
}
