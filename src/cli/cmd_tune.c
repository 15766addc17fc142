/* cltrain tune [MODEL]: for each GEMM shape of one training step of MODEL, times every
 * engine SGEMM variant of the wide candidate list and CLBlast on the device and stores the
 * fastest as that shape's choice (runtime/gemm_choose.h), which every later run on the same
 * device and driver reuses. --clblast: instead, searches CLBlast's own kernel parameters
 * (runtime/gemm_tune.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cli/model_search.h"
#include "nn/network.h"
#include "runtime/gemm_choose.h"
#include "runtime/gemm_tune.h"
#include "runtime/clock.h"
#include "runtime/memory.h"
#include "runtime/profile.h"

typedef struct tune_options {
  clt_device_options dev;
  const char *model;
  int batch, max_candidates, force, quiet, clblast;
} tune_options;

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain tune [MODEL] [options]\n\n"
          "Times, for each GEMM shape of one training step of MODEL (a model file or a name\n"
          "in models/; default fashion_cnn), every engine SGEMM kernel variant of the wide\n"
          "search and CLBlast, and stores the fastest per shape for this device and driver in\n"
          "the cache folder (gemm-choice-*.txt); later runs reuse them. A first run chooses\n"
          "among a few variants by itself: tune searches wider.\n"
          "  --batch N            samples per step (default: the model's)\n"
          "  --clblast            search CLBlast's own SGEMM parameters (Xgemm) instead and\n"
          "                       store them (gemm-tune-*.txt; applied at start-up unless\n"
          "                       $CLTRAIN_GEMM_TUNE=0); with a stored result it only reports\n"
          "                       it. Slow: each candidate is a kernel compile\n"
          "  --max-candidates N   with --clblast: parameter sets to time at most (default 40)\n"
          "  --force              with --clblast: search again even when a result is stored\n"
          "  --quiet              no line per candidate\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_args(int argc, char **argv, tune_options *o) {
  enum { O_BATCH = 1, O_MAX, O_FORCE, O_QUIET, O_CLBLAST, O_HELP };
  static const struct option longopts[] = {{"batch", required_argument, NULL, O_BATCH},
                                           {"max-candidates", required_argument, NULL, O_MAX},
                                           {"force", no_argument, NULL, O_FORCE},
                                           {"quiet", no_argument, NULL, O_QUIET},
                                           {"clblast", no_argument, NULL, O_CLBLAST},
                                           {"help", no_argument, NULL, O_HELP},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->max_candidates = 40;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_BATCH:
    case O_MAX:
      if (clt_cli_int("tune", opt == O_BATCH ? "--batch" : "--max-candidates", optarg, 1,
                      opt == O_BATCH ? 1 << 20 : 1000,
                      opt == O_BATCH ? &o->batch : &o->max_candidates))
        return CLT_EXIT_USAGE;
      break;
    case O_FORCE:
      o->force = 1;
      break;
    case O_QUIET:
      o->quiet = 1;
      break;
    case O_CLBLAST:
      o->clblast = 1;
      break;
    case 'h':
    case O_HELP:
      help(stdout);
      return CLT_EXIT_OK;
    default:
      return clt_cli_bad_option("tune", argv, opt);
    }
  }
  if (optind < argc - 1) {
    fprintf(stderr, "cltrain tune: give at most one MODEL; see 'cltrain tune --help'\n");
    return CLT_EXIT_USAGE;
  }
  o->model = optind < argc ? argv[optind] : "fashion_cnn";
  return -1;
}

/* The SGEMM calls of one training step (forward and backward), from the profiler's
 * kernel names "SCOPE/sgemm_TT MxNxK". */
