/* cltrain eval on a CSV file: the file read with the checkpoint's CSV statistics (section
 * TABL): its features standardised with the training mean and standard deviation, its
 * labels mapped to the training classes; streamed in file order. */
#ifndef CLT_TRAIN_EVAL_CSV_H
#define CLT_TRAIN_EVAL_CSV_H

#include "train/inference.h"
#include "data/dataset.h"

typedef struct clt_cli_csv_eval clt_cli_csv_eval;

/* Opens path for inf's model; test becomes a view of its stream. */
clt_status clt_cli_csv_eval_open(const clt_inference *inf, const char *path, clt_cli_csv_eval **out,
                                 clt_dataset *test);
void clt_cli_csv_eval_close(clt_cli_csv_eval *e);

#endif
