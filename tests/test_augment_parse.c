/* The [augment] section and the augmentation draws (host only): parsing and its errors,
 * the recipe kept in a checkpoint's OPTS text, and the statistics of the draws
 * (ref/ref_augment.h) that the device kernel must reproduce exactly (test_augment.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/augment_section.h"
#include "nn/model.h"
#include "ref/ref_augment.h"
#include "train/run_options.h"
#include "util/expect.h"

#define NAME "aug.cfg"

/* A small image model with extra text after [net] (line 3 on) and before the layers. */
static char *model_text(const char *input, const char *augment) {
  static char buf[1024];
  snprintf(buf, sizeof buf,
           "[net]\ninput = %s\n%s[conv]\nfilters = 2\nsize = 3\n[dense]\nunits = 3\n[softmax]\n",
           input, augment);
  return buf;
}

static clt_status parse(const char *text, clt_model **m) {
  return clt_model_parse(text, strlen(text), NAME, m);
}

static void test_absent_means_off(void **state) {
  (void)state;
  clt_model *m = NULL;
  OK(parse(model_text("9x7x3", ""), &m));
  assert_int_equal(m->recipe.augment_crop, 0);
  assert_int_equal(m->recipe.augment_flip, CLT_FLIP_NONE);
  assert_false(clt_augment_active(&m->recipe));
  clt_model_free(m);
}

static void test_values_and_defaults(void **state) {
  (void)state;
  clt_model *m = NULL;
  OK(parse(model_text("9x7x3", "[augment]\ncrop_padding = 4\nflip = horizontal\n"), &m));
  assert_int_equal(m->recipe.augment_crop, 4);
  assert_int_equal(m->recipe.augment_flip, CLT_FLIP_HORIZONTAL);
  assert_int_equal(m->layer_count, 3); /* not a layer */
  char d[64];
  assert_string_equal(clt_augment_describe(&m->recipe, d, sizeof d), "crop 4, flip horizontal");
  clt_model_free(m);
  OK(parse(model_text("28x28x1", "[augment]\ncrop_padding = 2\n"), &m));
  assert_int_equal(m->recipe.augment_crop, 2);
  assert_int_equal(m->recipe.augment_flip, CLT_FLIP_NONE);
  clt_model_free(m);
  OK(parse(model_text("28x28x1", "[augment]\nflip = horizontal\n"), &m));
  assert_int_equal(m->recipe.augment_crop, 0);
  assert_true(clt_augment_active(&m->recipe));
  clt_model_free(m);
  OK(parse(model_text("28x28x1", "[augment]\ncrop_padding = 0\nflip = none\n"), &m));
  assert_false(clt_augment_active(&m->recipe));
  clt_model_free(m);
  /* Anywhere after [net], also after the head. */
  static const char late[] = "[net]\ninput = 8x8x1\n[dense]\nunits = 3\n[softmax]\n"
                             "[augment]\ncrop_padding = 3\n";
  OK(parse(late, &m));
  assert_int_equal(m->recipe.augment_crop, 3);
  assert_int_equal(m->layer_count, 2);
  clt_model_free(m);
}

static void expect_bad(const char *text, const char *where, const char *needle) {
  clt_model *m = NULL;
  EXPECT_FAIL(parse(text, &m), CLT_ERR_BAD_DATA, needle);
  EXPECT_MESSAGE_HAS(where);
  assert_null(m);
}

