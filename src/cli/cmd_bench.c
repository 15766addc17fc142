/* cltrain bench MODEL: training and inference throughput on synthetic data, the
 * time of a step by layer and pass from OpenCL profiling events, GFLOP/s set against
 * a ceiling (OpenBLAS's SGEMM 1024^3 as measured by tools/gemm_bench.c when stored, else the
 * device's own SGEMM 1024^3), which GEMM kernel each layer and pass ran, launches and
 * host<->device bytes per step,
 * and the start-up time of a fresh process with and without the program cache. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/bench_data.h"
#include "cli/bench_epoch.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/bench_profile.h"
#include "cli/bench_replicas.h"
#include "cli/exit_codes.h"
#include "cli/mpi_launch.h"
#include "cli/model_search.h"
#include "train/gemm_notes.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "runtime/gemm.h"
#include "runtime/gemm_choose.h"
#include "runtime/program_cache.h"
#include "runtime/memory.h"
#include "runtime/profile.h"
#include "train/augment.h"
#include "train/device_data.h"
#include "train/replicas.h"
#include "train/train_step.h"
#include "runtime/clock.h"

typedef struct bench_options {
  clt_device_options dev;
  const char *model;
  int batch, steps, windows, json, startup, stream;
  int train_only;     /* --train-only: training windows only (tools/bench-vs-pytorch) */
  int startup_child;  /* internal: print the clock at the end of the first step and exit */
  const char *data;   /* --data DIR: train epochs on this data set (its training split) */
  int subset, epochs; /* --subset N: its first N samples; --epochs N: epochs to time */
  int bucket_kib;     /* --bucket-kib N: data-parallel gradient buckets; 0: the default */
} bench_options;

static void help(FILE *out) {
  fprintf(out, "usage: cltrain bench MODEL [options]\n\n"
               "Measures MODEL (a model file, or the name of one in models/: fashion_cnn) on\n"
               "random data of its input shape: training and inference images/s (median, min\n"
               "and max of timed windows after a warm-up), device time per step by layer and\n"
               "pass, each SGEMM with its kernel and GFLOP/s against a ceiling (OpenBLAS's\n"
               "SGEMM 1024^3 when build/gemm-bench stored it, else the device's), launches and\n"
               "host<->device bytes per step, start-up time to the first step, and the data\n"
               "wait: how long the compute queue stood idle waiting for its batch.\n"
               "  --batch N            samples per step (default: the model's)\n"
               "  --steps N            steps per timed window (default 20)\n"
               "  --windows N          timed windows (default 5)\n"
               "  --stream             stream batches from the host instead of a resident set\n"
               "  --data DIR           also train whole epochs on this data set (IDX or CIFAR-10\n"
               "                       binary folder; its training files), timed, with the time\n"
               "                       the compute queue waited for data per epoch\n"
               "  --subset N           with --data: only its first N training samples\n"
               "  --epochs N           with --data: epochs to time (default 1)\n"
               "  --no-startup         skip the start-up measurement (two child processes)\n"
               "  --train-only         only the training windows (no inference, profile, ceiling)\n"
               "  --json               one JSON object on stdout\n"
               "Several devices (--device A,B or all) or under mpirun: data-parallel steps\n"
               "instead, each split into compute, reduction not hidden, reduction hidden and\n"
               "wait (the report says what each is); --batch, --steps x --windows steps, and\n"
               "  --bucket-kib N       gradient buckets of about N KiB (default "
               "64)\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_args(int argc, char **argv, bench_options *o) {
  enum {
    O_BATCH = 1,
    O_STEPS,
    O_WINDOWS,
    O_JSON,
    O_NO_STARTUP,
    O_STREAM,
    O_TRAIN_ONLY,
    O_CHILD,
    O_HELP,
    O_DATA,
    O_SUBSET,
    O_EPOCHS,
    O_BUCKET
  };
  static const struct option longopts[] = {{"batch", required_argument, NULL, O_BATCH},
                                           {"steps", required_argument, NULL, O_STEPS},
                                           {"windows", required_argument, NULL, O_WINDOWS},
                                           {"json", no_argument, NULL, O_JSON},
                                           {"no-startup", no_argument, NULL, O_NO_STARTUP},
                                           {"stream", no_argument, NULL, O_STREAM},
                                           {"train-only", no_argument, NULL, O_TRAIN_ONLY},
                                           {"startup-child", no_argument, NULL, O_CHILD},
                                           {"help", no_argument, NULL, O_HELP},
                                           {"data", required_argument, NULL, O_DATA},
                                           {"subset", required_argument, NULL, O_SUBSET},
                                           {"epochs", required_argument, NULL, O_EPOCHS},
                                           {"bucket-kib", required_argument, NULL, O_BUCKET},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->steps = 20;
  o->windows = 5;
  o->startup = 1;
  o->epochs = 1;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_BATCH:
      if (clt_cli_int("bench", "--batch", optarg, 1, 1 << 20, &o->batch)) return CLT_EXIT_USAGE;
      break;
    case O_STEPS:
      if (clt_cli_int("bench", "--steps", optarg, 1, 100000, &o->steps)) return CLT_EXIT_USAGE;
      break;
    case O_WINDOWS:
      if (clt_cli_int("bench", "--windows", optarg, 1, 1000, &o->windows)) return CLT_EXIT_USAGE;
      break;
    case O_JSON:
      o->json = 1;
      break;
    case O_NO_STARTUP:
      o->startup = 0;
      break;
    case O_STREAM:
      o->stream = 1;
      break;
    case O_TRAIN_ONLY:
      o->train_only = 1;
      o->startup = 0;
      break;
    case O_CHILD:
      o->startup_child = 1;
      break;
    case O_DATA:
      o->data = optarg;
      break;
    case O_SUBSET:
      if (clt_cli_int("bench", "--subset", optarg, 1, 1 << 30, &o->subset)) return CLT_EXIT_USAGE;
      break;
    case O_EPOCHS:
      if (clt_cli_int("bench", "--epochs", optarg, 1, 1000, &o->epochs)) return CLT_EXIT_USAGE;
      break;
    case O_BUCKET:
      if (clt_cli_int("bench", "--bucket-kib", optarg, 1, CLT_BUCKET_KIB_MAX, &o->bucket_kib))
        return CLT_EXIT_USAGE;
      break;
    case 'h':
    case O_HELP:
      help(stdout);
      return CLT_EXIT_OK;
    default:
      return clt_cli_bad_option("bench", argv, opt);
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "cltrain bench: give one MODEL; see 'cltrain bench --help'\n");
    return CLT_EXIT_USAGE;
  }
  o->model = argv[optind];
  return -1;
}

