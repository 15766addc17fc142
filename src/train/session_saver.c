/* Checkpoints of a training session (train/session_saver.h), moved from train/session.c. */
#include "train/session_saver.h"

#include <stdlib.h>
#include <string.h>

#include "cltrain/status.h"
#include "runtime/fail.h"
#include "train/train_csv.h"

clt_status clt_saver_save(const clt_train_position *pos, const clt_epoch_report *rep, int new_best,
                          void *user) {
  saver *s = user;
  (void)rep;
  /* A failed log write stops the run here, at a consistent point. */
  if (s->log_status && *s->log_status != CLT_OK) return *s->log_status;
  s->ck.pos = *pos;
  free(s->ck.device);
  s->ck.device = clt_checkpoint_device_text(s->net->ctx);
  if (!s->ck.device) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory saving");
  clt_status st = clt_checkpoint_capture(s->net, &s->ck);
  if (st == CLT_ERR_NON_FINITE)
    return clt_fail(st,
                    "the parameters became NaN or infinite by step %ld; %s is left as it was; "
                    "lower the learning rate",
                    pos->global_step, s->path);
  CLT_TRY(st);
  CLT_TRY(clt_checkpoint_write(s->path, &s->ck));
  if (new_best && s->keep_best) CLT_TRY(clt_checkpoint_write(s->best, &s->ck));
  return CLT_OK;
}

static char *class_names_text(const clt_dataset *ds) {
  if (!ds->class_names) return NULL;
  size_t n = 1;
  for (int i = 0; i < ds->classes; i++) n += strlen(ds->class_names[i]) + 1;
  char *t = malloc(n);
  if (!t) return NULL;
  t[0] = '\0';
  for (int i = 0; i < ds->classes; i++) {
    strcat(t, ds->class_names[i]);
    strcat(t, "\n");
  }
  return t;
}

clt_status clt_saver_init(saver *s, clt_network *net, const clt_model *model,
                          const clt_run_options *ro, const train_data *d,
                          const clt_status *log_status, const char *layout) {
  memset(s, 0, sizeof *s);
  s->net = net;
  s->path = ro->save;
  s->keep_best = ro->keep_best;
  s->log_status = log_status;
  if (clt_checkpoint_best_path(ro->save, s->best, sizeof s->best) != 0)
    return clt_fail(CLT_ERR_USAGE, "save path %s: path too long", ro->save);
  clt_checkpoint *ck = &s->ck;
  ck->version = CLT_CHECKPOINT_VERSION;
  ck->model_text = malloc(model->text_length + 1);
  ck->options = clt_run_options_text(ro, &model->recipe);
  ck->class_names = class_names_text(&d->train);
  if (!ck->model_text || !ck->options || (d->train.class_names && !ck->class_names))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory preparing checkpoints");
  memcpy(ck->model_text, model->text, model->text_length);
  ck->model_text[model->text_length] = '\0';
  ck->model_length = model->text_length;
  ck->epochs = model->recipe.epochs;
  ck->steps_per_epoch = (d->train.n + net->batch - 1) / net->batch;
  ck->batch = net->batch;
  ck->seed = model->recipe.seed;
  ck->train_n = d->train.n;
  ck->val_n = d->val.n;
  ck->data_crc = clt_checkpoint_data_crc(&d->train);
  if (layout && !(ck->layout = strdup(layout)))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory preparing checkpoints");
  if (d->csv) CLT_TRY(clt_cli_csv_checkpoint(d->csv, ck));
  return CLT_OK;
}
