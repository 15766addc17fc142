/* The [net] section: defaults, overrides, placement and range errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nn/recipe.h"
#include "util/expect.h"

#define NAME "models/m.cfg"

/* Parses text and returns the status of clt_recipe_from_ini(). */
static clt_status recipe_of(const char *text, clt_recipe *r) {
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string(text, NAME, &ini));
  clt_status st = clt_recipe_from_ini(ini, r);
  clt_ini_free(ini);
  return st;
}

static void expect_bad(const char *text, const char *fragment) {
  clt_recipe r;
  memset(&r, 0xAB, sizeof r);
  clt_recipe before;
  memcpy(&before, &r, sizeof r);
  clt_status st = recipe_of(text, &r);
  if (st != CLT_ERR_BAD_DATA)
    fail_msg("expected bad data for '%s', got %s", text, clt_status_string(st));
  EXPECT_MESSAGE_HAS(fragment);
  assert_memory_equal(&r, &before, sizeof r); /* untouched on failure */
}

static bool recipe_equal(const clt_recipe *a, const clt_recipe *b) {
  return a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c && a->batch == b->batch &&
         a->epochs == b->epochs && a->optimizer == b->optimizer &&
         a->learning_rate == b->learning_rate && a->momentum == b->momentum &&
         a->nesterov == b->nesterov && a->weight_decay == b->weight_decay &&
         a->weight_decay_set == b->weight_decay_set && a->schedule == b->schedule &&
         a->warmup == b->warmup && a->step_every == b->step_every && a->gamma == b->gamma &&
         a->beta1 == b->beta1 && a->beta2 == b->beta2 && a->epsilon == b->epsilon &&
         a->seed == b->seed;
}

static void test_defaults(void **state) {
  (void)state;
  clt_recipe r;
  assert_int_equal(recipe_of("[net]\ninput = 28x28x1\n[conv]\nfilters = 3\n", &r), CLT_OK);
  assert_int_equal(r.in_h, 28);
  assert_int_equal(r.in_w, 28);
  assert_int_equal(r.in_c, 1);
  assert_int_equal(r.batch, 32);
  assert_int_equal(r.epochs, 10);
  assert_int_equal(r.optimizer, CLT_OPT_ADAM);
  assert_true(r.learning_rate == 0.001);
  assert_true(r.momentum == 0.0);
  assert_false(r.nesterov);
  assert_true(r.weight_decay == 0.0);
  assert_false(r.weight_decay_set);
  assert_int_equal(r.schedule, CLT_SCHED_CONSTANT);
  assert_int_equal(r.warmup, 0);
  assert_int_equal(r.step_every, 0);
  assert_true(r.gamma == 0.1);
  assert_true(r.beta1 == 0.9);
  assert_true(r.beta2 == 0.999);
  assert_true(r.epsilon == 1e-7);
  assert_int_equal(r.seed, 42);

  clt_recipe d;
  clt_recipe_defaults(&d);
  d.in_h = d.in_w = 28;
  d.in_c = 1;
  assert_true(recipe_equal(&d, &r));
}