/* ---- statistics ---- */

typedef struct stats {
  double median, min, max;
} stats;

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static stats stats_of(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  stats s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
  return s;
}

/* ---- the benchmark ---- */

typedef struct bench_state {
  clt_model *model;
  clt_ctx *ctx;
  clt_optim *opt;
  clt_network *net;
  clt_dataset data;
  clt_device_data *dd;
  int32_t *order;
  long step;
  long loads;              /* batches loaded: the next one is next_start() */
  clt_data_wait wait;      /* of the timed training windows */
  clt_bench_epoch *epochs; /* [o->epochs] with --data */
  int resident;            /* the data were resident on the device (else streamed) */
  clt_augmenter augment;   /* the model's [augment], on training steps as in clt_train */
} bench_state;

/* The whole batches of the data in turn, as training reads them (streamed data stage the
 * next batch in order ahead of time). With --data and a set that is not a whole number of
 * batches, the wrap from the last whole batch to the first is out of order: that one load
 * stages its batch on demand and may wait (the epochs, run by the trainer, do not). */
static int next_start(bench_state *b) {
  int batches = b->data.n / b->net->batch;
  return (int)(b->loads++ % batches) * b->net->batch;
}

/* One training step as clt_train runs it (batch load, zeroed gradients, forward,
 * backward, optimizer), without the periodic metric read-back. */
static clt_status train_step(bench_state *b) {
  clt_network *net = b->net;
  clt_profiler_scope(b->ctx, "data");
  CLT_TRY(clt_device_data_load(b->dd, next_start(b), net->batch,
                               clt_augmenter_target(&b->augment, net->input), net->labels));
  if (b->augment.active) {
    clt_profiler_scope(b->ctx, "augment");
    CLT_TRY(clt_augmenter_apply(&b->augment, b->ctx, net->input, net->batch, (uint32_t)b->step, 0));
  }
  CLT_TRY(clt_train_step(net, b->opt, net->batch, b->step, 1e-4, NULL));
  b->step++;
  return CLT_OK;
}

