/* Learning-rate schedules (docs/INTERNALS.md "Learning-rate schedules"), on the host in
 * double, once per step. */
#ifndef CLT_OPTIM_SCHEDULE_H
#define CLT_OPTIM_SCHEDULE_H

#include "nn/recipe.h"

/* Learning rate of the 0-based global step of total_steps, with steps_per_epoch steps in
 * an epoch, for the recipe's learning_rate, schedule, step_every, gamma and warmup:
 * constant: base; step: base * gamma^floor(epoch / step_every), epoch = step / steps_per_epoch;
 * cosine: base * 0.5 * (1 + cos(pi * step / total_steps)); then, for step < warmup,
 * lr * (step + 1) / warmup. Equals clt_ref_lr. Degenerate arguments never divide by zero:
 * steps_per_epoch < 1 counts as 1, step_every < 1 as 1, total_steps < 1 makes cosine
 * return base. */
double clt_schedule_lr(const clt_recipe *recipe, long step, long total_steps, int steps_per_epoch);

#endif
