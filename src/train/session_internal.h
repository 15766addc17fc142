/* The session's state (train/session.c), shared with the files that implement parts of the
 * public API on it (train/session_queries.c). Library-internal. */
#ifndef CLT_TRAIN_SESSION_INTERNAL_H
#define CLT_TRAIN_SESSION_INTERNAL_H

#include <stdio.h>
#include <time.h>

#include "cltrain/cltrain.h"
#include "dist/peers.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "runtime/context.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/inference.h"
#include "train/replicas.h"
#include "train/run_options.h"
#include "train/session.h"
#include "train/session_compose.h"

struct clt_session {
  clt_config cfg;
  clt_session_request o;
  char *strings[16]; /* copies of every string of cfg and o */
  int string_count;
  int strings_lost;       /* a copy failed: out of host memory */
  const char *model_text; /* clt_session_open_text */
  size_t model_length;
  clt_run_options *ro;
  clt_model *model;
  clt_ctx *ctx;
  clt_optim *opt;
  clt_network *net;
  clt_checkpoint ck;
  int resumed;
  clt_inference inf; /* clt_session_open_checkpoint: model, ctx and net are inf's */
  int inference;
  train_data data;
  struct timespec t0;
  clt_train_position pos; /* where training stands */
  int trained;            /* clt_session_train ran: the log is appended to from now on */
  char **names;           /* [classes] of a training session */
  clt_eval_result report; /* the last clt_session_report */
  clt_class_scores *report_scores;
  FILE *notes; /* the run's notes for a person, handed to cfg.message */
  char *notes_buf;
  size_t notes_len, notes_sent;
  clt_peers *peers; /* cfg.distributed: the run's processes; else NULL */
  char **specs;     /* the devices of this process (train/session_replicas.h) */
  int spec_count;
  clt_replicas *reps; /* more than one replica in all; else NULL */
};

/* The test split of a folder (IDX, CIFAR-10 or images fitted to the model's input, with the
 * run's skip_bad_images), checked against the model's input. */
clt_status clt_session_load_test(clt_session *s, const char *dir, clt_dataset *ds);

/* Warnings of the calls on s go to its callback; returns the route to put back. */
clt_warning_route clt_session_route_warnings(const clt_session *s);

#endif