static clt_status infer_step(bench_state *b) {
  CLT_TRY(clt_device_data_load(b->dd, next_start(b), b->net->batch, b->net->input, b->net->labels));
  return clt_network_forward(b->net, b->net->batch, 0, 0);
}

/* Synthetic data (cli/bench_data.h): 4 batches. */
static clt_status make_data(bench_state *b, int force_stream) {
  CLT_TRY(clt_bench_synthetic_data(b->model, 4 * b->net->batch, &b->data, &b->order));
  CLT_TRY(clt_device_data_create(b->ctx, &b->data, b->net->batch, force_stream, &b->dd));
  return clt_device_data_set_order(b->dd, b->order);
}

/* The training split of o->data (its first o->subset samples), checked against the model. */
static clt_status load_data(bench_state *b, const bench_options *o) {
  const clt_model *m = b->model;
  const clt_data_expect expect = {m->input.h, m->input.w, m->input.c}; /* image folders: fitted */
  CLT_TRY(clt_dataset_load_dir_for(o->data, 0, &expect, &b->data));
  if (o->subset && o->subset < b->data.n)
    CLT_TRY(clt_dataset_subset(&b->data, 0, o->subset, &b->data));
  if (b->data.h != m->input.h || b->data.w != m->input.w || b->data.c != m->input.c)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s takes %dx%dx%d inputs but the data in %s are %dx%dx%d; use a model made "
                    "for this data",
                    o->model, m->input.h, m->input.w, m->input.c, o->data, b->data.h, b->data.w,
                    b->data.c);
  if (b->data.classes > m->classes)
    return clt_fail(CLT_ERR_BAD_DATA, "the data in %s have %d classes but %s has %d outputs",
                    o->data, b->data.classes, o->model, m->classes);
  if (b->data.n < b->net->batch)
    return clt_fail(CLT_ERR_USAGE, "%s: %d samples, fewer than one batch of %d; use more data",
                    o->data, b->data.n, b->net->batch);
  b->order = malloc((size_t)b->data.n * sizeof(int32_t));
  if (!b->order) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the order");
  for (int i = 0; i < b->data.n; i++) b->order[i] = i;
  CLT_TRY(clt_device_data_create(b->ctx, &b->data, b->net->batch, o->stream, &b->dd));
  return clt_device_data_set_order(b->dd, b->order);
}

/* o->epochs whole epochs of o->data with the trainer, each with its data wait. */
static clt_status run_epochs(bench_state *b, const bench_options *o) {
  /* The trainer makes its own copy on the device: free this one first. */
  CLT_TRY(clt_ctx_finish(b->ctx));
  clt_device_data_destroy(b->dd);
  b->dd = NULL;
  b->epochs = calloc((size_t)o->epochs, sizeof *b->epochs);
  if (!b->epochs) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  return clt_bench_epochs_run(b->net, b->opt, &b->data, &b->model->recipe, o->epochs, o->stream,
                              b->epochs);
}

typedef struct startup_times {
  double load, device, network, gemm_warm_up, data, first_step, total;
  double gemm_select; /* of which choosing GEMM kernels by timing (gemm_choose.h) */
  int gemm_select_shapes;
  double conv_select;   /* and conv algorithms (nn/layers/conv_choose.h) */
  char conv_algos[512]; /* "1 conv direct, 3 conv implicit" (each conv layer's algorithm) */
} startup_times;

