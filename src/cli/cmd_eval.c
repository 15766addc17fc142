/* cltrain eval CHECKPOINT: loss, accuracy, top-5 accuracy, per-class precision, recall and
 * F1, and the confusion matrix of a checkpoint on a test set. */
#include <cjson/cJSON.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cltrain/cltrain.h"

typedef struct eval_options {
  clt_device_options dev;
  const char *checkpoint, *data;
  int subset, batch, json;
} eval_options;

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain eval CHECKPOINT [options]\n\n"
          "Evaluates a checkpoint (cltrain train --save) on a test set: loss, accuracy, top-5\n"
          "accuracy (more than 5 classes), per-class precision, recall and F1 with macro and\n"
          "weighted averages, and the confusion matrix (rows: true class).\n"
          "  --data DIR           folder of IDX files (t10k-* used) or CIFAR-10 binary batches\n"
          "                       (test_batch.bin used)\n"
          "                       (default: the folder the checkpoint was trained on)\n"
          "  --data FILE.csv      a CSV table (a checkpoint trained on CSV data): read with\n"
          "                       the training statistics and classes the checkpoint holds\n"
          "  --subset N           only the first N test images\n"
          "  --batch N            samples per forward pass (default: the training batch)\n"
          "  --json               one JSON object on stdout\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_args(int argc, char **argv, eval_options *o) {
  enum { O_DATA = 1, O_SUBSET, O_BATCH, O_JSON, O_HELP };
  static const struct option longopts[] = {{"data", required_argument, NULL, O_DATA},
                                           {"subset", required_argument, NULL, O_SUBSET},
                                           {"batch", required_argument, NULL, O_BATCH},
                                           {"json", no_argument, NULL, O_JSON},
                                           {"help", no_argument, NULL, O_HELP},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  int opt, rc = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1 && rc == 0) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_DATA:
      o->data = optarg;
      break;
    case O_SUBSET:
      rc = clt_cli_count("eval", "--subset", optarg, &o->subset);
      break;
    case O_BATCH:
      rc = clt_cli_count("eval", "--batch", optarg, &o->batch);
      break;
    case O_JSON:
      o->json = 1;
      break;
    case O_HELP:
      help(stdout);
      return 1;
    default:
      clt_cli_bad_option("eval", argv, opt);
      return -1;
    }
  }
  if (rc) return -1;
  if (optind != argc - 1) {
    fprintf(stderr, "cltrain eval: expected one checkpoint file (see --help)\n");
    return -1;
  }
  o->checkpoint = argv[optind];
  return 0;
}

/* What the output shows of the checkpoint: its model and run, and the class names. */
typedef struct shown {
  clt_model_info mi;
  const char **class_names; /* [mi.classes] */
} shown;

static cJSON *stats_json(const clt_class_scores *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "precision", s->precision);
  cJSON_AddNumberToObject(o, "recall", s->recall);
  cJSON_AddNumberToObject(o, "f1", s->f1);
  cJSON_AddNumberToObject(o, "support", (double)s->support);
  return o;
}

static void print_json(const eval_options *o, const shown *inf, const char *dir,
                       const clt_eval_report *r) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "checkpoint", o->checkpoint);
  cJSON_AddStringToObject(root, "model", inf->mi.name);
  cJSON_AddStringToObject(root, "data", dir);
  cJSON_AddNumberToObject(root, "epoch", inf->mi.epochs_done);
  cJSON_AddNumberToObject(root, "step", (double)inf->mi.global_step);
  cJSON_AddNumberToObject(root, "samples", r->samples);
  cJSON_AddNumberToObject(root, "loss", r->loss);
  cJSON_AddNumberToObject(root, "accuracy", r->accuracy);
  if (r->classes > 5) cJSON_AddNumberToObject(root, "top5_accuracy", r->top5);
  cJSON *classes = cJSON_AddArrayToObject(root, "classes");
  for (int c = 0; c < r->classes; c++) {
    cJSON *e = stats_json(&r->per_class[c]);
    cJSON_AddNumberToObject(e, "class", c);
    cJSON_AddStringToObject(e, "name", inf->class_names[c]);
    cJSON_AddItemToArray(classes, e);
  }
  cJSON_AddItemToObject(root, "macro_avg", stats_json(&r->macro));
  cJSON_AddItemToObject(root, "weighted_avg", stats_json(&r->weighted));
  cJSON *conf = cJSON_AddArrayToObject(root, "confusion");
  for (int t = 0; t < r->classes; t++) {
    cJSON *row = cJSON_CreateArray();
    for (int p = 0; p < r->classes; p++)
      cJSON_AddItemToArray(row,
                           cJSON_CreateNumber((double)r->confusion[(size_t)t * r->classes + p]));
    cJSON_AddItemToArray(conf, row);
  }
  char *text = cJSON_PrintUnformatted(root);
  printf("%s\n", text ? text : "{}");
  free(text);
  cJSON_Delete(root);
}

static void stats_row(const char *label, int width, const clt_class_scores *s) {
  printf("%-*s %9.4f %9.4f %9.4f %9ld\n", width, label, s->precision, s->recall, s->f1, s->support);
}