static void test_overrides(void **state) {
  (void)state;
  const char *text = "# Keras tutorial CNN on Fashion-MNIST\n"
                     "[net]\n"
                     "input = 32x30x3        # H x W x C\n"
                     "batch = 64\n"
                     "epochs = 12\n"
                     "optimizer = sgd       # sgd | adam | adamw\n"
                     "learning_rate = 0.05\n"
                     "momentum = 0.9         # sgd only\n"
                     "nesterov = yes\n"
                     "weight_decay = 5e-4\n"
                     "schedule = step    # constant | step | cosine\n"
                     "warmup = 100             # steps\n"
                     "step_every = 3         # epochs, schedule=step only\n"
                     "gamma = 0.5            # schedule=step only\n"
                     "beta1 = 0.8\n"
                     "beta2 = 0.99\n"
                     "epsilon = 1e-8\n"
                     "seed = 4294967295\n"
                     "\n"
                     "[conv]\nfilters = 32\nsize = 3\nactivation = relu\n[maxpool]\nsize = 2\n"
                     "[softmax]\n";
  clt_recipe r;
  assert_int_equal(recipe_of(text, &r), CLT_OK);
  assert_int_equal(r.in_h, 32);
  assert_int_equal(r.in_w, 30);
  assert_int_equal(r.in_c, 3);
  assert_int_equal(r.batch, 64);
  assert_int_equal(r.epochs, 12);
  assert_int_equal(r.optimizer, CLT_OPT_SGD);
  assert_true(r.learning_rate == 0.05);
  assert_true(r.momentum == 0.9);
  assert_true(r.nesterov);
  assert_true(r.weight_decay == 5e-4);
  assert_true(r.weight_decay_set);
  assert_int_equal(r.schedule, CLT_SCHED_STEP);
  assert_int_equal(r.warmup, 100);
  assert_int_equal(r.step_every, 3);
  assert_true(r.gamma == 0.5);
  assert_true(r.beta1 == 0.8);
  assert_true(r.beta2 == 0.99);
  assert_true(r.epsilon == 1e-8);
  assert_true(r.seed == 4294967295u);

  /* the example of the brief: keys of another optimizer or schedule are accepted */
  assert_int_equal(recipe_of("[net]\ninput = 28x28x1\noptimizer = adam\nmomentum = 0.9\n"
                             "nesterov = 0\nschedule = constant\nstep_every = 3\ngamma = 0.1\n",
                             &r),
                   CLT_OK);
  assert_int_equal(r.step_every, 3);
  assert_true(r.momentum == 0.9);
}

static void test_adamw_decay(void **state) {
  (void)state;
  clt_recipe r;
  assert_int_equal(recipe_of("[net]\ninput = 1x1x1\noptimizer = adamw\n", &r), CLT_OK);
  assert_int_equal(r.optimizer, CLT_OPT_ADAMW);
  assert_true(r.weight_decay == 0.01);
  assert_false(r.weight_decay_set);
  assert_int_equal(recipe_of("[net]\ninput = 1x1x1\noptimizer = adamw\nweight_decay = 0\n", &r),
                   CLT_OK);
  assert_true(r.weight_decay == 0.0);
  assert_true(r.weight_decay_set);
  assert_int_equal(recipe_of("[net]\ninput = 1x1x1\noptimizer = adam\n", &r), CLT_OK);
  assert_true(r.weight_decay == 0.0);
}

static void test_placement(void **state) {
  (void)state;
  expect_bad("# only comments\n", NAME ": no sections; a model file starts with a [net] section");
  expect_bad("# first\n[conv]\nfilters = 3\n[net]\ninput = 1x1x1\n",
             NAME ":2: the first section must be [net]");
  expect_bad("[net]\ninput = 1x1x1\n[conv]\nfilters = 3\n\n[net]\ninput = 2x2x2\n",
             NAME ":6: a second [net] section (the first is on line 1)");
}

static void test_unknown_and_missing(void **state) {
  (void)state;
  expect_bad("[net]\ninput = 28x28x1\nlearnig_rate = 0.1\n",
             NAME ":3: [net] unknown key 'learnig_rate' (did you mean 'learning_rate'?); known "
                  "keys: input, batch, epochs, optimizer, learning_rate, momentum, nesterov, "
                  "weight_decay, schedule, warmup, step_every, gamma, beta1, beta2, epsilon, seed");
  expect_bad("\n[net]\nbatch = 3\n", NAME ":2: [net] missing key 'input'");
  expect_bad("[net]\ninput = 28x28\n", NAME ":2: [net] input = 28x28: must be HxWxC");
  expect_bad("[net]\ninput = 65536x65536x1\n", "[net] input = 65536x65536x1: 4294967296 values");
  expect_bad("[net]\ninput = 1x1x1\nschedule = step\n",
             NAME ":3: [net] schedule = step: needs step_every");
}

