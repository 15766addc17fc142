/* Layer names and residual connections in model files (nn/model_names.c, [add],
 * [global_avgpool]): the shipped ResNet models load with the documented shapes and
 * parameter counts, and every mistake with names or from is rejected with
 * CLT_ERR_BAD_DATA and a message naming FILE:LINE and what to do. Host only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "util/expect.h"

#define MODELS CLT_SOURCE_DIR "/models/"
#define NAME   "bad.cfg"

static void expect_stages(const char *file, int h0, int params) {
  clt_model *m = NULL;
  OK(clt_model_load(file, &m));
  /* stem activation, the three adds, global_avgpool */
  static const int at[] = {2, 8, 14, 20, 21};
  static const char *const names[] = {"activation", "add", "add", "add", "global_avgpool"};
  int h = h0, c = 16;
  assert_int_equal(m->layer_count, 24);
  for (int k = 0; k < 5; k++) {
    const clt_model_layer *l = &m->layers[at[k]];
    assert_string_equal(l->ops->name, names[k]);
    if (k == 4) h = 1;
    assert_int_equal(l->out.h, h);
    assert_int_equal(l->out.w, h);
    assert_int_equal(l->out.c, c);
    h = (h + 1) / 2;
    if (k < 3) c *= 2;
  }
  assert_string_equal(m->layers[2].name, "stem");
  assert_int_equal(m->layers[2].readers, 1);
  assert_int_equal(m->layers[8].from, 2);
  assert_int_equal(m->layers[14].from, 8);
  assert_int_equal(m->layers[20].from, 14);
  assert_int_equal(m->layers[20].readers, 0);
  /* projections W [F, C]: 32x16, 64x32, 128x64 */
  assert_int_equal(m->layers[8].param_floats, 32 * 16);
  assert_int_equal(m->layers[20].param_floats, 128 * 64);
  assert_int_equal(m->param_floats, (size_t)params);
  clt_model_free(m);
}

static void test_resnet8_models(void **state) {
  (void)state;
  expect_stages(MODELS "resnet8.cfg", 28, 303418);
  expect_stages(MODELS "resnet8_cifar.cfg", 32, 303418 + 2 * 9 * 16);
}

/* A name on any layer, including ones from reads nothing from. */
static void test_names_anywhere(void **state) {
  (void)state;
  static const char text[] = "[net]\ninput = 8x8x2\n"
                             "[conv]\nfilters = 2\nsize = 3\npadding = same\nname = c_1\n"
                             "[maxpool]\nsize = 2\nname = pool\n"
                             "[add]\nfrom = pool\nname = sum\n" /* from the layer right before */
                             "[global_avgpool]\nname = gap\n"
                             "[dense]\nunits = 3\nname = logits\n[softmax]\nname = head\n";
  clt_model *m = NULL;
  OK(clt_model_parse(text, sizeof text - 1, "names.cfg", &m));
  assert_string_equal(m->layers[0].name, "c_1");
  assert_string_equal(m->layers[5].name, "head");
  assert_int_equal(m->layers[2].from, 1);
  assert_int_equal(m->layers[1].readers, 1);
  assert_int_equal(m->layers[0].readers, 0);
  assert_int_equal(m->layers[0].from, -1);
  assert_int_equal(m->layers[2].param_floats, 0); /* identity: 4x4x2 both */
  clt_model_free(m);
}

typedef struct bad_case {
  const char *what, *text, *where, *hint1, *hint2;
} bad_case;

#define NET    "[net]\ninput = 28x28x1\n"                  /* lines 1-2 */
#define CONV_A "[conv]\nfilters = 4\nsize = 3\nname = a\n" /* lines 3-6: 26x26x4 */
#define TAIL   "[global_avgpool]\n[dense]\nunits = 10\n[softmax]\n"

static const bad_case bad_cases[] = {
    {"unknown from", NET CONV_A "[add]\nfrom = b\n" TAIL,
     NAME ":8:", "no earlier layer has name = b", "earlier names: a"},
    {"from a later layer",
     NET CONV_A "[add]\nfrom = later\n[conv]\nfilters = 4\nsize = 1\nname = later\n" TAIL,
     NAME ":8:", "name = later", "above this one"},
    {"from itself", NET CONV_A "[add]\nfrom = me\nname = me\n" TAIL, NAME ":8:", "itself", NULL},
    {"from missing", NET CONV_A "[add]\n" TAIL, NAME ":7:", "from", NULL},
    {"duplicate name", NET CONV_A "[conv]\nfilters = 4\nsize = 1\nname = a\n" TAIL,
     NAME ":10:", "line 3", "own name"},
    {"bad name", NET "[conv]\nfilters = 4\nsize = 3\nname = 1st\n" TAIL, NAME ":6:", "name = 1st",
     "letter"},
    {"shapes differ, projection = none",
     NET CONV_A "[conv]\nfilters = 8\nsize = 1\n[add]\nfrom = a\nprojection = none\n" TAIL,
     NAME ":10:", "26x26x8", "26x26x4"},
    {"no whole stride", NET CONV_A "[conv]\nfilters = 4\nsize = 5\n[add]\nfrom = a\n" TAIL,
     NAME ":10:", "22x22x4", "no whole stride"},
    {"bias on add", NET CONV_A "[add]\nfrom = a\nbias = 0\n" TAIL, NAME ":9:", "no bias", NULL},
    {"unknown projection", NET CONV_A "[add]\nfrom = a\nprojection = yes\n" TAIL,
     NAME ":9:", "projection = yes", "auto"},
    {"global_avgpool takes no keys",
     NET "[global_avgpool]\nsize = 2\n[dense]\nunits = 10\n[softmax]\n", NAME ":4:", "size", NULL},
};

static void test_bad_files(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
    const bad_case *c = &bad_cases[i];
    clt_model *m = (clt_model *)&m;
    clt_clear_error();
    clt_status st = clt_model_parse(c->text, strlen(c->text), NAME, &m);
    const char *msg = clt_last_error();
    print_message("%-34s %s\n", c->what, msg);
    if (st != CLT_ERR_BAD_DATA) fail_msg("%s: status %s (%s)", c->what, clt_status_string(st), msg);
    assert_null(m);
    if (!strstr(msg, c->where)) fail_msg("%s: message '%s' lacks '%s'", c->what, msg, c->where);
    if (c->hint1 && !strstr(msg, c->hint1))
      fail_msg("%s: message '%s' lacks '%s'", c->what, msg, c->hint1);
    if (c->hint2 && !strstr(msg, c->hint2))
      fail_msg("%s: message '%s' lacks '%s'", c->what, msg, c->hint2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resnet8_models),
      cmocka_unit_test(test_names_anywhere),
      cmocka_unit_test(test_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
