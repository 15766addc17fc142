/* Hand-written: no Debian library draws a Keras-like progress line. */
#include "cli/progress.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "cli/term.h"

#define BAR_WIDTH 30

void clt_progress_init(clt_progress_display *d, FILE *out, int json) {
  d->out = out;
  d->json = json;
  d->terminal = !json && clt_is_terminal(out);
  d->color = !json && clt_use_color(out);
  d->last_epoch_shown = 0;
  d->regression = 0;
}

/* The name of the second metric: accuracy, or the mean absolute error of a regression. */
static const char *metric(const clt_progress_display *d, int val) {
  if (d->regression) return val ? "val_mae" : "mae";
  return val ? "val_accuracy" : "accuracy";
}

static void format_seconds(double s, char *buf, size_t size) {
  if (s < 60)
    snprintf(buf, size, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
  else
    snprintf(buf, size, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void bar(char *buf, int done, int total) {
  int fill = total > 0 ? (int)((long)BAR_WIDTH * done / total) : BAR_WIDTH;
  for (int i = 0; i < BAR_WIDTH; i++) buf[i] = i < fill ? '=' : (i == fill ? '>' : '.');
  if (fill >= BAR_WIDTH) buf[BAR_WIDTH - 1] = '=';
  buf[BAR_WIDTH] = '\0';
}

static void epoch_header(clt_progress_display *d, int epoch, int epochs) {
  if (d->last_epoch_shown == epoch) return;
  d->last_epoch_shown = epoch;
  fprintf(d->out, "Epoch %d/%d\n", epoch, epochs);
}

void clt_progress_update(const clt_progress_info *p, void *display) {
  clt_progress_display *d = display;
  if (d->json || !d->terminal) return; /* not a terminal: one line per epoch, at its end */
  epoch_header(d, p->epoch, p->epochs);
  char b[BAR_WIDTH + 1], el[32], eta[32];
  bar(b, p->step, p->steps);
  format_seconds(p->elapsed, el, sizeof el);
  double per_step = p->step > 0 ? p->elapsed / p->step : 0;
  format_seconds(per_step * (p->steps - p->step), eta, sizeof eta);
  fprintf(d->out, "\r%*d/%d [%s] %s ETA %s %.0fms/step %.0f img/s - loss: %.4f - %s: %.4f\033[K",
          (int)snprintf(NULL, 0, "%d", p->steps), p->step, p->steps, b, el, eta, 1000 * per_step,
          p->images_per_second, p->loss, metric(d, 0), p->accuracy);
  fflush(d->out);
}

void clt_progress_epoch_end(const clt_epoch_info *r, void *display) {
  clt_progress_display *d = display;
  if (d->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    cJSON_AddNumberToObject(o, "epochs", r->epochs);
    cJSON_AddNumberToObject(o, "step", (double)r->global_step);
    cJSON_AddNumberToObject(o, "loss", r->loss);
    cJSON_AddNumberToObject(o, metric(d, 0), r->accuracy);
    if (r->has_validation) {
      cJSON_AddNumberToObject(o, "val_loss", r->val_loss);
      cJSON_AddNumberToObject(o, metric(d, 1), r->val_accuracy);
    }
    cJSON_AddNumberToObject(o, "learning_rate", r->learning_rate);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "images_per_second", r->images_per_second);
    char *text = cJSON_PrintUnformatted(o);
    fprintf(d->out, "%s\n", text);
    free(text);
    cJSON_Delete(o);
    fflush(d->out);
    return;
  }
  epoch_header(d, r->epoch, r->epochs);
  char b[BAR_WIDTH + 1], el[32];
  bar(b, 1, 1);
  format_seconds(r->seconds, el, sizeof el);
  long steps = r->global_step / r->epoch;
  fprintf(d->out, "%s%ld/%ld [%s] %s %.0fms/step %.0f img/s - loss: %.4f - %s: %.4f",
          d->terminal ? "\r" : "", steps, steps, b, el, steps > 0 ? 1000 * r->seconds / steps : 0.0,
          r->images_per_second, r->loss, metric(d, 0), r->accuracy);
  if (r->has_validation)
    fprintf(d->out, " - val_loss: %.4f - %s: %.4f", r->val_loss, metric(d, 1), r->val_accuracy);
  fprintf(d->out, "%s\n", d->terminal ? "\033[K" : "");
  fflush(d->out);
}
