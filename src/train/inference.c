#include "train/inference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clt_status names_from(clt_inference *inf) {
  int k = inf->model->classes;
  inf->class_names = calloc((size_t)k, sizeof *inf->class_names);
  if (!inf->class_names) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  const char *line = inf->ck.class_names;
  for (int i = 0; i < k; i++) {
    char buf[128];
    const char *end = line ? strchr(line, '\n') : NULL;
    if (end) {
      snprintf(buf, sizeof buf, "%.*s", (int)(end - line), line);
      line = end + 1;
    } else {
      snprintf(buf, sizeof buf, "%d", i);
      line = NULL;
    }
    inf->class_names[i] = strdup(buf);
    if (!inf->class_names[i]) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  return CLT_OK;
}

clt_status clt_inference_open(const char *path, const clt_device_options *dev, int batch,
                              clt_inference *out) {
  memset(out, 0, sizeof *out);
  out->path = path;
  clt_recipe r;
  CLT_TRY(clt_checkpoint_read(path, &out->ck));
  CLT_TRY(clt_run_options_parse(out->ck.options, path, &out->run, &r));
  char name[CLT_RUN_PATH_MAX + 64];
  snprintf(name, sizeof name, "%s", out->run.model[0] ? out->run.model : path);
  CLT_TRY(clt_checkpoint_model(&out->ck, path, name, &out->model));
  out->model->recipe = r;
  CLT_TRY(names_from(out));
  CLT_TRY(clt_open_device(dev, 0, &out->ctx));
  CLT_TRY(
      clt_network_create(out->model, out->ctx, batch > 0 ? batch : r.batch, 0, r.seed, &out->net));
  return clt_checkpoint_restore(out->net, &out->ck, 0);
}

void clt_inference_close(clt_inference *inf) {
  clt_network_destroy(inf->net);
  clt_ctx_destroy(inf->ctx);
  if (inf->class_names && inf->model)
    for (int i = 0; i < inf->model->classes; i++) free(inf->class_names[i]);
  free(inf->class_names);
  clt_model_free(inf->model);
  clt_checkpoint_free(&inf->ck);
  memset(inf, 0, sizeof *inf);
}