static void test_errors(void **state) {
  (void)state;
  expect_bad(model_text("28x28x1", "[augment]\ncrop_padding = -1\n"),
             NAME ":4:", "crop_padding = -1: must be an integer from 0");
  expect_bad(model_text("28x28x1", "[augment]\ncrop_padding = 28\n"),
             NAME ":4:", "crop padding 28 does not fit the 28x28 image: use 0 (no crop) to 27");
  expect_bad(model_text("28x9x1", "[augment]\ncrop_padding = 9\n"), NAME ":4:", "to 8 pixels");
  expect_bad(model_text("28x28x1", "[augment]\ncrop_padding = 2.5\n"),
             NAME ":4:", "crop_padding = 2.5");
  expect_bad(model_text("28x28x1", "[augment]\nflip = vertical\n"),
             NAME ":4:", "flip = vertical: unknown choice; use one of none, horizontal");
  expect_bad(model_text("28x28x1", "[augment]\ncrop_padding = 2\nrotate = 10\n"),
             NAME ":5:", "unknown key 'rotate'; known keys: crop_padding, flip");
  expect_bad(model_text("28x28x1", "[augment]\nflip = horizontal\n[augment]\ncrop_padding = 1\n"),
             NAME ":5:", "[augment] appears twice (the first is on line 3)");
  /* Not an image: a 1x1xF input (features) or a single row or column. */
  expect_bad(model_text("1x1x784", "[augment]\nflip = horizontal\n"),
             NAME ":3:", "the input 1x1x784 is not an image");
  expect_bad(model_text("1x30x1", "[augment]\ncrop_padding = 1\n"), NAME ":3:", "not an image");
  /* but an [augment] that asks for nothing is fine on any input */
  clt_model *m = NULL;
  static const char flat[] = "[net]\ninput = 1x1x784\n[augment]\ncrop_padding = 0\nflip = none\n"
                             "[dense]\nunits = 3\n[softmax]\n";
  OK(parse(flat, &m));
  clt_model_free(m);
  /* a misspelt section name lists [augment] among the known ones */
  expect_bad(model_text("28x28x1", "[augmnet]\nflip = horizontal\n"),
             NAME ":3:", "known sections: net, augment");
}

/* clt_augment_problem: the rules the command-line flags are checked with. */
static void test_problem(void **state) {
  (void)state;
  clt_recipe r;
  clt_recipe_defaults(&r);
  r.in_h = 32;
  r.in_w = 32;
  r.in_c = 3;
  char why[320];
  assert_null(clt_augment_problem(&r, why, sizeof why));
  r.augment_crop = 31;
  assert_null(clt_augment_problem(&r, why, sizeof why));
  r.augment_crop = 32;
  assert_non_null(clt_augment_problem(&r, why, sizeof why));
  r.augment_crop = 0;
  r.augment_flip = CLT_FLIP_HORIZONTAL;
  r.in_h = r.in_w = 1;
  assert_non_null(strstr(clt_augment_problem(&r, why, sizeof why), "not an image"));
}

/* The checkpoint's OPTS text keeps the augmentation (and holds no [augment] without it). */
static void test_run_options_round_trip(void **state) {
  (void)state;
  clt_run_options o, o2;
  memset(&o, 0, sizeof o);
  snprintf(o.model, sizeof o.model, "m.cfg");
  snprintf(o.data, sizeof o.data, "/data");
  clt_recipe r, back;
  clt_recipe_defaults(&r);
  r.in_h = 28;
  r.in_w = 28;
  r.in_c = 1;
  char *text = clt_run_options_text(&o, &r);
  assert_non_null(text);
  assert_null(strstr(text, "[augment]"));
  OK(clt_run_options_parse(text, "ck", &o2, &back));
  assert_false(clt_augment_active(&back));
  free(text);
  r.augment_crop = 3;
  r.augment_flip = CLT_FLIP_HORIZONTAL;
  text = clt_run_options_text(&o, &r);
  assert_non_null(strstr(text, "[augment]\ncrop_padding = 3\nflip = horizontal\n[run]\n"));
  OK(clt_run_options_parse(text, "ck", &o2, &back));
  assert_int_equal(back.augment_crop, 3);
  assert_int_equal(back.augment_flip, CLT_FLIP_HORIZONTAL);
  assert_string_equal(o2.data, "/data");
  free(text);
  /* A damaged [augment] in OPTS is refused like a bad model file. */
  static const char damaged[] = "[net]\ninput = 28x28x1\n[augment]\nflip = sideways\n[run]\n";
  EXPECT_FAIL(clt_run_options_parse(damaged, "ck", &o2, &back), CLT_ERR_BAD_DATA,
              "flip = sideways");
  static const char other[] = "[net]\ninput = 28x28x1\n[conv]\nfilters = 1\n[run]\n";
  EXPECT_FAIL(clt_run_options_parse(other, "ck", &o2, &back), CLT_ERR_BAD_DATA, "[net]");
}