static clt_status setup(const bench_options *o, bench_state *b, startup_times *t, double t0) {
  char path[4096];
  clt_cli_model_path(o->model, path, sizeof path);
  CLT_TRY(clt_model_load(path, &b->model));
  t->load = clt_now_seconds() - t0;
  CLT_TRY(clt_open_device(&o->dev, 1, &b->ctx));
  t->device = clt_now_seconds() - t0;
  CLT_TRY(clt_optim_create(b->ctx, &b->model->recipe, &b->opt));
  int batch = o->batch > 0 ? o->batch : b->model->recipe.batch;
  CLT_TRY(clt_network_create(b->model, b->ctx, batch, clt_optim_state_per_param(b->opt),
                             b->model->recipe.seed, &b->net));
  t->network = clt_now_seconds() - t0;
  CLT_TRY(clt_gemm_warm_up(b->ctx));
  t->gemm_warm_up = clt_now_seconds() - t0;
  CLT_TRY(o->data ? load_data(b, o) : make_data(b, o->stream));
  t->data = clt_now_seconds() - t0;
  CLT_TRY(train_step(b));
  CLT_TRY(clt_ctx_finish(b->ctx));
  t->first_step = clt_now_seconds() - t0;
  t->total = t->first_step;
  t->gemm_select = clt_gemm_selection_seconds(b->ctx, &t->gemm_select_shapes);
  t->conv_select = b->ctx->conv_select_seconds;
  clt_bench_conv_algorithms(b->model, t->conv_algos, sizeof t->conv_algos);
  return CLT_OK;
}

static void teardown(bench_state *b) {
  if (b->ctx) clt_ctx_finish(b->ctx);
  clt_device_data_destroy(b->dd);
  clt_augmenter_release(&b->augment);
  clt_dataset_free(&b->data);
  free(b->order);
  clt_data_wait_free(&b->wait);
  free(b->epochs);
  clt_network_destroy(b->net);
  clt_optim_destroy(b->opt);
  if (b->ctx) clt_profiler_stop(b->ctx);
  clt_ctx_destroy(b->ctx);
  clt_model_free(b->model);
}

/* images/s of windows of steps each. */
static clt_status time_windows(bench_state *b, int training, int windows, int steps, stats *out) {
  double *v = malloc((size_t)windows * sizeof *v);
  if (!v) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  clt_status st = CLT_OK;
  for (int w = 0; w < windows && st == CLT_OK; w++) {
    double t = clt_now_seconds();
    for (int s = 0; s < steps && st == CLT_OK; s++) st = training ? train_step(b) : infer_step(b);
    if (st == CLT_OK) st = clt_ctx_finish(b->ctx);
    v[w] = (double)steps * b->net->batch / (clt_now_seconds() - t);
  }
  if (st == CLT_OK) *out = stats_of(v, windows);
  free(v);
  return st;
}

/* ---- the device's GEMM ceiling ---- */

/* The OpenBLAS SGEMM 1024^3 figure that tools/gemm_bench.c stored in the cache folder for this
 * host ("openblas-ceiling.txt": GFLOP/s, then how it was measured); 0 when absent. */
static double openblas_ceiling(const clt_ctx *ctx, char *how, size_t size) {
  char dir[1024], path[1200], line[512];
  if (ctx->cache_dir[0])
    snprintf(dir, sizeof dir, "%s", ctx->cache_dir);
  else if (clt_cache_default_dir(dir, sizeof dir, getenv) != 0)
    return 0;
  snprintf(path, sizeof path, "%s/openblas-ceiling.txt", dir);
  FILE *f = fopen(path, "r");
  double g = 0;
  if (f && fgets(line, sizeof line, f) && sscanf(line, "%lf", &g) == 1 && g > 0) {
    const char *rest = strchr(line, ' ');
    snprintf(how, size, "%s", rest ? rest + 1 : "");
    how[strcspn(how, "\n")] = '\0';
  } else {
    g = 0;
  }
  if (f) fclose(f);
  return g;
}

static clt_status gemm_ceiling(clt_ctx *ctx, size_t s, int reps, stats *gflops) {
  size_t bytes = s * s * sizeof(float);
  cl_mem a = NULL, bb = NULL, c = NULL;
  double v[16];
  if (reps > 16) reps = 16;
  clt_status st = clt_buffer_create(ctx, bytes, &a);
  if (st == CLT_OK) st = clt_buffer_create(ctx, bytes, &bb);
  if (st == CLT_OK) st = clt_buffer_create(ctx, bytes, &c);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, a, 0, bytes);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, bb, 0, bytes);
  for (int r = -1; r < reps && st == CLT_OK; r++) {
    double t = clt_now_seconds();
    st = clt_sgemm(ctx, CLT_N, CLT_N, s, s, s, 1.0f, a, 0, s, bb, 0, s, 0.0f, c, 0, s);
    if (st == CLT_OK) st = clt_ctx_finish(ctx);
    if (r >= 0) v[r] = 2.0 * (double)s * (double)s * (double)s / (clt_now_seconds() - t) * 1e-9;
  }
  clt_buffer_release(&a);
  clt_buffer_release(&bb);
  clt_buffer_release(&c);
  if (st == CLT_OK) *gflops = stats_of(v, reps);
  return st;
}

