/* Learning-rate schedules, per step (INTERNALS.md "Learning-rate schedules"). */
#include "ref/ref.h"

#include <math.h>

/* M_PI is not in strict C11. */
static const double pi = 3.14159265358979323846;

double clt_ref_lr(const clt_ref_schedule *p, long step, long total_steps, int steps_per_epoch) {
  double lr = p->base;
  switch (p->kind) {
  case CLT_REF_SCHED_STEP: {
    long epoch = step / steps_per_epoch;
    lr = p->base * pow(p->gamma, (double)(epoch / p->step_every));
    break;
  }
  case CLT_REF_SCHED_COSINE:
    lr = p->base * 0.5 * (1.0 + cos(pi * (double)step / (double)total_steps));
    break;
  case CLT_REF_SCHED_CONSTANT:
  default:
    break;
  }
  if (p->warmup > 0 && step < p->warmup) lr = lr * (double)(step + 1) / (double)p->warmup;
  return lr;
}