/* Over many samples the offsets take every value of [-pad, pad] about equally often and
 * about half the samples are flipped; flip off never flips; pad 0 never shifts. */
static void test_draw_statistics(void **state) {
  (void)state;
  enum { SAMPLES = 64, STEPS = 100, PAD = 4, SPAN = 2 * PAD + 1 };
  long dy_count[SPAN] = {0}, dx_count[SPAN] = {0}, flips = 0, total = 0, same_dxdy = 0;
  for (uint32_t step = 0; step < STEPS; step++) {
    for (int s = 0; s < SAMPLES; s++) {
      clt_augment_draw d = clt_ref_augment_draw(42, step, s, PAD, 1);
      assert_true(d.dy >= -PAD && d.dy <= PAD);
      assert_true(d.dx >= -PAD && d.dx <= PAD);
      dy_count[d.dy + PAD]++;
      dx_count[d.dx + PAD]++;
      flips += d.flipped;
      same_dxdy += d.dx == d.dy;
      total++;
      clt_augment_draw off = clt_ref_augment_draw(42, step, s, 0, 0);
      assert_int_equal(off.dy, 0);
      assert_int_equal(off.dx, 0);
      assert_int_equal(off.flipped, 0);
      /* flip off keeps the same offsets (they come from their own elements) */
      clt_augment_draw noflip = clt_ref_augment_draw(42, step, s, PAD, 0);
      assert_int_equal(noflip.dy, d.dy);
      assert_int_equal(noflip.dx, d.dx);
      assert_int_equal(noflip.flipped, 0);
    }
  }
  double expect = (double)total / SPAN; /* 711 per value */
  for (int v = 0; v < SPAN; v++) {
    fprintf(stderr, "offset %+d: dy %ld, dx %ld\n", v - PAD, dy_count[v], dx_count[v]);
    assert_true(dy_count[v] > 0.8 * expect && dy_count[v] < 1.2 * expect);
    assert_true(dx_count[v] > 0.8 * expect && dx_count[v] < 1.2 * expect);
  }
  fprintf(stderr, "flipped %ld of %ld; dx == dy %ld\n", flips, total, same_dxdy);
  assert_true(flips > 0.46 * total && flips < 0.54 * total);
  /* dy and dx independent: equal about 1 / SPAN of the time, not always */
  assert_true(same_dxdy > 0.8 * total / SPAN && same_dxdy < 1.2 * total / SPAN);
}

/* The draws depend on seed, step and position: not the same for a neighbour. */
static void test_draws_keyed(void **state) {
  (void)state;
  int differ_seed = 0, differ_step = 0, differ_pos = 0;
  for (int s = 0; s < 32; s++) {
    clt_augment_draw a = clt_ref_augment_draw(7, 10, s, 4, 1);
    clt_augment_draw b = clt_ref_augment_draw(7, 10, s, 4, 1);
    assert_memory_equal(&a, &b, sizeof a);
    clt_augment_draw c = clt_ref_augment_draw(8, 10, s, 4, 1);
    clt_augment_draw d = clt_ref_augment_draw(7, 11, s, 4, 1);
    clt_augment_draw e = clt_ref_augment_draw(7, 10, s + 1, 4, 1);
    differ_seed += memcmp(&a, &c, sizeof a) != 0;
    differ_step += memcmp(&a, &d, sizeof a) != 0;
    differ_pos += memcmp(&a, &e, sizeof a) != 0;
  }
  /* a draw repeats by chance with probability 1 / 162 */
  assert_true(differ_seed >= 28);
  assert_true(differ_step >= 28);
  assert_true(differ_pos >= 28);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_absent_means_off),
      cmocka_unit_test(test_values_and_defaults),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_problem),
      cmocka_unit_test(test_run_options_round_trip),
      cmocka_unit_test(test_draw_statistics),
      cmocka_unit_test(test_draws_keyed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
