/* Between a network and a checkpoint (capture and restore), and the checkpoint's text
 * sections. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/memory.h"
#include "train/checkpoint.h"
#include "train/checkpoint_internal.h"

/* ---- between a network and a checkpoint -------------------------------------------------- */

static clt_status table_of(const clt_network *net, clt_checkpoint_layer **out, size_t *params,
                           size_t *state) {
  int count = net->model->layer_count;
  clt_checkpoint_layer *t = calloc((size_t)(count ? count : 1), sizeof *t);
  if (!t) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the tensor table");
  *params = *state = 0;
  for (int i = 0; i < count; i++) {
    const clt_layer_sizes *s = &net->layers[i].sizes;
    t[i].param_count = s->param_count;
    for (int p = 0; p < s->param_count; p++) {
      t[i].param_floats[p] = s->params[p].count;
      *params += s->params[p].count;
    }
    t[i].state_floats = s->state_floats;
    *state += s->state_floats;
  }
  *out = t;
  return CLT_OK;
}

/* Host copies of the three arenas (the optimizer one only when it exists). */
typedef struct arena_images {
  float *params, *optimizer, *state;
  size_t param_floats; /* floats in the parameter arena, padding included */
} arena_images;

static void free_images(arena_images *a) {
  free(a->params);
  free(a->optimizer);
  free(a->state);
}

static clt_status alloc_images(const clt_network *net, arena_images *a) {
  memset(a, 0, sizeof *a);
  a->param_floats = net->params.size / sizeof(float);
  a->params = calloc(net->params.size ? net->params.size : 1, 1);
  a->optimizer = calloc(net->optimizer.size ? net->optimizer.size : 1, 1);
  a->state = calloc(net->state.size ? net->state.size : 1, 1);
  if (!a->params || !a->optimizer || !a->state) {
    free_images(a);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory copying the network's tensors");
  }
  return CLT_OK;
}

static int all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

clt_status clt_checkpoint_capture(clt_network *net, clt_checkpoint *ck) {
  clt_checkpoint_layer *table = NULL;
  size_t params = 0, state = 0;
  CLT_TRY(table_of(net, &table, &params, &state));
  arena_images a;
  clt_status st = alloc_images(net, &a);
  if (st != CLT_OK) {
    free(table);
    return st;
  }
  int blocks = net->optimizer.size ? net->optimizer_blocks : 0;
  float *p = malloc((params ? params : 1) * sizeof *p);
  float *o = malloc((params * (size_t)blocks + 1) * sizeof *o);
  float *s = malloc((state ? state : 1) * sizeof *s);
  if (!p || !o || !s) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a checkpoint");
  if (st == CLT_OK) st = clt_buffer_read(net->ctx, net->params.mem, 0, net->params.size, a.params);
  if (st == CLT_OK && blocks)
    st = clt_buffer_read(net->ctx, net->optimizer.mem, 0, net->optimizer.size, a.optimizer);
  if (st == CLT_OK && net->state.size)
    st = clt_buffer_read(net->ctx, net->state.mem, 0, net->state.size, a.state);
  if (st == CLT_OK) {
    size_t pi = 0, si = 0, oi = 0;
    for (int b = 0; b < blocks; b++)
      for (int i = 0; i < net->model->layer_count; i++)
        for (int k = 0; k < net->layers[i].sizes.param_count; k++) {
          size_t off = net->layers[i].param_offset[k] / sizeof(float),
                 cnt = table[i].param_floats[k];
          memcpy(o + oi, a.optimizer + (size_t)b * a.param_floats + off, cnt * sizeof *o);
          oi += cnt;
        }
    for (int i = 0; i < net->model->layer_count; i++) {
      const clt_net_layer *nl = &net->layers[i];
      for (int k = 0; k < nl->sizes.param_count; k++) {
        memcpy(p + pi, a.params + nl->param_offset[k] / sizeof(float),
               nl->sizes.params[k].count * sizeof *p);
        pi += nl->sizes.params[k].count;
      }
      memcpy(s + si, a.state + nl->state_offset / sizeof(float),
             nl->sizes.state_floats * sizeof *s);
      si += nl->sizes.state_floats;
    }
  }
  free_images(&a);
  if (st == CLT_OK &&
      (!all_finite(p, params) || !all_finite(o, params * (size_t)blocks) || !all_finite(s, state)))
    st = clt_fail(CLT_ERR_NON_FINITE, "the parameters or optimizer state hold NaN or infinite "
                                      "values; lower the learning rate");
  if (st != CLT_OK) {
    free(table);
    free(p);
    free(o);
    free(s);
    return st;
  }
  free(ck->layers);
  free(ck->params);
  free(ck->optimizer);
  free(ck->state);
  ck->layer_count = net->model->layer_count;
  ck->layers = table;
  ck->optimizer_blocks = blocks;
  ck->params = p;
  ck->param_floats = params;
  ck->optimizer = o;
  ck->optimizer_floats = params * (size_t)blocks;
  ck->state = s;
  ck->state_floats = state;
  return CLT_OK;
}