static void print_table(const eval_options *o, const shown *inf, const char *dir,
                        const clt_eval_report *r) {
  printf("Checkpoint: %s (%s; %d of %d epochs, step %ld)\n", o->checkpoint, inf->mi.name,
         inf->mi.epochs_done, inf->mi.epochs, inf->mi.global_step);
  printf("Test data: %s, %d images\n", dir, r->samples);
  printf("Loss %.4f - accuracy %.4f", r->loss, r->accuracy);
  if (r->classes > 5) printf(" - top-5 accuracy %.4f", r->top5);
  printf("\n\n");
  int width = (int)strlen("weighted avg");
  for (int c = 0; c < r->classes; c++) {
    int w = (int)strlen(inf->class_names[c]) + 4;
    if (w > width) width = w;
  }
  printf("%-*s %9s %9s %9s %9s\n", width, "class", "precision", "recall", "f1", "support");
  for (int c = 0; c < r->classes; c++) {
    char label[160];
    snprintf(label, sizeof label, "%-3d %s", c, inf->class_names[c]);
    stats_row(label, width, &r->per_class[c]);
  }
  stats_row("macro avg", width, &r->macro);
  stats_row("weighted avg", width, &r->weighted);

  long most = 0;
  for (size_t i = 0; i < (size_t)r->classes * r->classes; i++)
    if (r->confusion[i] > most) most = r->confusion[i];
  int cw = snprintf(NULL, 0, "%ld", most);
  int iw = snprintf(NULL, 0, "%d", r->classes - 1);
  if (iw > cw) cw = iw;
  cw += 1;
  if (cw < 5) cw = 5;
  printf("\nConfusion matrix (rows: true class, columns: predicted class)\n");
  printf("%-*s", width, "");
  for (int p = 0; p < r->classes; p++) printf("%*d", cw, p);
  printf("\n");
  for (int t = 0; t < r->classes; t++) {
    char label[160];
    snprintf(label, sizeof label, "%-3d %s", t, inf->class_names[t]);
    printf("%-*s", width, label);
    for (int p = 0; p < r->classes; p++)
      printf("%*ld", cw, r->confusion[(size_t)t * r->classes + p]);
    printf("\n");
  }
}

/* A regression model ([mse] head): the errors only. */
static void print_regression(const eval_options *o, const shown *inf, const char *dir,
                             const clt_eval_report *r) {
  if (o->json) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", o->checkpoint);
    cJSON_AddStringToObject(root, "model", inf->mi.name);
    cJSON_AddStringToObject(root, "data", dir);
    cJSON_AddNumberToObject(root, "samples", r->samples);
    cJSON_AddNumberToObject(root, "loss", r->loss);
    cJSON_AddNumberToObject(root, "mse", r->loss);
    cJSON_AddNumberToObject(root, "mae", r->mae);
    cJSON_AddNumberToObject(root, "rmse", sqrt(r->loss));
    char *text = cJSON_PrintUnformatted(root);
    printf("%s\n", text ? text : "{}");
    free(text);
    cJSON_Delete(root);
    return;
  }
  printf("Checkpoint: %s (%s; %d of %d epochs, step %ld)\n", o->checkpoint, inf->mi.name,
         inf->mi.epochs_done, inf->mi.epochs, inf->mi.global_step);
  printf("Test data: %s, %d rows\n", dir, r->samples);
  printf("Loss (MSE) %.4f - MAE %.4f - RMSE %.4f\n", r->loss, r->mae, sqrt(r->loss));
}

/* The checkpoint opened through the public API for evaluation. */
static clt_status open_session(const eval_options *o, clt_session **s) {
  clt_config c;
  clt_cli_session_config(&o->dev, &c);
  c.warning = clt_cli_session_warning;
  return clt_session_open_checkpoint(&c, o->checkpoint, o->batch, s);
}

static clt_status run(const eval_options *o) {
  clt_session *session = NULL;
  shown inf;
  memset(&inf, 0, sizeof inf);
  inf.mi.struct_size = sizeof inf.mi;
  clt_eval_report r;
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  clt_status st = open_session(o, &session);
  if (st == CLT_OK) st = clt_session_model(session, &inf.mi);
  if (st == CLT_OK) {
    inf.class_names = calloc((size_t)inf.mi.classes, sizeof *inf.class_names);
    if (!inf.class_names) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  for (int c = 0; st == CLT_OK && c < inf.mi.classes; c++)
    st = clt_session_class_name(session, c, &inf.class_names[c]);
  const char *dir = o->data ? o->data : inf.mi.data;
  if (st == CLT_OK) st = clt_session_report(session, o->data, o->subset, &r);
  if (st == CLT_OK && inf.mi.regression) {
    print_regression(o, &inf, dir, &r);
  } else if (st == CLT_OK) {
    if (o->json)
      print_json(o, &inf, dir, &r);
    else
      print_table(o, &inf, dir, &r);
  }
  free(inf.class_names);
  clt_session_close(session);
  return st;
}

int clt_cmd_eval(int argc, char **argv) {
  eval_options o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(argc, argv, &o);
  if (rc) return clt_cli_exit(rc);
  clt_cli_device_env(&o.dev, 1);
  return clt_exit_status(run(&o));
}