static clt_status collect_shapes(clt_network *net, clt_gemm_shape **out, int *count) {
  clt_ctx *ctx = net->ctx;
  /* The device defaults while collecting: no choosing by timing here. */
  clt_gemm_variant def;
  clt_gemm_default_variant(&ctx->dev, &def);
  clt_gemm_force(ctx, &def);
  size_t in = clt_shape_size(net->model->input) * (size_t)net->batch;
  CLT_TRY(clt_buffer_zero(ctx, net->input, 0, in * sizeof(float)));
  CLT_TRY(clt_buffer_zero(ctx, net->labels, 0, (size_t)net->batch * sizeof(int32_t)));
  CLT_TRY(clt_profiler_start(ctx));
  clt_status st = clt_network_zero_grads(net);
  if (st == CLT_OK) st = clt_network_forward(net, net->batch, 1, 0);
  if (st == CLT_OK) st = clt_network_backward(net, net->batch, 0);
  if (st == CLT_OK) st = clt_profiler_collect(ctx);
  clt_profiler *p = ctx->profiler;
  clt_gemm_shape *shapes = st == CLT_OK ? calloc((size_t)p->count + 1, sizeof *shapes) : NULL;
  if (st == CLT_OK && !shapes) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  int n = 0;
  for (int i = 0; st == CLT_OK && i < p->count; i++) {
    const char *k = strchr(p->entries[i].name, '/');
    k = k ? k + 1 : p->entries[i].name;
    char ta, tb;
    size_t m, nn, kk;
    if (sscanf(k, "sgemm_%c%c %zux%zux%zu", &ta, &tb, &m, &nn, &kk) != 5) continue;
    clt_gemm_shape s = {ta == 'T' ? CLT_T : CLT_N, tb == 'T' ? CLT_T : CLT_N, m, nn, kk,
                        (int)p->entries[i].count};
    int j = 0;
    while (j < n && !(shapes[j].ta == s.ta && shapes[j].tb == s.tb && shapes[j].m == s.m &&
                      shapes[j].n == s.n && shapes[j].k == s.k))
      j++;
    if (j < n)
      shapes[j].count += s.count;
    else
      shapes[n++] = s;
  }
  clt_profiler_stop(ctx);
  clt_gemm_force(ctx, NULL);
  if (st != CLT_OK) {
    free(shapes);
    return st;
  }
  *out = shapes;
  *count = n;
  return CLT_OK;
}

/* The set parts of p on one line ("Xgemm ...; XgemmDirect ...; GemmRoutine ..."). */
static void one_line(const clt_gemm_params *p, char *text, size_t size) {
  clt_gemm_params_format(p, text, size);
  size_t len = strlen(text);
  if (len > 0 && text[len - 1] == '\n') text[--len] = '\0';
  for (char *c = text; *c; c++)
    if (*c == '\n') *c = ';';
}

static void report(int index, const clt_gemm_params *p, double seconds, int valid, void *user) {
  (void)valid;
  const double *flops = user;
  char text[1024];
  /* Only the kernel that runs matters: Xgemm alone at threshold 1, XgemmDirect alone at the
   * largest; both in between. */
  clt_gemm_params shown = *p;
  if (p->min_indirect == 1) shown.has_direct = 0;
  if (p->min_indirect >= 65536) shown.has_xgemm = 0;
  one_line(&shown, text, sizeof text);
  if (seconds > 0)
    printf("  %3d  %8.2f ms  %6.1f GFLOP/s  %s\n", index, 1e3 * seconds, *flops / seconds * 1e-9,
           text);
  else
    printf("  %3d  failed            %s\n", index, text);
  fflush(stdout);
}