/* ---- start-up of a fresh process ---- */

static void shell_quote(const char *s, char *buf, size_t size) {
  size_t j = 0;
  if (j + 1 < size) buf[j++] = '\'';
  for (; *s && j + 5 < size; s++) {
    if (*s == '\'') {
      memcpy(buf + j, "'\\''", 4);
      j += 4;
    } else {
      buf[j++] = *s;
    }
  }
  if (j + 1 < size) buf[j++] = '\'';
  buf[j] = '\0';
}

/* Runs this binary with --startup-child and returns the seconds from just before
 * the spawn to the end of its first training step; -1 when it failed. */
static double child_startup(const bench_options *o, int batch, int cache) {
  char exe[4096], qexe[8300], qmodel[8300], qdev[1100] = "", qdir[8300] = "", cmd[30000];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return -1;
  exe[len] = '\0';
  shell_quote(exe, qexe, sizeof qexe);
  shell_quote(o->model, qmodel, sizeof qmodel);
  if (o->dev.device) {
    char q[1024];
    shell_quote(o->dev.device, q, sizeof q);
    snprintf(qdev, sizeof qdev, " --device %s", q);
  }
  if (o->dev.kernel_dir) {
    char q[8200];
    shell_quote(o->dev.kernel_dir, q, sizeof q);
    snprintf(qdir, sizeof qdir, " --kernel-dir %s", q);
  }
  snprintf(cmd, sizeof cmd, "%s%s bench %s --batch %d --startup-child%s%s%s",
           cache ? "" : "CLTRAIN_KERNEL_CACHE=0 ", qexe, qmodel, batch, qdev, qdir,
           o->dev.no_kernel_cache ? " --no-kernel-cache" : "");
  fflush(NULL);
  double t0 = clt_now_seconds();
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  double end = -1;
  if (fscanf(p, "%lf", &end) != 1) end = -1;
  int rc = pclose(p);
  return rc == 0 && end > 0 ? end - t0 : -1;
}

/* ---- report ---- */