static clt_status compare_tables(const clt_network *net, const clt_checkpoint *ck) {
  const clt_model *m = net->model;
  if (ck->layer_count != m->layer_count)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the checkpoint holds tensors of %d layers but the model has %d; use the model "
                    "the checkpoint was made with",
                    ck->layer_count, m->layer_count);
  for (int i = 0; i < m->layer_count; i++) {
    const clt_layer_sizes *s = &net->layers[i].sizes;
    const clt_checkpoint_layer *l = &ck->layers[i];
    int same = l->param_count == s->param_count && l->state_floats == s->state_floats;
    for (int p = 0; same && p < s->param_count; p++)
      same = l->param_floats[p] == s->params[p].count;
    if (!same)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "the checkpoint's tensors of layer %d (%s) differ from the model's; use the "
                      "model the checkpoint was made with",
                      i + 1, m->layers[i].ops->name);
  }
  return CLT_OK;
}

clt_status clt_checkpoint_restore(clt_network *net, const clt_checkpoint *ck, int with_optimizer) {
  CLT_TRY(compare_tables(net, ck));
  int blocks = net->optimizer.size ? net->optimizer_blocks : 0;
  if (with_optimizer && blocks != ck->optimizer_blocks)
    return clt_fail(CLT_ERR_USAGE,
                    "the checkpoint holds %d optimizer-state tensors per parameter but this run's "
                    "optimizer needs %d: resume with the optimizer the checkpoint was made with",
                    ck->optimizer_blocks, blocks);
  arena_images a;
  CLT_TRY(alloc_images(net, &a));
  size_t pi = 0, si = 0, oi = 0;
  for (int i = 0; i < net->model->layer_count; i++) {
    const clt_net_layer *nl = &net->layers[i];
    for (int k = 0; k < nl->sizes.param_count; k++) {
      memcpy(a.params + nl->param_offset[k] / sizeof(float), ck->params + pi,
             nl->sizes.params[k].count * sizeof(float));
      pi += nl->sizes.params[k].count;
    }
    memcpy(a.state + nl->state_offset / sizeof(float), ck->state + si,
           nl->sizes.state_floats * sizeof(float));
    si += nl->sizes.state_floats;
  }
  if (with_optimizer)
    for (int b = 0; b < blocks; b++)
      for (int i = 0; i < net->model->layer_count; i++)
        for (int k = 0; k < net->layers[i].sizes.param_count; k++) {
          size_t off = net->layers[i].param_offset[k] / sizeof(float);
          size_t cnt = net->layers[i].sizes.params[k].count;
          memcpy(a.optimizer + (size_t)b * a.param_floats + off, ck->optimizer + oi,
                 cnt * sizeof(float));
          oi += cnt;
        }
  clt_status st = clt_buffer_write(net->ctx, net->params.mem, 0, net->params.size, a.params);
  if (st == CLT_OK && net->state.size)
    st = clt_buffer_write(net->ctx, net->state.mem, 0, net->state.size, a.state);
  if (st == CLT_OK && with_optimizer && blocks)
    st = clt_buffer_write(net->ctx, net->optimizer.mem, 0, net->optimizer.size, a.optimizer);
  free_images(&a);
  return st;
}

/* ---- text sections ------------------------------------------------------------------------ */

char *clt_checkpoint_device_text(const clt_ctx *ctx) {
  clt_bytes b = {0};
  char line[2600];
  const clt_device_info *d = &ctx->dev;
  snprintf(line, sizeof line,
           "device = %s\nvendor = %s\nplatform = %s\nplatform_version = %s\ndriver = %s\n"
           "device_version = %s\nopencl_c = %s\nbuild_options = %s\n",
           d->name, d->vendor, d->platform_name, d->platform_version, d->driver_version,
           d->device_version, d->opencl_c_version, ctx->std_option);
  clt_bytes_put(&b, line, strlen(line));
  for (int i = 0; i < ctx->program_count; i++) {
    snprintf(line, sizeof line, "program %s = %s\n", ctx->programs[i].file,
             ctx->programs[i].options ? ctx->programs[i].options : "");
    clt_bytes_put(&b, line, strlen(line));
  }
  clt_bytes_put(&b, "", 1);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return (char *)b.p;
}

int clt_checkpoint_value(const char *text, const char *key, char *buf, size_t size) {
  if (size) buf[0] = '\0';
  if (!text) return 0;
  size_t klen = strlen(key);
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > klen + 2 && strncmp(line, key, klen) == 0 && strncmp(line + klen, " = ", 3) == 0) {
      size_t vlen = len - klen - 3;
      if (vlen + 1 > size) return 0;
      memcpy(buf, line + klen + 3, vlen);
      buf[vlen] = '\0';
      return 1;
    }
    if (len == klen + 2 && strncmp(line, key, klen) == 0 && strncmp(line + klen, " =", 2) == 0)
      return 1; /* an empty value */
    line += len + (end ? 1 : 0);
  }
  return 0;
}

int clt_checkpoint_best_path(const char *path, char *out, size_t size) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) dot = base + strlen(base); /* no extension, or a hidden file */
  int n = snprintf(out, size, "%.*s-best%s", (int)(dot - path), path, dot);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}
