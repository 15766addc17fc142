/* Learning-rate schedules (docs/INTERNALS.md "Learning-rate schedules"). The same
 * arithmetic as src/ref/ref_schedule.c, kept separate so the library does not depend on
 * the test reference. */
#include "optim/schedule.h"

#include <math.h>

/* M_PI is not in strict C11. */
static const double pi = 3.14159265358979323846;

double clt_schedule_lr(const clt_recipe *recipe, long step, long total_steps, int steps_per_epoch) {
  double base = recipe->learning_rate;
  double lr = base;
  switch (recipe->schedule) {
  case CLT_SCHED_STEP: {
    long per_epoch = steps_per_epoch > 0 ? steps_per_epoch : 1;
    long every = recipe->step_every > 0 ? recipe->step_every : 1;
    long epoch = step / per_epoch;
    lr = base * pow(recipe->gamma, (double)(epoch / every));
    break;
  }
  case CLT_SCHED_COSINE:
    if (total_steps > 0) lr = base * 0.5 * (1.0 + cos(pi * (double)step / (double)total_steps));
    break;
  case CLT_SCHED_CONSTANT:
  default:
    break;
  }
  if (recipe->warmup > 0 && step < recipe->warmup)
    lr = lr * (double)(step + 1) / (double)recipe->warmup;
  return lr;
}