static void print_text(FILE *out, const bench_state *b, const bench_options *o,
                       const startup_times *t, stats train, stats infer, const profile_summary *ps,
                       stats roof, double cold, double warm, double up_bytes) {
  const clt_device_info *d = &b->ctx->dev;
  int B = b->net->batch;
  double step_ms = 1000.0 * B / train.median;
  printf("model %s, batch %d, device %s (%s, driver %s)\n", o->model, B, d->name, d->platform_name,
         d->driver_version);
  char how[400] = "", kernel[48] = "?";
  double blas = d->kind == CLT_DEVICE_CPU ? openblas_ceiling(b->ctx, how, sizeof how) : 0;
  const clt_gemm_choice *last = clt_gemm_last(b->ctx);
  if (last) clt_gemm_variant_name(&last->variant, kernel, sizeof kernel);
  printf("device SGEMM 1024^3 (%s): %.1f GFLOP/s (min %.1f, max %.1f)\n", kernel, roof.median,
         roof.min, roof.max);
  if (blas > 0) {
    printf("ceiling: OpenBLAS SGEMM 1024^3 %.1f GFLOP/s (%s); ceil%% is against it\n\n", blas, how);
    roof.median = blas;
  } else {
    printf("ceiling: the device SGEMM above (run build/gemm-bench to measure OpenBLAS's)\n\n");
  }
  printf("training   %9.1f images/s (min %.1f, max %.1f; %d windows of %d steps): %.2f ms/step\n",
         train.median, train.min, train.max, o->windows, o->steps, step_ms);
  if (t->conv_algos[0]) printf("conv algorithm per layer: %s\n", t->conv_algos);
  printf("inference  %9.1f images/s (min %.1f, max %.1f)\n\n", infer.median, infer.min, infer.max);
  fprintf(out, "%-18s %9s %9s %9s %8s %7s %9s %9s %7s\n", "layer", "fwd ms", "bwd ms", "other",
          "share", "GFLOP", "GFLOP/s", "GEMM GF/s", "ceil%");
  for (int i = 0; i < ps->n; i++) {
    const group *g = &ps->g[i];
    const double *ms = g->ms;
    double tot = ms[0] + ms[1] + ms[2];
    double gf = g->flops * 1e-9, gps = tot > 0 ? gf / (tot * 1e-3) : 0,
           ggps = g->gemm_ms > 0 ? gf / (g->gemm_ms * 1e-3) : 0;
    fprintf(out, "%-18s %9.3f %9.3f %9.3f %7.1f%% %7.4f %9.1f %9.1f %6.1f%%\n", g->name, ms[0],
            ms[1], ms[2], ps->total_ms > 0 ? 100 * tot / ps->total_ms : 0, gf, gps, ggps,
            roof.median > 0 ? 100 * ggps / roof.median : 0);
  }
  double fwd = 0, bwd = 0, oth = 0;
  for (int i = 0; i < ps->n; i++) {
    fwd += ps->g[i].ms[0];
    bwd += ps->g[i].ms[1];
    oth += ps->g[i].ms[2];
  }
  double gf = ps->flops * 1e-9;
  fprintf(out, "%-18s %9.3f %9.3f %9.3f %7.1f%% %7.4f %9.1f %9.1f %6.1f%%\n", "total (device)", fwd,
          bwd, oth, 100.0, gf, ps->total_ms > 0 ? gf / (ps->total_ms * 1e-3) : 0,
          ps->gemm_ms > 0 ? gf / (ps->gemm_ms * 1e-3) : 0,
          roof.median > 0 && ps->gemm_ms > 0 ? 100 * gf / (ps->gemm_ms * 1e-3) / roof.median : 0);
  fprintf(out, "\n%-18s %-4s %-20s %-20s %9s %9s %7s\n", "GEMM of layer", "pass", "op m x n x k",
          "kernel", "ms/step", "GFLOP/s", "ceil%");
  for (int i = 0; i < ps->nrows; i++) {
    const gemm_row *r = &ps->rows[i];
    double g = r->ms > 0 ? r->flops * 1e-9 / (r->ms * 1e-3) : 0;
    fprintf(out, "%-18s %-4s %-20s %-20s %9.3f %9.1f %6.1f%%\n", r->layer,
            r->pass == 0   ? "fwd"
            : r->pass == 1 ? "bwd"
                           : "-",
            r->shape, r->kernel, r->ms, g, roof.median > 0 ? 100 * g / roof.median : 0);
  }
  if (ps->nrows)
    fprintf(out, "(kernel conv:implicit or conv:direct: a conv layer's own kernels, timed and "
                 "counted as the product they compute; other kernels: im2col + that SGEMM)\n");
  printf("\nSGEMM: %.1f%% of device time; device time %.2f ms of %.2f ms wall per step\n",
         ps->total_ms > 0 ? 100 * ps->gemm_ms / ps->total_ms : 0, ps->total_ms, step_ms);
  printf("overall: %.1f GFLOP/s (SGEMM FLOPs over wall time), %.1f%% of the ceiling\n",
         gf / (step_ms * 1e-3), roof.median > 0 ? 100 * gf / (step_ms * 1e-3) / roof.median : 0);
  printf("launches per step: %.0f; host->device bytes per step: %.0f (%s data); "
         "device->host: 0 (metrics are read every N steps in training)\n",
         ps->launches, up_bytes, o->stream ? "streamed" : "resident");
  clt_bench_print_data_wait(&b->wait, b->resident, o->data, b->epochs, o->epochs);
  printf("\nstart-up in this process: model %.3f s, device %.3f s, network %.3f s, GEMM "
         "warm-up %.3f s, data %.3f s, first step %.3f s (of which choosing GEMM kernels %.3f s, "
         "%d shapes timed; conv algorithms %.3f s)\n",
         t->load, t->device, t->network, t->gemm_warm_up, t->data, t->first_step, t->gemm_select,
         t->gemm_select_shapes, t->conv_select);
  if (o->startup) {
    printf("start-up of a fresh process to the end of its first step: warm %.3f s (program "
           "cache on), cold %.3f s (CLTRAIN_KERNEL_CACHE=0)\n",
           warm, cold);
  }
}

