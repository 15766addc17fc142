/* The files a training run writes (--save, its --keep-best file, --log), checked before the run
 * starts so that a wrong path stops it at once, not after the first epoch: each must be a
 * regular file or a new path, an existing one must be of its kind (a checkpoint for --save, a
 * log for --log) unless --overwrite, and --save and --log must not name the same file. */
#ifndef CLT_TRAIN_SAVE_TARGETS_H
#define CLT_TRAIN_SAVE_TARGETS_H

#include "cltrain/status.h"

/* save and log: "" (or NULL) when not given. CLT_ERR_USAGE naming the path and what to do. */
clt_status clt_save_targets_check(const char *save, int keep_best, const char *log, int overwrite);

#endif
