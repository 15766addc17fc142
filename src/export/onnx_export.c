#include "export/onnx_export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx_input.h"
#include "export/onnx_map.h"

/* Every layer has a mapping and the checkpoint's tensor table fits the model: checked
 * before anything is built, so a refusal names the first layer at fault. */
static clt_status check_model(const clt_model *m, const clt_checkpoint *ck) {
  for (int i = 0; i < m->layer_count; i++) {
    const clt_model_layer *ml = &m->layers[i];
    if (!clt_onnx_mapping(ml->ops->name))
      return clt_fail(CLT_ERR_BAD_DATA,
                      "layer %d [%s] (model line %d) has no ONNX form, so this model cannot be "
                      "exported; ONNX export supports %s",
                      i + 1, ml->ops->name, ml->line, clt_onnx_supported_layers());
  }
  if (ck->layer_count != m->layer_count)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the checkpoint holds tensors of %d layers but its model has %d; the file is "
                    "damaged: use another checkpoint",
                    ck->layer_count, m->layer_count);
  size_t params = 0, state = 0;
  for (int i = 0; i < m->layer_count; i++) {
    clt_layer_sizes sz;
    m->layers[i].ops->sizes(m->layers[i].self, 1, &sz);
    const clt_checkpoint_layer *t = &ck->layers[i];
    int same = t->param_count == sz.param_count && t->state_floats == sz.state_floats;
    for (int p = 0; same && p < sz.param_count; p++) {
      same = t->param_floats[p] == sz.params[p].count;
      params += sz.params[p].count;
    }
    state += sz.state_floats;
    if (!same)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "the checkpoint's tensors of layer %d [%s] do not fit its model; the file "
                      "is damaged: use another checkpoint",
                      i + 1, m->layers[i].ops->name);
  }
  if (params != ck->param_floats || state != ck->state_floats)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the checkpoint holds %zu parameter and %zu state floats but its model "
                    "needs %zu and %zu; the file is damaged: use another checkpoint",
                    ck->param_floats, ck->state_floats, params, state);
  return CLT_OK;
}

/* The model file's base name without extension ("models/resnet8.cfg" -> "resnet8"). */
static void graph_name(const clt_checkpoint *ck, char *buf, size_t size) {
  char path[4096];
  if (!ck->options || !clt_checkpoint_value(ck->options, "model", path, sizeof path) || !path[0]) {
    snprintf(buf, size, "cltrain");
    return;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  snprintf(buf, size, "%.*s", (int)(size - 1), base);
  char *dot = strrchr(buf, '.');
  if (dot && dot != buf) *dot = '\0';
}

/* The class names as a JSON array: the checkpoint's (one a line), else "0", "1", ... */
static char *class_names_json(const clt_checkpoint *ck, int classes) {
  cJSON *arr = cJSON_CreateArray();
  const char *line = ck->class_names;
  for (int i = 0; arr && i < classes; i++) {
    char buf[256];
    const char *end = line ? strchr(line, '\n') : NULL;
    if (end) {
      snprintf(buf, sizeof buf, "%.*s", (int)(end - line), line);
      line = end + 1;
    } else {
      snprintf(buf, sizeof buf, "%d", i);
      line = NULL;
    }
    cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
  }
  char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
  cJSON_Delete(arr);
  return text;
}

static void add_metadata(clt_onnx_graph *g, const clt_model *m, const clt_checkpoint *ck,
                         const char *version) {
  clt_onnx_add_metadata(g, "producer", "cltrain");
  clt_onnx_add_metadata(g, "cltrain_version", version);
  clt_onnx_add_metadata(g, "head", m->regression ? "mse" : "softmax");
  if (!m->regression) {
    char *names = class_names_json(ck, m->classes);
    clt_onnx_add_metadata(g, "class_names", names);
    free(names);
  }
  clt_onnx_add_metadata(g, "cltrain_model_file", ck->model_text ? ck->model_text : "");
}

/* Maps every layer in order; values[i] is layer i's output. */
static clt_status build(clt_onnx_graph *g, const clt_model *m, const clt_checkpoint *ck,
                        const char *version, clt_onnx_value *values) {
  clt_onnx_value x;
  CLT_TRY(clt_onnx_add_graph_input(g, m, ck, &x));
  const float *params = ck->params, *state = ck->state;
  for (int i = 0; i < m->layer_count; i++) {
    const clt_model_layer *ml = &m->layers[i];
    clt_onnx_layer l;
    memset(&l, 0, sizeof l);
    l.g = g;
    l.index = i;
    l.ml = ml;
    if (ml->ops->info) ml->ops->info(ml->self, &l.info);
    l.param_count = ck->layers[i].param_count;
    for (int p = 0; p < l.param_count; p++) {
      l.params[p] = params;
      params += ck->layers[i].param_floats[p];
    }
    l.state = state;
    state += ck->layers[i].state_floats;
    l.x = x;
    if (ml->from >= 0) l.skip = values[ml->from];
    CLT_TRY(clt_onnx_mapping(ml->ops->name)(&l));
    values[i] = x = l.y;
  }
  const int64_t out_dims[2] = {-1, m->regression ? 1 : m->classes};
  clt_onnx_add_output(g, x.name, out_dims, 2);
  add_metadata(g, m, ck, version);
  return CLT_OK;
}

clt_status clt_onnx_export(const clt_checkpoint *ck, const char *path, const char *producer_version,
                           clt_onnx_summary *summary) {
  clt_model *m = NULL;
  CLT_TRY(clt_model_parse(ck->model_text, ck->model_length, "the checkpoint's model", &m));
  clt_status st = check_model(m, ck);
  char name[256];
  graph_name(ck, name, sizeof name);
  clt_onnx_graph *g = st == CLT_OK ? clt_onnx_graph_create(name) : NULL;
  clt_onnx_value *values = st == CLT_OK ? calloc((size_t)m->layer_count, sizeof *values) : NULL;
  if (st == CLT_OK && (!g || !values))
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory exporting %s", path);
  if (st == CLT_OK) st = build(g, m, ck, producer_version, values);
  if (st == CLT_OK) st = clt_onnx_graph_write(g, path, "cltrain", producer_version);
  if (st == CLT_OK && summary) {
    memset(summary, 0, sizeof *summary);
    summary->input = m->input;
    summary->tabular = ck->table != NULL;
    summary->outputs = m->regression ? 1 : m->classes;
    summary->output = m->regression ? CLT_ONNX_PREDICTION : CLT_ONNX_PROBABILITIES;
    summary->layers = m->layer_count;
    summary->param_floats = ck->param_floats;
    clt_onnx_graph_counts(g, &summary->nodes, &summary->initializers);
  }
  free(values);
  clt_onnx_graph_free(g);
  clt_model_free(m);
  return st;
}

clt_status clt_onnx_export_file(const char *checkpoint, const char *path,
                                const char *producer_version, clt_onnx_summary *summary) {
  clt_checkpoint ck;
  clt_status st = clt_checkpoint_read(checkpoint, &ck);
  if (st == CLT_OK) st = clt_onnx_export(&ck, path, producer_version, summary);
  clt_checkpoint_free(&ck);
  return st;
}
