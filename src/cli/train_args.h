/* cltrain train's command line: the options as given, before the checkpoint or the model's
 * [net] recipe fill in what they leave out. */
#ifndef CLT_CLI_TRAIN_ARGS_H
#define CLT_CLI_TRAIN_ARGS_H

#include "cli/device_options.h"

typedef struct clt_train_options {
  clt_device_options dev;
  const char *model;
  const char *data;
  int epochs, batch, subset, read_every, stream, json, profile;
  int batch_auto; /* --batch auto */
  double lr, val_split;
  int val_split_given;
  const char *optimizer;
  long long seed;
  const char *save, *resume, *log;
  int save_every, keep_best;
  int overwrite;            /* --overwrite: --save and --log may replace a file of another kind */
  const char *label, *task; /* CSV data */
  int skip_bad_rows;
  int skip_bad_images;
  int augment_crop, augment_flip, no_augment; /* augment_crop -1: not given */
  const char *balance;                        /* --balance: "auto", "equal"; NULL: not given */
  int bucket_kib;                             /* --bucket-kib; 0: not given */
} clt_train_options;

/* Parses argv into *o (defaults first: val_split 0.1, seed -1, augment_crop -1 for "not
 * given", the rest zero). Returns 0, 1 after printing --help on stdout, or -1 after one line
 * (or the help) on stderr; clt_cli_exit(rc) turns 1 and -1 into exit codes. */
int clt_train_parse_args(int argc, char **argv, clt_train_options *o);

#endif
