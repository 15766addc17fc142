/* The training log (--log FILE.csv): one CSV row per epoch,
 *
 *   epoch,step,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_second
 *
 * with the header once at the top (val_loss and val_accuracy are empty without a
 * validation set). A fresh run starts the file anew; a resumed run appends, after
 * dropping rows of epochs the checkpoint had not finished (a run killed after logging an
 * epoch but before saving it logs that epoch again on resume, so no epoch appears twice).
 * Rows are flushed as they are written. tools/plot-log draws the file. */
#ifndef CLT_TRAIN_TRAIN_LOG_H
#define CLT_TRAIN_TRAIN_LOG_H

#include <stdio.h>

#include "train/trainer.h"

#define CLT_TRAIN_LOG_HEADER                                                                       \
  "epoch,step,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_second"

/* Checks path as the log of a run (before it starts): a new path, an empty file or an
 * existing cltrain log is fine; a checkpoint or any other file is refused with CLT_ERR_USAGE
 * unless overwrite (--overwrite); a folder, device, FIFO or socket always is. The file to
 * write (a symbolic link resolved to the regular file it names) into real. */
clt_status clt_train_log_target(const char *path, int overwrite, char *real, size_t size);

/* Opens path for a run (checked with clt_train_log_target): fresh (resume 0: truncated, header
 * written) or resumed after finished_epochs epochs (rows of later epochs dropped, then appended
 * to; the header is written when the file is new or empty). Through a symbolic link, the file
 * it names is written and the link stays. CLT_ERR_IO on failure. */
clt_status clt_train_log_open(const char *path, int resume, int finished_epochs, int overwrite,
                              FILE **out);

/* Appends the row of one epoch and flushes. CLT_ERR_IO on failure. */
clt_status clt_train_log_write(FILE *log, const char *path, const clt_epoch_report *r);

#endif
