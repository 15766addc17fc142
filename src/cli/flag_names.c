#include "cli/flag_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct phrase {
  const char *library, *cli;
} phrase;

/* Replaced only at the start of a message. */
static const phrase openings[] = {
    {"resuming: batch ", "--resume: --batch "},
    {"resuming: optimizer ", "--resume: --optimizer "},
    {"resuming: seed ", "--resume: --seed "},
    {"resuming: subset ", "--resume: --subset "},
    {"resuming: val_split ", "--resume: --val-split "},
    {"resuming: label ", "--resume: --label "},
    {"resuming: task ", "--resume: --task "},
    {"resuming: the augmentation settings ask", "--resume: the augmentation flags ask"},
    {"optimizer setting ", "--optimizer "},
    {"epochs setting ", "--epochs "},
    {"learning rate setting ", "--lr "},
    {"augment_crop: ", "--augment-crop: "},
    {"augment_flip: ", "--augment-flip: "},
    {"save path ", "--save "},
    {"log file ", "--log "},
    {"automatic batch: ", "--batch auto: "},
    {"a subset applies to IDX data", "--subset applies to IDX data"},
    {"a regression task needs", "--task regression needs"},
    {"label column ", "--label "},
    {"validation split ", "--val-split "},
    {"No label column given:", "No --label given:"},
    {"the label setting applies", "--label applies"},
    {"the task setting applies", "--task applies"},
    {"the skip_bad_rows setting applies", "--skip-bad-rows applies"},
    {"the skip_bad_images setting applies", "--skip-bad-images applies"},
    {"the augment_crop setting applies", "--augment-crop applies"},
    {"the augment_flip setting applies", "--augment-flip applies"},
    {"keeping the best checkpoint needs a validation set, but this run has none; set a "
     "validation split above 0 or do not keep the best",
     "--keep-best keeps the checkpoint of the best validation accuracy, but this run has no "
     "validation set; give --val-split X (X > 0) or drop --keep-best"},
};

/* Replaced wherever they occur, in this order. */
static const phrase anywhere[] = {
    {"(leave batch unset,", "(drop --batch,"},
    {"(leave optimizer unset,", "(drop --optimizer,"},
    {"(leave seed unset,", "(drop --seed,"},
    {"(leave subset unset,", "(drop --subset,"},
    {"(leave val_split unset,", "(drop --val-split,"},
    {"(leave label unset,", "(drop --label,"},
    {"(leave task unset,", "(drop --task,"},
    {" seed, subset and validation split it started with",
     " seed, --subset and --val-split it started with"},
    {"(leave the augmentation settings unset,", "(drop the --augment-* flags,"},
    {"afresh instead of resuming", "afresh without --resume"},
    {"lower the learning rate", "lower the learning rate (--lr)"},
    {"a batch of ", "--batch "},
    {"a smaller batch", "a smaller --batch"},
    {", or an automatic batch", ", or --batch auto"},
    {"use streaming (", "use --stream ("},
    {"(from the kernel folder ", "(from --kernel-dir "},
    {"and the run's epochs setting is ", "and --epochs is "},
    {"set epochs to ", "pass --epochs "},
    {"resume with the data the checkpoint was made with",
     "resume with the data the checkpoint was made with (--data)"},
    {"set the task to regression", "pass --task regression"},
    {"give the data it was trained for", "give the data it was trained for with --data"},
    {"pick another label column", "pick another column with --label"},
    {"check the data path", "check the --data path"},
    {"; leave it unset", "; drop it"},
    {"evaluate it on the kind of data it was trained on",
     "give --data the kind of data it was trained on"},
    {" and save path ", " and --save "},
    {"(did you mean to save there?)", "(did you mean --save?)"},
    {"give another log file", "give another --log path"},
    {"or allow overwriting to replace it", "or pass --overwrite to replace it"},
    {"the kernel folder ", "--kernel-dir "},
    {"fix the row or skip bad rows", "fix the row or pass --skip-bad-rows"},
    {"bad rows (as asked: skip bad rows)", "bad rows (--skip-bad-rows)"},
    {"or set skip_bad_images", "or pass --skip-bad-images"},
    {"no cache folder; give one (cache_dir)",
     "no cache folder; set CLTRAIN_CACHE_DIR to a writable folder"},
    {"skipped (as asked: skip bad images)", "skipped (--skip-bad-images)"},
    {"validation set; use val_split", "validation set; use --val-split"},
    {"(the -best file when training kept the best epoch)",
     "(the -best file when training used --keep-best)"},
    {"give a checkpoint that training saved", "give a file written by cltrain train --save"},
};

/* Every from in text replaced by to, into a new string (NULL when out of memory). */
static char *replace_all(const char *text, const char *from, const char *to) {
  size_t nf = strlen(from), nt = strlen(to), count = 0;
  for (const char *p = strstr(text, from); p; p = strstr(p + nf, from)) count++;
  char *out = malloc(strlen(text) + count * nt + 1);
  if (!out) return NULL;
  char *w = out;
  const char *r = text;
  for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
    memcpy(w, r, (size_t)(p - r));
    w += p - r;
    memcpy(w, to, nt);
    w += nt;
    r = p + nf;
  }
  strcpy(w, r);
  return out;
}

void clt_cli_flag_names(const char *message, char *out, size_t size) {
  char *text = NULL;
  for (size_t i = 0; i < sizeof openings / sizeof openings[0] && !text; i++) {
    size_t n = strlen(openings[i].library);
    if (strncmp(message, openings[i].library, n) != 0) continue;
    text = malloc(strlen(openings[i].cli) + strlen(message + n) + 1);
    if (text) sprintf(text, "%s%s", openings[i].cli, message + n);
  }
  if (!text) text = strdup(message);
  for (size_t i = 0; i < sizeof anywhere / sizeof anywhere[0] && text; i++) {
    char *next = replace_all(text, anywhere[i].library, anywhere[i].cli);
    free(text);
    text = next;
  }
  snprintf(out, size, "%s", text ? text : message); /* out of memory: the library's words */
  free(text);
}
