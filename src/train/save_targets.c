/* Checks of the files a training run writes (save_targets.h). */
#include "train/save_targets.h"

#include <string.h>
#include <sys/stat.h>

#include "train/checkpoint.h"
#include "train/train_log.h"

/* 1 when a and b are the same path or name the same existing file. */
static int same_file(const char *a, const char *b) {
  if (strcmp(a, b) == 0) return 1;
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

clt_status clt_save_targets_check(const char *save, int keep_best, const char *log, int overwrite) {
  int saving = save && save[0], logging = log && log[0];
  char best[4200];
  if (saving) {
    CLT_TRY(clt_checkpoint_target_check(save, overwrite));
    if (clt_checkpoint_best_path(save, best, sizeof best) != 0)
      return clt_fail(CLT_ERR_USAGE, "save path %s: path too long", save);
    if (keep_best) CLT_TRY(clt_checkpoint_target_check(best, overwrite));
  }
  if (logging) {
    char real[4096];
    CLT_TRY(clt_train_log_target(log, overwrite, real, sizeof real));
  }
  if (saving && logging && (same_file(save, log) || (keep_best && same_file(best, log))))
    return clt_fail(CLT_ERR_USAGE,
                    "log file %s and save path %s name the same file: the log would destroy the "
                    "checkpoint; give them different names (e.g. run.csv and run.ckpt)",
                    log, save);
  return CLT_OK;
}
