/* A checkpoint's model, checked against the checkpoint's tensors before anything is planned
 * or allocated for it (train/checkpoint.h, clt_checkpoint_model). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/checkpoint.h"

/* The tensor table of layer l of m, as the model defines it. */
static void layer_sizes(const clt_model *m, int l, clt_layer_sizes *s) {
  memset(s, 0, sizeof *s);
  m->layers[l].ops->sizes(m->layers[l].self, 1, s);
}

static clt_status compare_table(const clt_checkpoint *ck, const clt_model *m, const char *name) {
  if (ck->layer_count != m->layer_count)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: its model text has %d layers but the stored tensors are of %d; the model "
                    "text does not match the stored tensors (the checkpoint was altered): use "
                    "another checkpoint",
                    name, m->layer_count, ck->layer_count);
  for (int i = 0; i < m->layer_count; i++) {
    clt_layer_sizes s;
    layer_sizes(m, i, &s);
    const clt_checkpoint_layer *l = &ck->layers[i];
    int same = l->param_count == s.param_count && l->state_floats == s.state_floats;
    for (int p = 0; same && p < s.param_count; p++) same = l->param_floats[p] == s.params[p].count;
    if (!same)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: layer %d ([%s], line %d of its model text) does not match the stored "
                      "tensors (the checkpoint was altered): use another checkpoint",
                      name, i + 1, m->layers[i].ops->name, m->layers[i].line);
  }
  return CLT_OK;
}

/* The first non-finite float of v[n], or n. */
static size_t first_non_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return i;
  return n;
}

static clt_status non_finite(const char *name, const char *what, int layer, const clt_model *m,
                             const char *tensor, size_t index, float v) {
  return clt_fail(CLT_ERR_BAD_DATA,
                  "%s: %s of layer %d ([%s]) %s holds %s at index %zu; a checkpoint holds finite "
                  "values only (it is damaged or was altered): use another checkpoint",
                  name, what, layer + 1, m->layers[layer].ops->name, tensor,
                  isnan(v) ? "NaN" : "an infinite value", index);
}

/* Every parameter, optimizer-state and layer-state float must be finite. */
static clt_status check_finite(const clt_checkpoint *ck, const clt_model *m, const char *name) {
  size_t pi = 0, si = 0;
  for (int i = 0; i < m->layer_count; i++) {
    clt_layer_sizes s;
    layer_sizes(m, i, &s);
    for (int p = 0; p < s.param_count; p++) {
      size_t n = s.params[p].count, k = first_non_finite(ck->params + pi, n);
      if (k < n)
        return non_finite(name, "parameter", i, m, s.params[p].name, k, ck->params[pi + k]);
      for (int b = 0; b < ck->optimizer_blocks; b++) {
        const float *o = ck->optimizer + (size_t)b * ck->param_floats + pi;
        k = first_non_finite(o, n);
        if (k < n) {
          char what[48];
          snprintf(what, sizeof what, "optimizer state %d of %d", b + 1, ck->optimizer_blocks);
          return non_finite(name, what, i, m, s.params[p].name, k, o[k]);
        }
      }
      pi += n;
    }
    size_t n = s.state_floats, k = first_non_finite(ck->state + si, n);
    if (k < n)
      return non_finite(name, "layer state", i, m, "(running statistics)", k, ck->state[si + k]);
    si += n;
  }
  return CLT_OK;
}

clt_status clt_checkpoint_model(const clt_checkpoint *ck, const char *name, const char *model_name,
                                clt_model **out) {
  *out = NULL;
  clt_model *m = NULL;
  CLT_TRY(clt_model_parse(ck->model_text, ck->model_length, model_name, &m));
  clt_status st = compare_table(ck, m, name);
  if (st == CLT_OK) st = check_finite(ck, m, name);
  if (st != CLT_OK) {
    clt_model_free(m);
    return st;
  }
  *out = m;
  return CLT_OK;
}