static clt_status run_clblast(const tune_options *o) {
  char path[4096], tune_path[2048], tune_key[1024];
  clt_cli_model_path(o->model, path, sizeof path);
  clt_model *model = NULL;
  clt_ctx *ctx = NULL;
  clt_network *net = NULL;
  clt_gemm_shape *shapes = NULL;
  int nshapes = 0;
  /* --force measures CLBlast's own defaults first: leave a stored set out. */
  clt_device_options dev = o->dev;
  if (o->force) dev.no_gemm_tune = 1;
  clt_status st = clt_model_load(path, &model);
  if (st == CLT_OK) st = clt_open_device(&dev, 1, &ctx);
  if (st == CLT_OK) clt_gemm_tune_key(ctx, tune_key, sizeof tune_key);
  if (st == CLT_OK && clt_gemm_tune_path(ctx, tune_path, sizeof tune_path) != 0)
    st = clt_fail(CLT_ERR_IO, "no cache folder for the tuning file (set CLTRAIN_CACHE_DIR)");
  if (st == CLT_OK) {
    clt_gemm_params stored;
    int tuned = 0;
    if (!o->force && clt_gemm_tune_load(tune_path, tune_key, &stored, &tuned)) {
      char text[1024] = "CLBlast's defaults (nothing faster was found)";
      if (tuned) one_line(&stored, text, sizeof text);
      printf("%s: %s\nstored in %s (applied at start-up: %s); 'cltrain tune --force' searches "
             "again\n",
             ctx->dev.name, text, tune_path, ctx->gemm_tuned ? "yes" : "no");
      clt_ctx_destroy(ctx);
      clt_model_free(model);
      return CLT_OK;
    }
  }
  if (st == CLT_OK) {
    int batch = o->batch > 0 ? o->batch : model->recipe.batch;
    st = clt_network_create(model, ctx, batch, 0, model->recipe.seed, &net);
  }
  if (st == CLT_OK) st = collect_shapes(net, &shapes, &nshapes);
  double flops = 0;
  if (st == CLT_OK) {
    printf("tuning CLBlast SGEMM (Xgemm) on %s (driver %s) for %s, batch %d: %d shapes\n",
           ctx->dev.name, ctx->dev.driver_version, o->model, net->batch, nshapes);
    for (int i = 0; i < nshapes; i++) {
      const clt_gemm_shape *s = &shapes[i];
      printf("  %c%c %zux%zux%zu x%d\n", s->ta == CLT_T ? 'T' : 'N', s->tb == CLT_T ? 'T' : 'N',
             s->m, s->n, s->k, s->count);
      flops += 2.0 * (double)s->m * (double)s->n * (double)s->k * s->count;
    }
    if (ctx->gemm_tuned)
      printf("note: stored parameters were in force at start-up; the 'defaults' time below is "
             "theirs\n");
  }
  double def = 0, best_s = 0;
  clt_gemm_params best;
  if (st == CLT_OK)
    st = clt_gemm_tune_search(ctx, shapes, nshapes, o->max_candidates, o->quiet ? NULL : report,
                              &flops, &def, &best, &best_s);
  if (st == CLT_OK) {
    char text[1024], comment[1024];
    one_line(&best, text, sizeof text);
    int better = best_s > 0 && best_s < 0.97 * def;
    printf("defaults: %.2f ms (%.1f GFLOP/s); best: %.2f ms (%.1f GFLOP/s), %.2fx\n%s\n", 1e3 * def,
           flops / def * 1e-9, 1e3 * best_s, best_s > 0 ? flops / best_s * 1e-9 : 0.0,
           best_s > 0 ? def / best_s : 0.0,
           better ? text : "keeping CLBlast's defaults (no set was 3% faster)");
    snprintf(comment, sizeof comment, "%s, driver %s; %s batch %d: %.2f ms -> %.2f ms",
             ctx->dev.name, ctx->dev.driver_version, o->model, net->batch, 1e3 * def,
             1e3 * (better ? best_s : def));
    st = clt_gemm_tune_save(tune_path, tune_key, better ? &best : NULL, comment);
    if (st == CLT_OK) printf("stored in %s\n", tune_path);
  }
  free(shapes);
  clt_network_destroy(net);
  clt_ctx_destroy(ctx);
  clt_model_free(model);
  return st;
}

typedef struct shape_report {
  int quiet;
  double flops, default_s, clblast_s;
  clt_gemm_variant def;
} shape_report;

static void report_variant(const clt_gemm_variant *v, double seconds, void *user) {
  shape_report *r = user;
  if (memcmp(v, &r->def, sizeof *v) == 0) r->default_s = seconds;
  if (v->kind == CLT_GEMM_CLBLAST) r->clblast_s = seconds;
  if (r->quiet) return;
  char name[48];
  clt_gemm_variant_name(v, name, sizeof name);
  printf("    %-22s %9.3f ms %7.1f GFLOP/s\n", name, 1e3 * seconds, r->flops / seconds * 1e-9);
}

