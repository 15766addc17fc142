/* cltrain train --data FILE.csv: the CSV options of the run into a streamed data set, with
 * the checks that tie it to the model (input = number of features, outputs = classes). */
#ifndef CLT_TRAIN_TRAIN_CSV_H
#define CLT_TRAIN_TRAIN_CSV_H

#include <stdio.h>

#include "data/csv_data.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/run_options.h"

/* Opens ro->data as CSV; train and val become views of (*csv)'s streams. */
clt_status clt_cli_csv_load(const clt_run_options *ro, const clt_model *m, clt_csv_data **csv,
                            clt_dataset *train, clt_dataset *val, FILE *info);

/* The CSV statistics into ck (section TABL), for eval and resume. */
clt_status clt_cli_csv_checkpoint(const clt_csv_data *csv, clt_checkpoint *ck);

/* The peak resident memory of the process (getrusage) beside what the streams hold. */
void clt_cli_csv_report_memory(const clt_csv_data *csv, FILE *info);

#endif
