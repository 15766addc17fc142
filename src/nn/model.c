#include "nn/model.h"

#include "nn/augment_section.h"
#include "runtime/file_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODEL_BYTES (1u << 20)

/* Layer names and the key from (nn/model_names.c). */
clt_status clt_model_read_name(const clt_model *m, const clt_ini_section *sec, clt_model_layer *l);
clt_status clt_model_resolve_from(clt_model *m, const clt_ini_section *sec, clt_model_layer *l);

static clt_status unknown_section(const clt_ini_section *sec) {
  const char *known[32];
  int n = 0;
  known[n++] = "net";
  known[n++] = CLT_AUGMENT_SECTION;
  for (const clt_layer_ops *const *ops = clt_layer_all(); *ops && n < 31; ops++)
    known[n++] = (*ops)->name;
  known[n] = NULL;
  return clt_ini_unknown_section(sec, known);
}

static clt_status add_layer(clt_model *m, const clt_ini_section *sec, clt_shape *shape) {
  if (strcmp(sec->name, "net") == 0)
    return clt_ini_section_fail(sec, "appears twice; a model has one [net] section, the first");
  const clt_layer_ops *ops = clt_layer_find(sec->name);
  if (!ops) return unknown_section(sec);
  clt_model_layer *l = &m->layers[m->layer_count];
  memset(l, 0, sizeof *l);
  l->ops = ops;
  l->line = sec->line;
  l->from = -1;
  CLT_TRY(clt_model_read_name(m, sec, l));
  CLT_TRY(ops->parse(sec, &l->self));
  m->layer_count++; /* from here on model_free releases it */
  CLT_TRY(clt_ini_check_unused(sec));
  l->in = *shape;
  CLT_TRY(clt_model_resolve_from(m, sec, l));
  CLT_TRY(ops->infer(l->self, sec, l->in, &l->out));
  clt_layer_sizes sizes;
  memset(&sizes, 0, sizeof sizes);
  ops->sizes(l->self, 1, &sizes);
  for (int p = 0; p < sizes.param_count; p++) l->param_floats += sizes.params[p].count;
  m->param_floats += l->param_floats;
  *shape = l->out;
  return CLT_OK;
}

/* The loss heads, one of which ends every model. */
static int is_head(const char *name) {
  return strcmp(name, "softmax") == 0 || strcmp(name, "mse") == 0;
}

static clt_status build(clt_model *m, clt_ini *ini) {
  CLT_TRY(clt_recipe_from_ini(ini, &m->recipe));
  m->input = (clt_shape){m->recipe.in_h, m->recipe.in_w, m->recipe.in_c};
  m->layers = calloc((size_t)ini->section_count, sizeof *m->layers);
  if (!m->layers) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading a model");
  clt_shape shape = m->input;
  const clt_ini_section *last = NULL;
  for (int i = 1; i < ini->section_count; i++) {
    const clt_ini_section *sec = &ini->sections[i];
    if (strcmp(sec->name, CLT_AUGMENT_SECTION) == 0) continue; /* recipe, not a layer */
    if (last && is_head(last->name))
      return clt_ini_section_fail(sec,
                                  "comes after [%s], which must be the last layer; move [%s] to "
                                  "the end",
                                  last->name, last->name);
    CLT_TRY(add_layer(m, sec, &shape));
    last = sec;
  }
  if (!last || !is_head(last->name)) {
    const clt_ini_section *end = last ? last : &ini->sections[0];
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s:%d: [%s] is the last section; the model must end with a [softmax] section "
                    "(the classification head): add one after a [dense] layer with units = number "
                    "of classes (or an [mse] section, the regression head, after units = 1)",
                    m->name, end->line, end->name);
  }
  m->classes = shape.c;
  m->regression = strcmp(last->name, "mse") == 0;
  return CLT_OK;
}

clt_status clt_model_parse(const char *text, size_t length, const char *name, clt_model **out) {
  *out = NULL;
  clt_model *m = calloc(1, sizeof *m);
  if (!m) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading a model");
  m->name = strdup(name ? name : "<model>");
  m->text = malloc(length + 1);
  if (!m->name || !m->text) {
    clt_model_free(m);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading a model");
  }
  memcpy(m->text, text, length);
  m->text[length] = '\0';
  m->text_length = length;
  clt_ini *ini = NULL;
  clt_status st = clt_ini_parse(text, length, m->name, &ini);
  if (st == CLT_OK) st = build(m, ini);
  clt_ini_free(ini);
  if (st != CLT_OK) {
    clt_model_free(m);
    return st;
  }
  *out = m;
  return CLT_OK;
}

clt_status clt_model_load(const char *path, clt_model **out) {
  *out = NULL;
  unsigned char *text;
  size_t n;
  CLT_TRY(clt_file_read_all(path, "model file", "give a model file such as models/fashion_cnn.cfg",
                            MAX_MODEL_BYTES, "is it really a model file?", &text, &n));
  clt_status st = clt_model_parse((const char *)text, n, path, out);
  free(text);
  return st;
}

void clt_model_free(clt_model *model) {
  if (!model) return;
  for (int i = 0; i < model->layer_count; i++)
    if (model->layers[i].self) model->layers[i].ops->destroy(model->layers[i].self);
  free(model->layers);
  free(model->name);
  free(model->text);
  free(model);
}
