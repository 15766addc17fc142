/* Layer names (the key `name`, allowed in every layer section) and the key `from`
 * of layers with a second input ([add]): reading, checking and resolving them
 * while nn/model.c builds a model layer by layer. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nn/model.h"

clt_status clt_model_read_name(const clt_model *m, const clt_ini_section *sec, clt_model_layer *l);
clt_status clt_model_resolve_from(clt_model *m, const clt_ini_section *sec, clt_model_layer *l);

static int valid_name(const char *s) {
  if (!isalpha((unsigned char)s[0]) && s[0] != '_') return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return 0;
  return 1;
}

static int find_layer(const clt_model *m, int before, const char *name) {
  for (int i = 0; i < before; i++)
    if (m->layers[i].name[0] && strcmp(m->layers[i].name, name) == 0) return i;
  return -1;
}

/* "a, b, c" of the names of layers [0, before), or "none". */
static void list_names(const clt_model *m, int before, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < before && len < size; i++)
    if (m->layers[i].name[0])
      len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", m->layers[i].name);
  if (!buf[0]) snprintf(buf, size, "none");
}

clt_status clt_model_read_name(const clt_model *m, const clt_ini_section *sec, clt_model_layer *l) {
  const char *name = NULL;
  CLT_TRY(clt_ini_get_string(sec, "name", NULL, &name));
  if (!name) return CLT_OK;
  if (!valid_name(name) || strlen(name) >= CLT_LAYER_NAME_MAX)
    return clt_ini_key_fail(sec, "name",
                            "a layer name is a letter or '_' then letters, digits or '_', at most "
                            "%d characters (e.g. stage1)",
                            CLT_LAYER_NAME_MAX - 1);
  int other = find_layer(m, m->layer_count, name);
  if (other >= 0)
    return clt_ini_key_fail(sec, "name",
                            "layer [%s] at line %d already has this name; give each layer its "
                            "own name",
                            m->layers[other].ops->name, m->layers[other].line);
  snprintf(l->name, sizeof l->name, "%s", name);
  return CLT_OK;
}

/* l is m->layers[m->layer_count - 1], parsed; its input shape is set. */
clt_status clt_model_resolve_from(clt_model *m, const clt_ini_section *sec, clt_model_layer *l) {
  if (!l->ops->from) return CLT_OK;
  const char *from = l->ops->from(l->self);
  int self_index = m->layer_count - 1;
  int i = find_layer(m, self_index, from);
  if (i < 0) {
    char names[512];
    list_names(m, self_index, names, sizeof names);
    if (l->name[0] && strcmp(l->name, from) == 0)
      return clt_ini_key_fail(sec, "from", "names this layer itself; name an earlier layer");
    return clt_ini_key_fail(sec, "from",
                            "no earlier layer has name = %s (from must name a layer above this "
                            "one); earlier names: %s",
                            from, names);
  }
  l->from = i;
  m->layers[i].readers++;
  l->ops->set_from_shape(l->self, m->layers[i].out);
  return CLT_OK;
}