static void test_ranges(void **state) {
  (void)state;
  static const struct {
    const char *line;
    const char *fragment;
  } cases[] = {
      {"batch = 0", "batch = 0: must be an integer from 1 to 1048576"},
      {"batch = 1048577", "must be an integer from 1 to 1048576"},
      {"batch = 3x", "batch = 3x: not a whole number"},
      {"epochs = 0", "epochs = 0: must be an integer from 1 to 100000"},
      {"optimizer = rmsprop", "optimizer = rmsprop: unknown choice; use one of sgd, adam, adamw"},
      {"learning_rate = 0", "learning_rate = 0: must be a number > 0 and <= 10"},
      {"learning_rate = 11", "must be a number > 0 and <= 10"},
      {"learning_rate = fast", "not a number"},
      {"momentum = 1", "momentum = 1: must be a number >= 0 and < 1"},
      {"momentum = -0.1", "must be a number >= 0 and < 1"},
      {"nesterov = 2", "nesterov = 2: must be 0, 1, true, false, yes or no"},
      {"weight_decay = 1", "must be a number >= 0 and < 1"},
      {"schedule = linear", "use one of constant, step, cosine"},
      {"warmup = -1", "warmup = -1: must be an integer from 0 to 1000000000"},
      {"step_every = 0", "step_every = 0: must be an integer from 1 to 100000"},
      {"gamma = 0", "gamma = 0: must be a number > 0 and <= 1"},
      {"gamma = 1.5", "must be a number > 0 and <= 1"},
      {"beta1 = 1", "beta1 = 1: must be a number >= 0 and < 1"},
      {"beta2 = 1", "beta2 = 1: must be a number >= 0 and < 1"},
      {"epsilon = 0", "epsilon = 0: must be a number > 0 and < 1"},
      {"epsilon = 1", "must be a number > 0 and < 1"},
      {"seed = -1", "seed = -1: must be an integer from 0 to 4294967295"},
      {"seed = 4294967296", "must be an integer from 0 to 4294967295"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[256], want[256];
    snprintf(text, sizeof text, "[net]\ninput = 28x28x1\n%s\n", cases[i].line);
    snprintf(want, sizeof want, NAME ":3: [net] ");
    expect_bad(text, want);
    expect_bad(text, cases[i].fragment);
  }
  clt_recipe r;
  assert_int_equal(recipe_of("[net]\ninput = 1x1x1\ngamma = 1\nseed = 0\nlearning_rate = 10\n", &r),
                   CLT_OK);
  assert_true(r.gamma == 1.0);
  assert_int_equal(r.seed, 0);
  assert_true(r.learning_rate == 10.0);
}

static void test_names(void **state) {
  (void)state;
  for (int i = 0; i < CLT_OPT_COUNT; i++) {
    clt_optimizer o = CLT_OPT_COUNT;
    assert_int_equal(clt_optimizer_from_name(clt_optimizer_name((clt_optimizer)i), &o), 0);
    assert_int_equal(o, i);
  }
  for (int i = 0; i < CLT_SCHED_COUNT; i++) {
    clt_schedule s = CLT_SCHED_COUNT;
    assert_int_equal(clt_schedule_from_name(clt_schedule_name((clt_schedule)i), &s), 0);
    assert_int_equal(s, i);
  }
  assert_string_equal(clt_optimizer_name(CLT_OPT_ADAMW), "adamw");
  assert_string_equal(clt_schedule_name(CLT_SCHED_COSINE), "cosine");
  assert_string_equal(clt_optimizer_name(CLT_OPT_COUNT), "?");
  assert_string_equal(clt_schedule_name((clt_schedule)-1), "?");
  clt_optimizer o = CLT_OPT_SGD;
  assert_int_equal(clt_optimizer_from_name("rmsprop", &o), -1);
  assert_int_equal(o, CLT_OPT_SGD);
  clt_schedule s = CLT_SCHED_STEP;
  assert_int_equal(clt_schedule_from_name("Cosine", &s), -1);
  assert_int_equal(s, CLT_SCHED_STEP);
  assert_string_equal(clt_optimizer_choices(), "sgd, adam, adamw");
  assert_string_equal(clt_schedule_choices(), "constant, step, cosine");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_adamw_decay),
      cmocka_unit_test(test_placement),
      cmocka_unit_test(test_unknown_and_missing),
      cmocka_unit_test(test_ranges),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
