/* The public API's queries and the full evaluation on a session (include/cltrain/cltrain.h),
 * moved from train/session.c. */
#include <stdlib.h>
#include <string.h>

#include "data/csv_data.h"
#include "runtime/fail.h"
#include "train/data_check.h"
#include "train/eval_csv.h"
#include "train/session_internal.h"
#include "train/summary.h"

int clt_session_rank(const clt_session *s, int *ranks) {
  if (ranks) *ranks = s ? clt_peers_size(s->peers) : 1;
  return s ? clt_peers_rank(s->peers) : 0;
}

clt_status clt_session_model(const clt_session *s, clt_model_info *info) {
  if (!s || !info) return clt_fail(CLT_ERR_USAGE, "clt_session_model: no session or no info");
  clt_model_info i;
  memset(&i, 0, sizeof i);
  const clt_model *m = s->model;
  i.height = m->input.h;
  i.width = m->input.w;
  i.channels = m->input.c;
  i.classes = m->classes;
  i.layers = m->layer_count;
  i.parameters = m->param_floats;
  i.regression = m->regression;
  i.batch = s->net->batch;
  i.epochs = m->recipe.epochs;
  i.epochs_done = s->pos.epoch;
  i.train_samples = s->data.train.n;
  i.val_samples = s->data.val.n;
  i.test_samples = s->data.test.n;
  i.global_step = s->pos.global_step;
  i.name = m->name;
  i.data = s->ro->data;
  if (s->inference) i.epochs = s->inf.ck.epochs;
  size_t n = info->struct_size < sizeof i ? info->struct_size : sizeof i;
  i.struct_size = n;
  memcpy(info, &i, n);
  return CLT_OK;
}

clt_status clt_session_summary(const clt_session *s, char *buf, size_t size, size_t *needed) {
  if (!s) return clt_fail(CLT_ERR_USAGE, "clt_session_summary: no session");
  char *text = NULL;
  size_t length = 0;
  FILE *f = open_memstream(&text, &length);
  if (!f) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the summary");
  clt_train_summary(f, s->model, s->ctx, s->net->optimizer_blocks, &s->data.train, &s->data.val,
                    &s->data.test);
  int bad = fclose(f) != 0;
  if (bad || !text) {
    free(text);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the summary");
  }
  if (needed) *needed = length + 1;
  if (buf && size > 0) snprintf(buf, size, "%s", text);
  free(text);
  return CLT_OK;
}

clt_status clt_session_memory(const clt_session *s, clt_memory_info *info) {
  if (!s || !info) return clt_fail(CLT_ERR_USAGE, "clt_session_memory: no session or no info");
  clt_memory_plan plan;
  clt_network_plan(s->model, s->ctx, s->net->batch, s->net->optimizer_blocks, &plan);
  clt_memory_info i;
  memset(&i, 0, sizeof i);
  i.parameters = plan.params;
  i.gradients = plan.grads;
  i.optimizer = plan.optimizer;
  i.state = plan.state;
  i.activations = plan.activations;
  i.total = plan.total;
  i.activation_chunks = plan.activation_chunks;
  const clt_dataset *t = &s->data.train;
  size_t sample = (size_t)t->h * (size_t)t->w * (size_t)t->c * sizeof(float);
  i.data = t->source ? 2 * (size_t)s->net->batch * sample
                     : ((size_t)t->n + (size_t)s->data.val.n) * sample;
  i.device = s->ctx->dev.global_mem;
  size_t n = info->struct_size < sizeof i ? info->struct_size : sizeof i;
  i.struct_size = n;
  memcpy(info, &i, n);
  return CLT_OK;
}

clt_status clt_session_class_name(const clt_session *s, int i, const char **name) {
  if (!s || !name) return clt_fail(CLT_ERR_USAGE, "clt_session_class_name: no session or name");
  *name = NULL;
  if (i < 0 || i >= s->model->classes)
    return clt_fail(CLT_ERR_USAGE, "class %d does not exist: the model has %d classes (0 to %d)", i,
                    s->model->classes, s->model->classes - 1);
  *name = s->inference ? s->inf.class_names[i] : s->names[i];
  return CLT_OK;
}

