#include "train/train_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/file_check.h"
#include "train/checkpoint.h"

clt_status clt_train_log_target(const char *path, int overwrite, char *real, size_t size) {
  int exists;
  CLT_TRY(clt_file_write_target(path, "log", real, size, &exists));
  if (!exists || overwrite) return CLT_OK;
  static const char header[] = CLT_TRAIN_LOG_HEADER;
  char head[sizeof header - 1];
  size_t got;
  CLT_TRY(clt_file_read_head(real, "log", head, sizeof head, &got));
  if (got == 0 || (got == sizeof head && memcmp(head, header, got) == 0)) return CLT_OK;
  if (clt_checkpoint_has_magic(head, got))
    return clt_fail(CLT_ERR_USAGE,
                    "log file %s: that file is a cltrain checkpoint, not a log (did you mean "
                    "to save there?); give another log file, or allow overwriting to replace it",
                    path);
  return clt_fail(CLT_ERR_USAGE,
                  "log file %s: that file exists and is not a cltrain log (it does not start "
                  "with the log's header line); give another log file, or allow overwriting to "
                  "replace it",
                  path);
}

/* Keeps the header and the rows of epochs 1..finished of the existing log real (a regular
 * file: clt_train_log_target); the rewritten file replaces real itself, so that a symbolic
 * link to it stays a link. */
static clt_status trim(const char *real, const char *path, int finished) {
  struct stat sb;
  if (stat(real, &sb) != 0 && errno == ENOENT) return CLT_OK; /* a new log */
  FILE *f = NULL;
  CLT_TRY(clt_file_fopen_read(real, "log", NULL, &f, NULL));
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", real);
  int fd = clt_file_create_fresh(tmp);
  FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!out) {
    if (fd >= 0) close(fd);
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
  if (bad || rename(tmp, real) != 0) {
    remove(tmp);
    return clt_fail(CLT_ERR_IO, "cannot rewrite log %s", path);
  }
  return CLT_OK;
}

clt_status clt_train_log_open(const char *path, int resume, int finished_epochs, int overwrite,
                              FILE **out) {
  *out = NULL;
  char real[4096];
  CLT_TRY(clt_train_log_target(path, overwrite, real, sizeof real));
  if (resume) CLT_TRY(trim(real, path, finished_epochs));
  FILE *f;
  CLT_TRY(clt_file_fopen_write(real, path, "log", resume, &f));
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
