#include "train/run_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/augment_section.h"
#include "nn/ini.h"
#include "train/checkpoint.h"

char *clt_run_options_text(const clt_run_options *o, const clt_recipe *r) {
  size_t size = 4 * CLT_RUN_PATH_MAX + 4096;
  char *t = malloc(size);
  if (!t) return NULL;
  int n = snprintf(t, size,
                   "[net]\n"
                   "input = %dx%dx%d\nbatch = %d\nepochs = %d\noptimizer = %s\n"
                   "learning_rate = %.17g\nmomentum = %.17g\nnesterov = %d\n"
                   "weight_decay = %.17g\nschedule = %s\nwarmup = %d\n",
                   r->in_h, r->in_w, r->in_c, r->batch, r->epochs, clt_optimizer_name(r->optimizer),
                   r->learning_rate, r->momentum, r->nesterov ? 1 : 0, r->weight_decay,
                   clt_schedule_name(r->schedule), r->warmup);
  if (r->step_every > 0) n += snprintf(t + n, size - (size_t)n, "step_every = %d\n", r->step_every);
  n += snprintf(t + n, size - (size_t)n,
                "gamma = %.17g\nbeta1 = %.17g\nbeta2 = %.17g\nepsilon = %.17g\nseed = %u\n",
                r->gamma, r->beta1, r->beta2, r->epsilon, r->seed);
  if (clt_augment_active(r)) /* only then: without augmentation the text is as before */
    n += snprintf(t + n, size - (size_t)n, "[augment]\ncrop_padding = %d\nflip = %s\n",
                  r->augment_crop, clt_flip_name(r->augment_flip));
  n += snprintf(t + n, size - (size_t)n,
                "[run]\n"
                "model = %s\ndata = %s\nsubset = %d\nval_split = %.17g\nread_every = %d\n"
                "stream = %d\nsave = %s\nsave_every = %d\nkeep_best = %d\nlog = %s\n"
                "cltrain = %s\n",
                o->model, o->data, o->subset, o->val_split, o->read_every, o->stream, o->save,
                o->save_every, o->keep_best, o->log, o->version);
  if (o->label[0] || o->regression || o->skip_bad_rows) /* CSV data */
    n += snprintf(t + n, size - (size_t)n, "label = %s\ntask = %s\nskip_bad_rows = %d\n", o->label,
                  o->regression ? "regression" : "classification", o->skip_bad_rows);
  if (o->skip_bad_images) /* image folders */
    n += snprintf(t + n, size - (size_t)n, "skip_bad_images = 1\n");
  (void)n;
  return t;
}

static clt_status bad(const char *name, const char *key) {
  return clt_fail(CLT_ERR_BAD_DATA,
                  "%s: the run options lack a valid '%s'; the checkpoint was not written by this "
                  "cltrain: train again",
                  name, key);
}

static clt_status get_string(const char *text, const char *name, const char *key, char *out) {
  if (!clt_checkpoint_value(text, key, out, CLT_RUN_PATH_MAX)) return bad(name, key);
  return CLT_OK;
}

static clt_status get_int(const char *text, const char *name, const char *key, int *out) {
  char buf[64], *end;
  if (!clt_checkpoint_value(text, key, buf, sizeof buf)) return bad(name, key);
  long v = strtol(buf, &end, 10);
  if (buf[0] == '\0' || *end != '\0' || v < 0 || v > 2147483647L) return bad(name, key);
  *out = (int)v;
  return CLT_OK;
}

clt_status clt_run_options_parse(const char *text, const char *name, clt_run_options *o,
                                 clt_recipe *r) {
  memset(o, 0, sizeof *o);
  /* The [net] section alone through the model-file reader (the [run] values are read raw:
   * paths may hold characters the INI grammar treats as comments). */
  const char *run = strstr(text, "\n[run]\n");
  if (strncmp(text, "[net]\n", 6) != 0 || !run) return bad(name, "[net]");
  clt_ini *ini = NULL;
  CLT_TRY(clt_ini_parse(text, (size_t)(run - text) + 1, name, &ini));
  /* [net], then [augment] when the run augments. */
  int count = ini->section_count;
  clt_status st =
      count == 1 || (count == 2 && strcmp(ini->sections[1].name, CLT_AUGMENT_SECTION) == 0)
          ? clt_recipe_parse(&ini->sections[0], r)
          : bad(name, "[net]");
  if (st == CLT_OK) st = clt_ini_check_unused(&ini->sections[0]);
  if (st == CLT_OK) st = clt_augment_from_ini(ini, r);
  clt_ini_free(ini);
  CLT_TRY(st);
  run += 7;
  char buf[64], *end;
  CLT_TRY(get_string(run, name, "model", o->model));
  CLT_TRY(get_string(run, name, "data", o->data));
  CLT_TRY(get_int(run, name, "subset", &o->subset));
  if (!clt_checkpoint_value(run, "val_split", buf, sizeof buf)) return bad(name, "val_split");
  o->val_split = strtod(buf, &end);
  if (*end != '\0' || !(o->val_split >= 0 && o->val_split < 1)) return bad(name, "val_split");
  CLT_TRY(get_int(run, name, "read_every", &o->read_every));
  CLT_TRY(get_int(run, name, "stream", &o->stream));
  CLT_TRY(get_string(run, name, "save", o->save));
  CLT_TRY(get_int(run, name, "save_every", &o->save_every));
  CLT_TRY(get_int(run, name, "keep_best", &o->keep_best));
  CLT_TRY(get_string(run, name, "log", o->log));
  clt_checkpoint_value(run, "cltrain", o->version, sizeof o->version);
  /* CSV options: absent from older checkpoints and from runs on IDX data. */
  clt_checkpoint_value(run, "label", o->label, sizeof o->label);
  if (clt_checkpoint_value(run, "task", buf, sizeof buf))
    o->regression = !strcmp(buf, "regression");
  if (clt_checkpoint_value(run, "skip_bad_rows", buf, sizeof buf)) o->skip_bad_rows = atoi(buf);
  if (clt_checkpoint_value(run, "skip_bad_images", buf, sizeof buf)) o->skip_bad_images = atoi(buf);
  return CLT_OK;
}