clt_status clt_session_samples(const clt_session *s, clt_split split, int first, int count,
                               float *images, int *labels) {
  if (!s || !images) return clt_fail(CLT_ERR_USAGE, "clt_session_samples: no session or images");
  const clt_dataset *ds = split == CLT_SPLIT_TRAIN        ? &s->data.train
                          : split == CLT_SPLIT_VALIDATION ? &s->data.val
                                                          : &s->data.test;
  if (ds->source)
    return clt_fail(CLT_ERR_UNSUPPORTED, "the session's data are streamed from a file, not held "
                                         "in memory: read the samples from the file itself");
  if (first < 0 || count < 0 || first > ds->n - count)
    return clt_fail(CLT_ERR_USAGE, "samples %d to %d asked for, but the split holds %d", first,
                    first + count - 1, ds->n);
  size_t sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
  if (count > 0)
    memcpy(images, ds->images + (size_t)first * sample, (size_t)count * sample * sizeof(float));
  for (int i = 0; labels && i < count; i++) labels[i] = ds->labels[first + i];
  return CLT_OK;
}

/* The test data of an evaluation into test (moved from the cltrain eval command). */
static clt_status report_data(clt_session *s, const char *dir, int subset, clt_dataset *test,
                              clt_cli_csv_eval **csv) {
  const clt_model *m = s->model;
  clt_status st = CLT_OK;
  if (clt_csv_data_path(dir) && !s->inference)
    return clt_fail(CLT_ERR_UNSUPPORTED, "a CSV file is evaluated with the statistics a "
                                         "checkpoint holds: save the session and open the "
                                         "checkpoint (clt_session_open_checkpoint)");
  if (clt_csv_data_path(dir))
    st = clt_cli_csv_eval_open(&s->inf, dir, csv, test);
  else
    st = clt_session_load_test(s, dir, test);
  if (st == CLT_OK && *csv && subset)
    st = clt_fail(CLT_ERR_USAGE, "a subset applies to IDX data; for a CSV file, give a file "
                                 "with fewer rows");
  if (st == CLT_OK && subset && subset < test->n) st = clt_dataset_subset(test, 0, subset, test);
  if (st == CLT_OK) st = clt_data_check_model(test, m, "test set", dir);
  return st;
}

clt_status clt_session_report(clt_session *s, const char *data, int subset,
                              clt_eval_report *report) {
  if (!s || !report) return clt_fail(CLT_ERR_USAGE, "clt_session_report: no session or report");
  clt_warning_route old = clt_session_route_warnings(s);
  clt_eval_result_free(&s->report);
  free(s->report_scores);
  s->report_scores = NULL;
  const char *dir = data ? data : s->ro->data;
  clt_dataset test;
  memset(&test, 0, sizeof test);
  clt_cli_csv_eval *csv = NULL;
  clt_eval_result *r = &s->report;
  clt_status st = report_data(s, dir, subset, &test, &csv);
  if (st == CLT_OK) st = clt_evaluate_detailed(s->net, &test, r);
  if (st == CLT_OK) {
    s->report_scores = calloc((size_t)(r->classes > 0 ? r->classes : 1), sizeof *s->report_scores);
    if (!s->report_scores) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  if (st == CLT_OK) {
    clt_eval_report e;
    memset(&e, 0, sizeof e);
    e.samples = r->n;
    e.classes = r->classes;
    e.loss = r->loss;
    e.accuracy = r->accuracy;
    e.top5 = r->top5;
    e.mae = r->mae;
    e.confusion = r->confusion;
    for (int c = 0; c < r->classes && r->per_class; c++) {
      const clt_class_stats *p = &r->per_class[c];
      s->report_scores[c] = (clt_class_scores){p->precision, p->recall, p->f1, p->support};
    }
    e.per_class = s->report_scores;
    e.macro =
        (clt_class_scores){r->macro.precision, r->macro.recall, r->macro.f1, r->macro.support};
    e.weighted = (clt_class_scores){r->weighted.precision, r->weighted.recall, r->weighted.f1,
                                    r->weighted.support};
    size_t n = report->struct_size < sizeof e ? report->struct_size : sizeof e;
    e.struct_size = n;
    memcpy(report, &e, n);
  }
  clt_dataset_free(&test);
  clt_cli_csv_eval_close(csv);
  clt_warning_route_set(old);
  return st;
}