static cJSON *stats_json(stats s) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "median", s.median);
  cJSON_AddNumberToObject(o, "min", s.min);
  cJSON_AddNumberToObject(o, "max", s.max);
  return o;
}

static void print_json(const bench_state *b, const bench_options *o, const startup_times *t,
                       stats train, stats infer, const profile_summary *ps, stats roof, double cold,
                       double warm, double up_bytes) {
  const clt_device_info *d = &b->ctx->dev;
  int B = b->net->batch;
  double step_ms = 1000.0 * B / train.median;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", o->model);
  cJSON_AddNumberToObject(root, "batch", B);
  cJSON_AddStringToObject(root, "device", d->name);
  cJSON_AddStringToObject(root, "platform", d->platform_name);
  cJSON_AddStringToObject(root, "driver", d->driver_version);
  cJSON_AddNumberToObject(root, "steps_per_window", o->steps);
  cJSON_AddNumberToObject(root, "windows", o->windows);
  cJSON_AddItemToObject(root, "gemm_ceiling_gflops", stats_json(roof));
  char how[400] = "";
  double blas = d->kind == CLT_DEVICE_CPU ? openblas_ceiling(b->ctx, how, sizeof how) : 0;
  if (blas > 0) cJSON_AddNumberToObject(root, "openblas_ceiling_gflops", blas);
  cJSON *calls = cJSON_AddArrayToObject(root, "gemm_calls");
  for (int i = 0; calls && i < ps->nrows; i++) {
    const gemm_row *r = &ps->rows[i];
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "layer", r->layer);
    cJSON_AddStringToObject(c, "pass",
                            r->pass == 0   ? "forward"
                            : r->pass == 1 ? "backward"
                                           : "other");
    cJSON_AddStringToObject(c, "shape", r->shape);
    cJSON_AddStringToObject(c, "kernel", r->kernel);
    cJSON_AddNumberToObject(c, "ms_per_step", r->ms);
    cJSON_AddNumberToObject(c, "gflops", r->ms > 0 ? r->flops * 1e-9 / (r->ms * 1e-3) : 0);
    cJSON_AddItemToArray(calls, c);
  }
  cJSON_AddItemToObject(root, "train_images_per_s", stats_json(train));
  cJSON_AddItemToObject(root, "infer_images_per_s", stats_json(infer));
  cJSON_AddNumberToObject(root, "train_ms_per_step", step_ms);
  cJSON_AddNumberToObject(root, "device_ms_per_step", ps->total_ms);
  cJSON_AddNumberToObject(root, "sgemm_ms_per_step", ps->gemm_ms);
  cJSON_AddNumberToObject(root, "sgemm_gflop_per_step", ps->flops * 1e-9);
  cJSON_AddNumberToObject(root, "gflops_overall", ps->flops * 1e-9 / (step_ms * 1e-3));
  cJSON_AddNumberToObject(root, "launches_per_step", ps->launches);
  cJSON_AddNumberToObject(root, "host_to_device_bytes_per_step", up_bytes);
  clt_bench_data_wait_json(root, &b->wait, b->resident, o->data, b->epochs, o->epochs);
  cJSON *layers = cJSON_AddArrayToObject(root, "layers");
  for (int i = 0; i < ps->n; i++) {
    const group *g = &ps->g[i];
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "name", g->name);
    cJSON_AddNumberToObject(l, "forward_ms", g->ms[0]);
    cJSON_AddNumberToObject(l, "backward_ms", g->ms[1]);
    cJSON_AddNumberToObject(l, "other_ms", g->ms[2]);
    cJSON_AddNumberToObject(l, "sgemm_ms", g->gemm_ms);
    cJSON_AddNumberToObject(l, "gflop", g->flops * 1e-9);
    cJSON_AddNumberToObject(l, "launches", g->launches);
    cJSON_AddItemToArray(layers, l);
  }
  cJSON *su = cJSON_AddObjectToObject(root, "startup_s");
  cJSON_AddNumberToObject(su, "model", t->load);
  cJSON_AddNumberToObject(su, "device", t->device);
  cJSON_AddNumberToObject(su, "network", t->network);
  cJSON_AddNumberToObject(su, "gemm_warm_up", t->gemm_warm_up);
  cJSON_AddNumberToObject(su, "gemm_select", t->gemm_select);
  cJSON_AddNumberToObject(su, "gemm_select_shapes", t->gemm_select_shapes);
  cJSON_AddNumberToObject(su, "conv_select", t->conv_select);
  cJSON_AddStringToObject(root, "conv_algorithms", t->conv_algos);
  cJSON_AddNumberToObject(su, "data", t->data);
  cJSON_AddNumberToObject(su, "first_step", t->first_step);
  if (o->startup) {
    cJSON_AddNumberToObject(su, "process_warm", warm);
    cJSON_AddNumberToObject(su, "process_cold", cold);
  }
  char *text = cJSON_Print(root);
  if (text) puts(text);
  free(text);
  cJSON_Delete(root);
}

