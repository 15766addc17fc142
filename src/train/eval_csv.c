#include "train/eval_csv.h"

#include <stdlib.h>
#include <string.h>

#include "data/csv_schema.h"
#include "data/csv_stream.h"
#include "train/data_check.h"

struct clt_cli_csv_eval {
  clt_csv_schema schema;
  clt_csv_table table;
  clt_csv_stream *stream;
  clt_batch_source source;
};

clt_status clt_cli_csv_eval_open(const clt_inference *inf, const char *path, clt_cli_csv_eval **out,
                                 clt_dataset *test) {
  *out = NULL;
  if (!inf->ck.table)
    return clt_fail(CLT_ERR_USAGE,
                    "%s was not trained on CSV data (it holds no CSV statistics), so it cannot "
                    "be evaluated on %s; evaluate it on the kind of data it was trained on",
                    inf->path, path);
  clt_cli_csv_eval *e = calloc(1, sizeof *e);
  if (!e) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  clt_status st = clt_csv_schema_decode(inf->ck.table, inf->ck.table_length, inf->path, &e->schema);
  if (st == CLT_OK) st = clt_data_check_schema(&e->schema, inf->model, inf->path);
  clt_csv_options o;
  memset(&o, 0, sizeof o);
  o.fixed = &e->schema;
  o.skip_bad_rows = inf->run.skip_bad_rows;
  if (st == CLT_OK) st = clt_csv_scan(path, &o, &e->table);
  if (st == CLT_OK) st = clt_csv_stream_create(&e->table, 0, e->table.rows, 0, &e->stream);
  if (st != CLT_OK) {
    clt_cli_csv_eval_close(e);
    return st;
  }
  clt_csv_stream_dataset(e->stream, &e->source, test);
  *out = e;
  return CLT_OK;
}

void clt_cli_csv_eval_close(clt_cli_csv_eval *e) {
  if (!e) return;
  clt_csv_stream_destroy(e->stream);
  clt_csv_table_free(&e->table);
  clt_csv_schema_free(&e->schema);
  free(e);
}
