/* The [net] section: input shape and training recipe (see recipe.h for keys and defaults). */
#include "nn/recipe.h"

#include "nn/augment_section.h"

#include <math.h>
#include <string.h>

static const char *const optimizer_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const schedule_names[] = {"constant", "step", "cosine", NULL};

_Static_assert(sizeof optimizer_names / sizeof *optimizer_names == CLT_OPT_COUNT + 1,
               "one name per optimizer");
_Static_assert(sizeof schedule_names / sizeof *schedule_names == CLT_SCHED_COUNT + 1,
               "one name per schedule");

const char *clt_optimizer_name(clt_optimizer opt) {
  return ((int)opt >= 0 && opt < CLT_OPT_COUNT) ? optimizer_names[opt] : "?";
}

int clt_optimizer_from_name(const char *name, clt_optimizer *out) {
  for (int i = 0; i < CLT_OPT_COUNT; i++) {
    if (strcmp(name, optimizer_names[i]) == 0) {
      *out = (clt_optimizer)i;
      return 0;
    }
  }
  return -1;
}

const char *clt_optimizer_choices(void) {
  return "sgd, adam, adamw";
}

const char *clt_schedule_name(clt_schedule sched) {
  return ((int)sched >= 0 && sched < CLT_SCHED_COUNT) ? schedule_names[sched] : "?";
}

int clt_schedule_from_name(const char *name, clt_schedule *out) {
  for (int i = 0; i < CLT_SCHED_COUNT; i++) {
    if (strcmp(name, schedule_names[i]) == 0) {
      *out = (clt_schedule)i;
      return 0;
    }
  }
  return -1;
}

const char *clt_schedule_choices(void) {
  return "constant, step, cosine";
}

void clt_recipe_defaults(clt_recipe *r) {
  *r = (clt_recipe){
      .batch = 32,
      .epochs = 10,
      .optimizer = CLT_OPT_ADAM,
      .learning_rate = 0.001,
      .momentum = 0.0,
      .nesterov = false,
      .weight_decay = 0.0,
      .weight_decay_set = false,
      .schedule = CLT_SCHED_CONSTANT,
      .warmup = 0,
      .step_every = 0,
      .gamma = 0.1,
      .beta1 = 0.9,
      .beta2 = 0.999,
      .epsilon = 1e-7,
      .seed = 42,
  };
}

clt_status clt_recipe_parse(const clt_ini_section *net, clt_recipe *out) {
  clt_recipe r;
  clt_recipe_defaults(&r);
  clt_status st;
  int choice;
  int64_t seed;
#define TRY(call)                                                                                  \
  do {                                                                                             \
    if ((st = (call)) != CLT_OK) return st;                                                        \
  } while (0)
  TRY(clt_ini_get_shape_hwc(net, "input", &r.in_h, &r.in_w, &r.in_c));
  TRY(clt_ini_get_int(net, "batch", r.batch, 1, CLT_RECIPE_MAX_BATCH, &r.batch));
  TRY(clt_ini_get_int(net, "epochs", r.epochs, 1, CLT_RECIPE_MAX_EPOCHS, &r.epochs));
  TRY(clt_ini_get_choice(net, "optimizer", r.optimizer, optimizer_names, &choice));
  r.optimizer = (clt_optimizer)choice;
  TRY(clt_ini_get_float_ex(net, "learning_rate", r.learning_rate, 0.0, 10.0, CLT_INI_ABOVE_MIN,
                           &r.learning_rate));
  TRY(clt_ini_get_float_ex(net, "momentum", r.momentum, 0.0, 1.0, CLT_INI_BELOW_MAX, &r.momentum));
  TRY(clt_ini_get_bool(net, "nesterov", r.nesterov, &r.nesterov));
  r.weight_decay_set = clt_ini_has(net, "weight_decay");
  double decay_default = r.optimizer == CLT_OPT_ADAMW ? CLT_RECIPE_DEFAULT_ADAMW_DECAY : 0.0;
  TRY(clt_ini_get_float_ex(net, "weight_decay", decay_default, 0.0, 1.0, CLT_INI_BELOW_MAX,
                           &r.weight_decay));
  TRY(clt_ini_get_choice(net, "schedule", r.schedule, schedule_names, &choice));
  r.schedule = (clt_schedule)choice;
  TRY(clt_ini_get_int(net, "warmup", r.warmup, 0, CLT_RECIPE_MAX_WARMUP, &r.warmup));
  TRY(clt_ini_get_int(net, "step_every", 0, 1, CLT_RECIPE_MAX_EPOCHS, &r.step_every));
  TRY(clt_ini_get_float_ex(net, "gamma", r.gamma, 0.0, 1.0, CLT_INI_ABOVE_MIN, &r.gamma));
  TRY(clt_ini_get_float_ex(net, "beta1", r.beta1, 0.0, 1.0, CLT_INI_BELOW_MAX, &r.beta1));
  TRY(clt_ini_get_float_ex(net, "beta2", r.beta2, 0.0, 1.0, CLT_INI_BELOW_MAX, &r.beta2));
  TRY(clt_ini_get_float_ex(net, "epsilon", r.epsilon, 0.0, 1.0,
                           CLT_INI_ABOVE_MIN | CLT_INI_BELOW_MAX, &r.epsilon));
  TRY(clt_ini_get_i64(net, "seed", r.seed, 0, UINT32_MAX, &seed));
  r.seed = (uint32_t)seed;
  TRY(clt_ini_check_unused(net));
#undef TRY

  if (r.schedule == CLT_SCHED_STEP && r.step_every == 0)
    return clt_ini_key_fail(net, "schedule",
                            "needs step_every, the number of epochs between learning-rate drops; "
                            "add a line 'step_every = N'");
  long long values = (long long)r.in_h * r.in_w * r.in_c;
  if (values > INT32_MAX)
    return clt_ini_key_fail(
        net, "input", "%lld values per sample, more than 2147483647; use a smaller input", values);
  *out = r;
  return CLT_OK;
}

clt_status clt_recipe_from_ini(const clt_ini *ini, clt_recipe *out) {
  if (ini->section_count == 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: no sections; a model file starts with a [net] section (input shape and "
                    "training recipe)",
                    ini->name);
  const clt_ini_section *net = &ini->sections[0];
  if (strcmp(net->name, "net") != 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s:%d: the first section must be [net] (input shape and training recipe), "
                    "found [%s]; add a [net] section at the top",
                    ini->name, net->line, net->name);
  for (int i = 1; i < ini->section_count; i++) {
    const clt_ini_section *sec = &ini->sections[i];
    if (strcmp(sec->name, "net") == 0)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s:%d: a second [net] section (the first is on line %d); keep one",
                      ini->name, sec->line, net->line);
  }
  clt_recipe r;
  CLT_TRY(clt_recipe_parse(net, &r));
  CLT_TRY(clt_augment_from_ini(ini, &r));
  *out = r;
  return CLT_OK;
}
