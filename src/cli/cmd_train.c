/* cltrain train MODEL: train a model file on a data set on one device; --save writes
 * checkpoints, --resume goes on from one, --log writes a CSV row per epoch. The run itself is
 * the library's session (include/cltrain/cltrain.h); this file turns the options into its
 * settings and draws what it reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/flag_names.h"
#include "cli/mpi_launch.h"
#include "cli/progress.h"
#include "cli/term.h"
#include "cli/train_args.h"
#include "cltrain/cltrain.h"

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* The session's notes (summary, memory plan, resuming, checkpoints) on the info stream; a
 * progress line (decoding images: it starts with '\r') only when that is a terminal. */
static void print_notes(const char *text, void *user) {
  FILE *info = user;
  if (text[0] == '\r' && !clt_is_terminal(info)) return;
  size_t size = 2 * strlen(text) + 4096; /* room for the flags the phrases become */
  char *words = malloc(size);
  if (words) clt_cli_flag_names(text, words, size);
  fputs(words ? words : text, info);
  fflush(info);
  free(words);
}

static void session_config(const clt_train_options *o, FILE *info, clt_config *c) {
  clt_cli_session_config(&o->dev, c);
  c->profile = o->profile;
  c->message = print_notes;
  c->warning = clt_cli_session_warning;
  c->user = info;
  c->balance = o->balance;
  c->bucket_kib = o->bucket_kib;
  clt_mpi_session_config(c);
}

static void run_config(const clt_train_options *o, clt_run_config *r) {
  clt_run_config_init(r);
  r->data = o->data;
  r->subset = o->subset;
  if (o->val_split_given || !o->resume) r->val_split = o->val_split;
  r->epochs = o->epochs;
  r->batch = o->batch;
  r->batch_auto = o->batch_auto;
  r->learning_rate = o->lr;
  r->optimizer = o->optimizer;
  r->seed = o->seed;
  r->read_every = o->read_every;
  r->stream = o->stream;
  r->save = o->save;
  r->save_every = o->save_every;
  r->keep_best = o->keep_best;
  r->log = o->log;
  r->label = o->label;
  if (o->task) r->regression = strcmp(o->task, "regression") == 0;
  r->skip_bad_rows = o->skip_bad_rows;
  r->skip_bad_images = o->skip_bad_images;
  r->augment_crop = o->augment_crop;
  r->augment_flip = o->augment_flip;
  r->no_augment = o->no_augment;
  r->overwrite = o->overwrite;
}

static int show_progress(const clt_progress_info *p, void *display) {
  clt_progress_update(p, display);
  return 0;
}

static int show_epoch(const clt_epoch_info *e, void *display) {
  clt_progress_epoch_end(e, display);
  return 0;
}

static clt_status run(const clt_train_options *o, FILE *info) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clt_config config;
  session_config(o, info, &config);
  clt_run_config rc;
  run_config(o, &rc);
  clt_session *s = NULL;
  clt_status st = o->resume ? clt_session_resume(&config, o->resume, o->model, &rc, &s)
                            : clt_session_open(&config, o->model, &rc, &s);
  clt_model_info model;
  memset(&model, 0, sizeof model);
  model.struct_size = sizeof model;
  if (st == CLT_OK) st = clt_session_model(s, &model);
  if (st == CLT_OK) {
    clt_progress_display display;
    clt_progress_init(&display, stdout, o->json);
    display.regression = model.regression;
    clt_callbacks cb = {sizeof cb, show_progress, show_epoch, &display};
    st = clt_session_train(s, &cb, NULL);
  }
  double loss, acc;
  int n = 0;
  if (st == CLT_OK) st = clt_session_evaluate(s, NULL, &loss, &acc, &n);
  if (st == CLT_OK && n > 0 && o->json) /* CSV data have no test set: cltrain eval */
    printf("{\"test_loss\":%.6f,\"test_accuracy\":%.6f,\"test_samples\":%d,\"seconds\":%.2f}\n",
           loss, acc, n, seconds_since(&t0));
  else if (st == CLT_OK && n > 0)
    printf("Test: loss %.4f - accuracy %.4f (%d images), %.1f s in all\n", loss, acc, n,
           seconds_since(&t0));
  clt_session_close(s);
  return st;
}

int clt_cmd_train(int argc, char **argv) {
  clt_train_options o;
  int rc = clt_train_parse_args(argc, argv, &o);
  if (rc) return clt_cli_exit(rc);
  clt_cli_device_env(&o.dev, 1);
  clt_mpi_set_device(o.dev.device);
  /* With --json, stdout carries only JSON: the summary goes to stderr. */
  clt_status st = run(&o, o.json ? stderr : stdout);
  return clt_exit_status(st);
}