/* Every shape over the wide candidates; the winners stored. */
static clt_status run_engine(const tune_options *o) {
  char path[4096], store[4096];
  clt_cli_model_path(o->model, path, sizeof path);
  clt_model *model = NULL;
  clt_ctx *ctx = NULL;
  clt_network *net = NULL;
  clt_gemm_shape *shapes = NULL;
  int nshapes = 0;
  double t0 = clt_now_seconds();
  clt_status st = clt_model_load(path, &model);
  if (st == CLT_OK) st = clt_open_device(&o->dev, 1, &ctx);
  if (st == CLT_OK && clt_gemm_choices_path(ctx, store, sizeof store) != 0)
    st = clt_fail(CLT_ERR_IO, "no cache folder for the GEMM choices (set CLTRAIN_CACHE_DIR, and "
                              "leave the kernel cache on)");
  if (st == CLT_OK) {
    int batch = o->batch > 0 ? o->batch : model->recipe.batch;
    st = clt_network_create(model, ctx, batch, 0, model->recipe.seed, &net);
  }
  if (st == CLT_OK) st = collect_shapes(net, &shapes, &nshapes);
  clt_gemm_variant cands[96];
  int ncands = st == CLT_OK ? clt_gemm_candidates(&ctx->dev, 1, cands, 96) : 0;
  if (st == CLT_OK)
    printf("choosing SGEMM kernels on %s (driver %s) for %s, batch %d: %d shapes, %d candidates "
           "each\n",
           ctx->dev.name, ctx->dev.driver_version, o->model, net->batch, nshapes, ncands);
  double total_def = 0, total_best = 0, total_clb = 0, flops_all = 0;
  for (int i = 0; i < nshapes && st == CLT_OK; i++) {
    const clt_gemm_shape *s = &shapes[i];
    shape_report r;
    memset(&r, 0, sizeof r);
    r.quiet = o->quiet;
    r.flops = 2.0 * (double)s->m * (double)s->n * (double)s->k;
    clt_gemm_default_variant(&ctx->dev, &r.def);
    if (!o->quiet)
      printf("  %c%c %zux%zux%zu x%d\n", s->ta == CLT_T ? 'T' : 'N', s->tb == CLT_T ? 'T' : 'N',
             s->m, s->n, s->k, s->count);
    clt_gemm_choice best;
    st = clt_gemm_tune_shape(ctx, s->ta, s->tb, s->m, s->n, s->k, cands, ncands, report_variant, &r,
                             &best);
    if (st != CLT_OK) break;
    char name[48];
    clt_gemm_variant_name(&best.variant, name, sizeof name);
    printf("  %c%c %zux%zux%zu: %s %.3f ms (%.1f GFLOP/s); default %.3f ms, CLBlast %.3f ms\n",
           s->ta == CLT_T ? 'T' : 'N', s->tb == CLT_T ? 'T' : 'N', s->m, s->n, s->k, name,
           1e3 * best.seconds, r.flops / best.seconds * 1e-9, 1e3 * r.default_s, 1e3 * r.clblast_s);
    fflush(stdout);
    total_def += r.default_s * s->count;
    total_best += best.seconds * s->count;
    total_clb += r.clblast_s * s->count;
    flops_all += r.flops * s->count;
  }
  if (st == CLT_OK)
    printf("one step's SGEMMs: %.2f ms (%.1f GFLOP/s) with the choices; default kernel %.2f ms, "
           "CLBlast %.2f ms\nstored in %s (%.0f s)\n",
           1e3 * total_best, flops_all / total_best * 1e-9, 1e3 * total_def, 1e3 * total_clb, store,
           clt_now_seconds() - t0);
  free(shapes);
  clt_network_destroy(net);
  clt_ctx_destroy(ctx);
  clt_model_free(model);
  return st;
}

static clt_status run(const tune_options *o) {
  return o->clblast ? run_clblast(o) : run_engine(o);
}

int clt_cmd_tune(int argc, char **argv) {
  tune_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) return rc;
  clt_cli_device_env(&o.dev, 1);
  clt_status st = run(&o);
  if (st != CLT_OK) return clt_report_failure(st);
  return CLT_EXIT_OK;
}
