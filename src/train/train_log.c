#include "train/train_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the header and the rows of epochs 1..finished of an existing log. */
static clt_status trim(const char *path, int finished) {
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? CLT_OK
                           : clt_fail(CLT_ERR_IO, "cannot read log %s: %s", path, strerror(errno));
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *out = fopen(tmp, "w");
  if (!out) {
    fclose(f);
    return clt_fail(CLT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
  }
  char line[4096];
  int first = 1;
  while (fgets(line, sizeof line, f)) {
    if (first && strncmp(line, "epoch,", 6) == 0) {
      fputs(line, out);
      first = 0;
      continue;
    }
    first = 0;
    char *end;
    long epoch = strtol(line, &end, 10);
    if (end != line && *end == ',' && epoch >= 1 && epoch <= finished) fputs(line, out);
  }
  int bad = ferror(f) || fflush(out) != 0 || ferror(out);
  fclose(f);
  bad |= fclose(out) != 0;
  if (bad || rename(tmp, path) != 0) {
    remove(tmp);
    return clt_fail(CLT_ERR_IO, "cannot rewrite log %s", path);
  }
  return CLT_OK;
}

clt_status clt_train_log_open(const char *path, int resume, int finished_epochs, FILE **out) {
  *out = NULL;
  if (resume) CLT_TRY(trim(path, finished_epochs));
  FILE *f = fopen(path, resume ? "a" : "w");
  if (!f)
    return clt_fail(CLT_ERR_IO,
                    "cannot open log %s: %s; check that the folder exists and is writable", path,
                    strerror(errno));
  if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0) {
    fprintf(f, "%s\n", CLT_TRAIN_LOG_HEADER);
    if (fflush(f) != 0) {
      fclose(f);
      return clt_fail(CLT_ERR_IO, "cannot write log %s: %s", path, strerror(errno));
    }
  }
  *out = f;
  return CLT_OK;
}

clt_status clt_train_log_write(FILE *log, const char *path, const clt_epoch_report *r) {
  if (r->has_validation)
    fprintf(log, "%d,%ld,%.6f,%.6f,%.6f,%.6f,%.9g,%.3f,%.1f\n", r->epoch, r->global_step, r->loss,
            r->accuracy, r->val_loss, r->val_accuracy, r->learning_rate, r->seconds,
            r->images_per_second);
  else
    fprintf(log, "%d,%ld,%.6f,%.6f,,,%.9g,%.3f,%.1f\n", r->epoch, r->global_step, r->loss,
            r->accuracy, r->learning_rate, r->seconds, r->images_per_second);
  if (fflush(log) != 0 || ferror(log))
    return clt_fail(CLT_ERR_IO, "cannot write log %s: %s", path, strerror(errno));
  return CLT_OK;
}
