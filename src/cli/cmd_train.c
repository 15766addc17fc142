/* cltrain train MODEL: train a model file on a data set on one device. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cli/progress.h"
#include "cli/summary.h"
#include "runtime/gemm.h"
#include "runtime/profile.h"
#include "train/trainer.h"

typedef struct train_options {
  clt_device_options dev;
  const char *model;
  const char *data;
  int epochs, batch, subset, read_every, stream, json, profile;
  double lr, val_split;
  const char *optimizer;
  long long seed;
} train_options;

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain train MODEL [options]\n\n"
          "Trains MODEL (a model file, see models/) on a data set and reports the test-set\n"
          "loss and accuracy at the end. Options override the model's [net] recipe.\n"
          "  --data DIR           folder of IDX files (default " CLT_DEFAULT_DATA_DIR ")\n"
          "  --epochs N           number of epochs\n"
          "  --batch N            samples per step\n"
          "  --lr X               learning rate\n"
          "  --optimizer NAME     sgd, adam or adamw\n"
          "  --seed N             seed of initialisation, shuffling and dropout (0..4294967295)\n"
          "  --val-split X        fraction of the training file held out for validation,\n"
          "                       taken from its end before shuffling (default 0.1)\n"
          "  --subset N           use only the first N images of the training and test files\n"
          "  --read-every N       steps between loss read-backs from the device (default 20)\n"
          "  --stream             stream batches through the transfer queue even when the\n"
          "                       data set fits in device memory\n"
          "  --json               one JSON object per epoch on stdout instead of the "
          "display\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_int(const char *opt, const char *arg, long min, long max, int *out) {
  char *end;
  long v = strtol(arg, &end, 10);
  if (*arg == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "cltrain train: %s %s: must be an integer from %ld to %ld\n", opt, arg, min,
            max);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int parse_double(const char *opt, const char *arg, double min, double max, double *out) {
  char *end;
  double v = strtod(arg, &end);
  if (*arg == '\0' || *end != '\0' || !isfinite(v) || v < min || v > max) {
    fprintf(stderr, "cltrain train: %s %s: must be a number from %g to %g\n", opt, arg, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_seed(const char *arg, long long *out) {
  char *end;
  unsigned long long v = strtoull(arg, &end, 10);
  if (*arg < '0' || *arg > '9' || *end != '\0' || v > 4294967295ull) {
    fprintf(stderr, "cltrain train: --seed %s: must be an integer from 0 to 4294967295\n", arg);
    return -1;
  }
  *out = (long long)v;
  return 0;
}

static int parse_args(int argc, char **argv, train_options *o) {
  enum {
    O_DATA = 1,
    O_EPOCHS,
    O_BATCH,
    O_LR,
    O_OPT,
    O_SEED,
    O_VAL,
    O_SUBSET,
    O_READ,
    O_STREAM,
    O_JSON,
    O_HELP,
    O_PROFILE
  };
  static const struct option longopts[] = {{"data", required_argument, NULL, O_DATA},
                                           {"epochs", required_argument, NULL, O_EPOCHS},
                                           {"batch", required_argument, NULL, O_BATCH},
                                           {"lr", required_argument, NULL, O_LR},
                                           {"optimizer", required_argument, NULL, O_OPT},
                                           {"seed", required_argument, NULL, O_SEED},
                                           {"val-split", required_argument, NULL, O_VAL},
                                           {"subset", required_argument, NULL, O_SUBSET},
                                           {"read-every", required_argument, NULL, O_READ},
                                           {"stream", no_argument, NULL, O_STREAM},
                                           {"json", no_argument, NULL, O_JSON},
                                           {"help", no_argument, NULL, O_HELP},
                                           {"profile", no_argument, NULL, O_PROFILE},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  int opt, rc = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1 && rc == 0) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_DATA:
      o->data = optarg;
      break;
    case O_EPOCHS:
      rc = parse_int("--epochs", optarg, 1, 100000, &o->epochs);
      break;
    case O_BATCH:
      rc = parse_int("--batch", optarg, 1, INT_MAX, &o->batch);
      break;
    case O_LR:
      rc = parse_double("--lr", optarg, 1e-12, 10, &o->lr);
      break;
    case O_OPT:
      o->optimizer = optarg;
      break;
    case O_SEED:
      rc = parse_seed(optarg, &o->seed);
      break;
    case O_VAL:
      rc = parse_double("--val-split", optarg, 0, 0.9, &o->val_split);
      break;
    case O_SUBSET:
      rc = parse_int("--subset", optarg, 1, INT_MAX, &o->subset);
      break;
    case O_READ:
      rc = parse_int("--read-every", optarg, 1, 1000000, &o->read_every);
      break;
    case O_STREAM:
      o->stream = 1;
      break;
    case O_JSON:
      o->json = 1;
      break;
    case O_PROFILE:
      o->profile = 1;
      break;
    case O_HELP:
      help(stdout);
      return 1;
    default:
      help(stderr);
      return -1;
    }
  }
  if (rc) return -1;
  if (optind != argc - 1) {
    fprintf(stderr, "cltrain train: expected one model file, e.g. cltrain train "
                    "models/fashion_cnn.cfg (see --help)\n");
    return -1;
  }
  o->model = argv[optind];
  return 0;
}

static clt_status apply_overrides(const train_options *o, clt_recipe *r) {
  if (o->epochs) r->epochs = o->epochs;
  if (o->batch) r->batch = o->batch;
  if (o->lr > 0) r->learning_rate = o->lr;
  if (o->seed >= 0) r->seed = (uint32_t)o->seed;
  if (o->optimizer) {
    clt_optimizer kind;
    if (clt_optimizer_from_name(o->optimizer, &kind) != 0)
      return clt_fail(CLT_ERR_USAGE, "--optimizer %s: unknown; choose one of %s", o->optimizer,
                      clt_optimizer_choices());
    if (kind == CLT_OPT_ADAMW && r->optimizer != CLT_OPT_ADAMW && !r->weight_decay_set)
      r->weight_decay = CLT_RECIPE_DEFAULT_ADAMW_DECAY;
    r->optimizer = kind;
  }
  return CLT_OK;
}

typedef struct train_data {
  clt_dataset all, train, val, test;
} train_data;

static clt_status load_data(const train_options *o, const clt_model *m, train_data *d) {
  const char *dir = o->data ? o->data : CLT_DEFAULT_DATA_DIR;
  CLT_TRY(clt_dataset_load_dir(dir, 0, &d->all));
  CLT_TRY(clt_dataset_load_dir(dir, 1, &d->test));
  if (o->subset) {
    if (o->subset < d->all.n) CLT_TRY(clt_dataset_subset(&d->all, 0, o->subset, &d->all));
    if (o->subset < d->test.n) CLT_TRY(clt_dataset_subset(&d->test, 0, o->subset, &d->test));
  }
  if (d->all.h != m->input.h || d->all.w != m->input.w || d->all.c != m->input.c)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s takes %dx%dx%d inputs but the data in %s are %dx%dx%d; set input = "
                    "%dx%dx%d in [net] or use a model made for this data",
                    m->name, m->input.h, m->input.w, m->input.c, dir, d->all.h, d->all.w, d->all.c,
                    d->all.h, d->all.w, d->all.c);
  if (d->all.classes > m->classes)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the data in %s have %d classes but %s ends in %d outputs; set units = %d in "
                    "the [dense] layer before [softmax]",
                    dir, d->all.classes, m->name, m->classes, d->all.classes);
  return clt_dataset_split(&d->all, o->val_split, &d->train, &d->val);
}

static void free_data(train_data *d) {
  clt_dataset_free(&d->all);
  clt_dataset_free(&d->train);
  clt_dataset_free(&d->val);
  clt_dataset_free(&d->test);
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static clt_status run(const train_options *o, FILE *info) {
  clt_model *model = NULL;
  clt_ctx *ctx = NULL;
  clt_optim *opt = NULL;
  clt_network *net = NULL;
  train_data data;
  memset(&data, 0, sizeof data);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  clt_status st = clt_model_load(o->model, &model);
  if (st == CLT_OK) st = apply_overrides(o, &model->recipe);
  if (st == CLT_OK) st = load_data(o, model, &data);
  if (st == CLT_OK) st = clt_open_device(&o->dev, o->profile, &ctx);
  if (st == CLT_OK) st = clt_optim_create(ctx, &model->recipe, &opt);
  if (st == CLT_OK) {
    clt_train_summary(info, model, ctx, clt_optim_state_per_param(opt), &data.train, &data.val,
                      &data.test);
    int batch = model->recipe.batch < data.train.n ? model->recipe.batch : data.train.n;
    st = clt_network_create(model, ctx, batch, clt_optim_state_per_param(opt), model->recipe.seed,
                            &net);
  }
  if (st == CLT_OK) {
    fprintf(info, "Preparing GEMM kernels...");
    fflush(info);
    st = clt_gemm_warm_up(ctx);
    fprintf(info, " ready %.1f s after start\n", seconds_since(&t0));
  }
  if (st == CLT_OK) {
    clt_progress_display display;
    clt_progress_init(&display, stdout, o->json);
    clt_train_callbacks cb = {clt_progress_update, clt_progress_epoch_end, &display};
    clt_train_config cfg = {model->recipe, o->read_every, o->stream};
    if (o->profile) st = clt_profiler_start(ctx);
    if (st == CLT_OK) st = clt_train(net, opt, &data.train, &data.val, &cfg, &cb);
    if (st == CLT_OK && o->profile) {
      st = clt_profiler_collect(ctx);
      long steps = (long)model->recipe.epochs *
                   ((data.train.n + net->batch - 1) / net->batch);
      fprintf(info, "Device time per training step (%ld steps; validation included):\n", steps);
      clt_profiler_print(ctx, info, steps);
      clt_profiler_stop(ctx);
    }
  }
  if (st == CLT_OK) {
    double loss, acc;
    st = clt_evaluate(net, &data.test, o->stream, &loss, &acc);
    if (st == CLT_OK && o->json)
      printf("{\"test_loss\":%.6f,\"test_accuracy\":%.6f,\"test_samples\":%d,\"seconds\":%.2f}\n",
             loss, acc, data.test.n, seconds_since(&t0));
    else if (st == CLT_OK)
      printf("Test: loss %.4f - accuracy %.4f (%d images), %.1f s in all\n", loss, acc, data.test.n,
             seconds_since(&t0));
  }
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_ctx_destroy(ctx);
  clt_model_free(model);
  free_data(&data);
  return st;
}

int clt_cmd_train(int argc, char **argv) {
  train_options o;
  memset(&o, 0, sizeof o);
  o.val_split = 0.1;
  o.seed = -1;
  int rc = parse_args(argc, argv, &o);
  if (rc > 0) return CLT_EXIT_OK;
  if (rc < 0) return CLT_EXIT_USAGE;
  /* With --json, stdout carries only JSON: the summary goes to stderr. */
  clt_status st = run(&o, o.json ? stderr : stdout);
  return st == CLT_OK ? CLT_EXIT_OK : clt_report_failure(st);
}
