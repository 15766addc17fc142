/* The data a run uses, checked against its model before the first step (training,
 * validation and test sets alike), and the options that apply to one kind of data only. */
#ifndef CLT_TRAIN_DATA_CHECK_H
#define CLT_TRAIN_DATA_CHECK_H

#include "data/csv_table.h"
#include "data/dataset.h"
#include "nn/model.h"

/* ds against m: its image shape must be m's input shape and, for a classifier, its classes
 * at most m's outputs and every label in [0, m->classes). what names the set ("training
 * set", "test set"), where its folder or file. CLT_ERR_BAD_DATA with one line otherwise.
 * A streamed set (images NULL) is checked by shape and classes only. */
clt_status clt_data_check_model(const clt_dataset *ds, const clt_model *m, const char *what,
                                const char *where);

/* The CSV statistics a checkpoint holds (schema) against its model (checkpoint names it):
 * as many features as the model's inputs (1x1xF), and as many classes as its outputs. */
clt_status clt_data_check_schema(const clt_csv_schema *schema, const clt_model *m,
                                 const char *checkpoint);

/* option (a setting name: "label") was given for data (a folder or CSV file). csv_only: 1 when the
 * option applies to CSV tables only, 0 when to image data only. CLT_ERR_USAGE when data is
 * of the other kind: an option that would be ignored is refused instead. */
clt_status clt_data_option_check(const char *data, const char *option, int csv_only);

/* --keep-best keeps the checkpoint of the best validation accuracy; without validation
 * samples (--val-split 0, or a split that rounds to none) there is none: CLT_ERR_USAGE. */
clt_status clt_keep_best_check(int keep_best, const clt_dataset *val);

#endif