static clt_status run(const bench_options *o) {
  double t0 = clt_now_seconds();
  bench_state b;
  memset(&b, 0, sizeof b);
  startup_times t;
  memset(&t, 0, sizeof t);
  if (!o->startup_child) clt_train_gemm_notes(o->json ? stderr : stdout);
  clt_status st = setup(o, &b, &t, t0);
  if (o->startup_child) {
    if (st == CLT_OK) printf("%.6f\n", clt_now_seconds());
    teardown(&b);
    return st;
  }
  stats train = {0}, infer = {0}, roof = {0};
  profile_summary *ps = calloc(1, sizeof *ps);
  if (!ps && st == CLT_OK) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (int i = 0; i < 5 && st == CLT_OK; i++) st = train_step(&b);
  if (st == CLT_OK) st = clt_ctx_finish(b.ctx);
  uint64_t up0 = b.dd ? b.dd->bytes_uploaded : 0;
  if (b.dd) b.resident = b.dd->resident;
  if (st == CLT_OK) b.dd->wait = &b.wait; /* the data wait of the timed training steps */
  if (st == CLT_OK) st = time_windows(&b, 1, o->windows, o->steps, &train);
  if (st == CLT_OK) st = clt_data_wait_collect(&b.wait);
  if (b.dd) b.dd->wait = NULL;
  double up_bytes =
      st == CLT_OK ? (double)(b.dd->bytes_uploaded - up0) / ((double)o->windows * o->steps) : 0;
  if (!o->train_only) {
    if (st == CLT_OK) st = infer_step(&b);
    if (st == CLT_OK) st = time_windows(&b, 0, o->windows, o->steps, &infer);
    if (st == CLT_OK) st = clt_profiler_start(b.ctx);
    for (int i = 0; i < o->steps && st == CLT_OK; i++) st = train_step(&b);
    if (st == CLT_OK) st = clt_profiler_collect(b.ctx);
    if (st == CLT_OK) clt_bench_profile_summarise(b.ctx->profiler, o->steps, ps);
    if (b.ctx) clt_profiler_stop(b.ctx);
    if (st == CLT_OK) st = gemm_ceiling(b.ctx, 1024, 5, &roof);
  }
  if (st == CLT_OK && o->data) st = run_epochs(&b, o);
  double cold = -1, warm = -1;
  int batch = b.net ? b.net->batch : 0;
  if (st == CLT_OK && o->startup) {
    warm = child_startup(o, batch, 1);
    cold = child_startup(o, batch, 0);
  }
  if (st == CLT_OK) {
    if (o->json)
      print_json(&b, o, &t, train, infer, ps, roof, cold, warm, up_bytes);
    else
      print_text(stdout, &b, o, &t, train, infer, ps, roof, cold, warm, up_bytes);
  }
  free(ps);
  teardown(&b);
  return st;
}

int clt_cmd_bench(int argc, char **argv) {
  bench_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) return rc;
  clt_cli_device_env(&o.dev, 1);
  clt_mpi_set_device(o.dev.device);
  /* A device list, or every rank under mpirun: the data-parallel step's report. */
  clt_status st = clt_bench_is_replicated(o.dev.device) || clt_mpi_active()
                      ? clt_bench_replicas(o.model, &o.dev, o.batch, o.windows * o.steps, NULL,
                                           o.bucket_kib, clt_mpi_active())
                      : run(&o);
  if (st != CLT_OK) return clt_report_failure(st);
  return CLT_EXIT_OK;
}
