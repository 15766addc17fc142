#include "train/data_check.h"

#include "data/csv_data.h"

clt_status clt_data_check_model(const clt_dataset *ds, const clt_model *m, const char *what,
                                const char *where) {
  if (ds->h != m->input.h || ds->w != m->input.w || ds->c != m->input.c)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s takes %dx%dx%d inputs but the %s in %s is %dx%dx%d; use data of the "
                    "model's input size (or set input = %dx%dx%d in [net] and train afresh)",
                    m->name, m->input.h, m->input.w, m->input.c, what, where, ds->h, ds->w, ds->c,
                    ds->h, ds->w, ds->c);
  if (m->regression) return CLT_OK;
  if (ds->classes > m->classes)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the %s in %s has %d classes but %s ends in %d outputs; use the data the "
                    "model is made for (or set units = %d in the [dense] layer before [softmax])",
                    what, where, ds->classes, m->name, m->classes, ds->classes);
  if (!ds->labels) return CLT_OK;
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] < 0 || ds->labels[i] >= m->classes)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "label %d of sample %d of the %s in %s is outside the %d classes of %s; "
                      "use the data the model is made for",
                      (int)ds->labels[i], i, what, where, m->classes, m->name);
  return CLT_OK;
}

clt_status clt_data_check_schema(const clt_csv_schema *schema, const clt_model *m,
                                 const char *checkpoint) {
  if (m->input.h != 1 || m->input.w != 1 || m->input.c != schema->features)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: its model takes %dx%dx%d inputs but its CSV statistics describe %d "
                    "feature columns; the checkpoint is inconsistent: use another checkpoint",
                    checkpoint, m->input.h, m->input.w, m->input.c, schema->features);
  if (!schema->regression != !m->regression ||
      (!schema->regression && schema->classes != m->classes))
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: its model has %d outputs (%s) but its CSV statistics describe %s; the "
                    "checkpoint is inconsistent: use another checkpoint",
                    checkpoint, m->classes, m->regression ? "regression" : "classes",
                    schema->regression ? "a regression target" : "another number of classes");
  return CLT_OK;
}

clt_status clt_data_option_check(const char *data, const char *option, int csv_only) {
  int csv = clt_csv_data_path(data);
  if (csv_only && !csv)
    return clt_fail(CLT_ERR_USAGE,
                    "the %s setting applies to CSV data, but %s is image data; leave it unset",
                    option, data);
  if (!csv_only && csv)
    return clt_fail(CLT_ERR_USAGE,
                    "the %s setting applies to image data, but %s is a CSV table (it holds no "
                    "images); leave it unset",
                    option, data);
  return CLT_OK;
}

clt_status clt_keep_best_check(int keep_best, const clt_dataset *val) {
  if (!keep_best || val->n > 0) return CLT_OK;
  return clt_fail(CLT_ERR_USAGE,
                  "keeping the best checkpoint needs a validation set, but this run has none; "
                  "set a validation split above 0 or do not keep the best");
}
