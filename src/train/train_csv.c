#include "train/train_csv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "data/csv_schema.h"

clt_status clt_cli_csv_load(const clt_run_options *ro, const clt_model *m, clt_csv_data **csv,
                            clt_dataset *train, clt_dataset *val, FILE *info) {
  if (ro->subset)
    return clt_fail(CLT_ERR_USAGE, "a subset applies to IDX data; for a CSV file, give a file "
                                   "with fewer rows (head -n N+1 FILE.csv)");
  clt_csv_options o;
  memset(&o, 0, sizeof o);
  o.label = ro->label[0] ? ro->label : NULL;
  o.regression = ro->regression;
  o.skip_bad_rows = ro->skip_bad_rows;
  o.val_split = ro->val_split;
  CLT_TRY(clt_csv_data_open(ro->data, &o, csv));
  const clt_csv_table *t = &(*csv)->table;
  clt_csv_data_describe(*csv, &o, info);
  if (m->input.h != 1 || m->input.w != 1 || m->input.c != t->features)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s takes %dx%dx%d inputs but %s has %d feature columns (besides the label "
                    "\"%s\"); set input = %d in [net]",
                    m->name, m->input.h, m->input.w, m->input.c, t->path, t->features,
                    t->column_names[t->label_column], t->features);
  if (t->regression && !m->regression)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "a regression task needs a model that ends in the [mse] head (a [dense] "
                    "layer with units = 1, then [mse]); %s ends in [softmax]",
                    m->name);
  if (!t->regression && m->regression)
    return clt_fail(CLT_ERR_USAGE,
                    "%s ends in [mse], a regression head: set the task to regression (the label "
                    "\"%s\" is then a numeric target)",
                    m->name, t->column_names[t->label_column]);
  if (!t->regression && t->classes != m->classes)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the label column \"%s\" of %s has %d classes but %s ends in %d outputs; set "
                    "units = %d in the [dense] layer before [softmax]",
                    t->column_names[t->label_column], t->path, t->classes, m->name, m->classes,
                    t->classes);
  *train = (*csv)->train;
  *val = (*csv)->val;
  return CLT_OK;
}

clt_status clt_cli_csv_checkpoint(const clt_csv_data *csv, clt_checkpoint *ck) {
  free(ck->table);
  ck->table = NULL;
  return clt_csv_schema_encode(&csv->table, &ck->table, &ck->table_length);
}

void clt_cli_csv_report_memory(const clt_csv_data *csv, FILE *info) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return;
  fprintf(info,
          "Host memory: peak resident %.1f MiB for a %.1f MB file (the CSV streams hold %.1f "
          "MiB)\n",
          (double)ru.ru_maxrss / 1024.0, (double)csv->table.bytes / 1e6,
          (double)clt_csv_data_host_bytes(csv) / 1048576.0);
}
