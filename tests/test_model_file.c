/* Model files (nn/model.c): every shipped model in models/ loads with the documented
 * parameter counts and shapes; every kind of bad file is rejected with CLT_ERR_BAD_DATA
 * and a message that names "FILE:LINE" of the offending line and says what to do;
 * a missing file is CLT_ERR_MISSING_INPUT; parsing the text (as a checkpoint does)
 * gives the same model as loading the file. Host only: no device needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/model.h"
#include "util/expect.h"
#include "util/layer_harness.h"
#include "util/temp_files.h"

#define MODELS CLT_SOURCE_DIR "/models/"
#define NAME   "bad.cfg"

static clt_model *load(const char *file) {
  clt_model *m = NULL;
  OK(clt_model_load(file, &m));
  assert_non_null(m);
  return m;
}

static size_t sum_layer_params(const clt_model *m) {
  size_t sum = 0;
  for (int i = 0; i < m->layer_count; i++) sum += m->layers[i].param_floats;
  return sum;
}

static void test_fashion_cnn(void **state) {
  (void)state;
  clt_model *m = load(MODELS "fashion_cnn.cfg");
  assert_int_equal(m->param_floats, 93322);
  assert_int_equal(sum_layer_params(m), m->param_floats);
  clt_test_expect_shape(m->input, 28, 28, 1);
  assert_int_equal(m->classes, 10);
  static const char *const names[] = {"conv", "maxpool", "conv",  "maxpool",
                                      "conv", "dense",   "dense", "softmax"};
  static const int shapes[][3] = {{26, 26, 32}, {13, 13, 32}, {11, 11, 64}, {5, 5, 64},
                                  {3, 3, 64},   {1, 1, 64},   {1, 1, 10},   {1, 1, 10}};
  static const size_t params[] = {320, 0, 18496, 0, 36928, 36928, 650, 0};
  assert_int_equal(m->layer_count, 8);
  for (int i = 0; i < 8; i++) {
    assert_string_equal(m->layers[i].ops->name, names[i]);
    clt_test_expect_shape(m->layers[i].out, shapes[i][0], shapes[i][1], shapes[i][2]);
    assert_int_equal(m->layers[i].param_floats, params[i]);
    if (i > 0) {
      clt_shape prev = m->layers[i - 1].out, in = m->layers[i].in;
      clt_test_expect_shape(in, prev.h, prev.w, prev.c);
    }
  }
  clt_test_expect_shape(m->layers[0].in, 28, 28, 1);
  /* The recipe of the file. */
  assert_int_equal(m->recipe.batch, 64);
  assert_int_equal(m->recipe.epochs, 10);
  assert_int_equal(m->recipe.optimizer, CLT_OPT_ADAM);
  assert_true(m->recipe.learning_rate == 0.001);
  /* Section header lines, for messages. */
  assert_int_equal(m->layers[0].line, 11);
  clt_model_free(m);
}

static void test_mlp(void **state) {
  (void)state;
  clt_model *m = load(MODELS "mlp.cfg");
  assert_int_equal(m->param_floats, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  assert_int_equal(m->layer_count, 4);
  clt_test_expect_shape(m->layers[0].out, 1, 1, 256);
  clt_test_expect_shape(m->layers[1].out, 1, 1, 128);
  clt_test_expect_shape(m->layers[2].out, 1, 1, 10);
  assert_int_equal(m->classes, 10);
  clt_model_free(m);
}

static void test_cifar10_cnn(void **state) {
  (void)state;
  clt_model *m = load(MODELS "cifar10_cnn.cfg");
  assert_int_equal(m->param_floats, 122570);
  clt_test_expect_shape(m->input, 32, 32, 3);
  clt_test_expect_shape(m->layers[4].out, 4, 4, 64);
  assert_int_equal(m->classes, 10);
  clt_model_free(m);
}

static void test_lenet5_and_bn(void **state) {
  (void)state;
  static const char *const files[] = {MODELS "lenet5.cfg", MODELS "fashion_cnn_bn.cfg"};
  for (int f = 0; f < 2; f++) {
    clt_model *m = load(files[f]);
    const clt_model_layer *last = &m->layers[m->layer_count - 1];
    assert_string_equal(last->ops->name, "softmax");
    clt_test_expect_shape(last->out, 1, 1, 10);
    assert_int_equal(m->classes, 10);
    assert_true(m->param_floats > 0);
    assert_int_equal(sum_layer_params(m), m->param_floats);
    clt_model_free(m);
  }
  /* LeNet-5: same padding keeps 28x28, then 14x14x6, 10x10x16, 5x5x16, 120, 84, 10. */
  clt_model *m = load(MODELS "lenet5.cfg");
  clt_test_expect_shape(m->layers[0].out, 28, 28, 6);
  clt_test_expect_shape(m->layers[3].out, 5, 5, 16);
  assert_int_equal(m->param_floats, (5 * 5 * 1 * 6 + 6) + (5 * 5 * 6 * 16 + 16) +
                                        (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10));
  clt_model_free(m);
}

/* Every *.cfg file in models/ (whatever is shipped there) loads and ends in a loss head. */
static void test_every_shipped_model(void **state) {
  (void)state;
  DIR *dir = opendir(MODELS);
  assert_non_null(dir);
  int count = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s%s", MODELS, de->d_name);
    clt_model *m = load(path);
    assert_string_equal(m->name, path);
    assert_true(m->layer_count >= 2);
    /* A classifier ends in [softmax] with 2 or more classes, a regression model in [mse]. */
    assert_string_equal(m->layers[m->layer_count - 1].ops->name, m->regression ? "mse" : "softmax");
    assert_true(m->regression ? m->classes == 1 : m->classes >= 2);
    assert_true(m->param_floats > 0);
    clt_model_free(m);
    count++;
  }
  closedir(dir);
  assert_true(count >= 5); /* cifar10_cnn, fashion_cnn, fashion_cnn_bn, lenet5, mlp */
}

/* ---- bad files ---------------------------------------------------------------------------- */

typedef struct bad_case {
  const char *what;
  const char *text;
  const char *where; /* "bad.cfg:LINE" expected in the message */
  const char *hint1; /* substrings expected in the message (what is wrong, what to do) */
  const char *hint2;
} bad_case;

#define NET "[net]\ninput = 28x28x1\n" /* lines 1-2 */

static const bad_case bad_cases[] = {
    {"unknown section",
     NET "\n[convolution]\nfilters = 32\nsize = 3\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":4:", "[convolution]", "conv"},
    {"unknown key in a layer",
     NET "[conv]\nfilter = 32\nsize = 3\n[dense]\nunits = 10\n[softmax]\n", NAME ":4:", "'filter'",
     "did you mean 'filters'"},
    {"unknown key beside the right one",
     NET "[conv]\nfilters = 32\nsize = 3\nfilter = 32\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":6:", "unknown key 'filter'", "did you mean 'filters'"},
    {"missing value", NET "[conv]\nfilters =\nsize = 3\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":4:", "filters", NULL},
    {"size out of range", NET "[conv]\nfilters = 8\nsize = 0\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":5:", "size = 0", NULL},
    {"rate out of range",
     NET "[dense]\nunits = 16\n[dropout]\nrate = 1.5\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":6:", "rate = 1.5", NULL},
    {"non-numeric", NET "[conv]\nfilters = many\nsize = 3\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":4:", "filters = many", NULL},
    {"kernel larger than its input",
     NET "[conv]\nfilters = 4\nsize = 29\n[dense]\nunits = 10\n[softmax]\n", NAME ":3:", "29",
     "28x28"},
    {"dense with zero units", NET "[dense]\nunits = 0\n[softmax]\n", NAME ":4:", "units = 0", NULL},
    {"softmax not last", NET "[dense]\nunits = 10\n[softmax]\n[dense]\nunits = 10\n",
     NAME ":6:", "softmax", "last"},
    {"no softmax", NET "[dense]\nunits = 10\n", NAME ":3:", "[softmax]", "last"},
    {"no layer at all", NET, NAME ":1:", "[softmax]", NULL},
    {"net missing", "[conv]\nfilters = 4\nsize = 3\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":1:", "[net]", NULL},
    {"net not first", "[dense]\nunits = 10\n" NET "[softmax]\n", NAME ":1:", "[net]", "first"},
    {"net twice", NET "[dense]\nunits = 10\n\n[net]\ninput = 28x28x1\n[softmax]\n",
     NAME ":6:", "[net]", NULL},
    {"2-D input to softmax", NET "[conv]\nfilters = 10\nsize = 3\n[softmax]\n",
     NAME ":6:", "26x26x10", "[dense]"},
    {"2-D input to softmax, no layer", NET "[softmax]\n", NAME ":3:", "28x28x1", "[dense]"},
    {"shape without channels", "[net]\ninput = 28x28\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":2:", "input = 28x28", "HxWxC"},
    {"shape with letters", "[net]\ninput = 28 by 28\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":2:", "input", NULL},
    {"shape of zero", "[net]\ninput = 0x28x1\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":2:", "input", NULL},
    {"input missing", "[net]\nbatch = 32\n[dense]\nunits = 10\n[softmax]\n", NAME ":1:", "input",
     NULL},
    {"unknown recipe key", NET "learning_rat = 0.1\n[dense]\nunits = 10\n[softmax]\n",
     NAME ":3:", "learning_rat", "learning_rate"},
    {"one class", NET "[dense]\nunits = 1\n[softmax]\n", NAME ":5:", "2", "[dense]"},
    {"text outside a section", "input = 28x28x1\n[net]\ninput = 28x28x1\n", NAME ":1:", NULL, NULL},
    {"unclosed header", NET "[dense\nunits = 10\n[softmax]\n", NAME ":3:", NULL, NULL},
    {"empty file", "", NAME, "[net]", NULL},
    {"comments only", "# nothing here\n\n; still nothing\n", NAME, "[net]", NULL},
};

static void expect_bad_text(const char *what, const char *text, size_t len, const char *where,
                            const char *hint1, const char *hint2) {
  clt_model *m = (clt_model *)&m; /* must be reset to NULL */
  clt_clear_error();
  clt_status st = clt_model_parse(text, len, NAME, &m);
  const char *msg = clt_last_error();
  print_message("%-34s %s\n", what, msg);
  if (st != CLT_ERR_BAD_DATA)
    fail_msg("%s: status %s (%s), expected bad data", what, clt_status_string(st), msg);
  assert_null(m);
  if (!strstr(msg, where)) fail_msg("%s: message '%s' lacks '%s'", what, msg, where);
  if (hint1 && !strstr(msg, hint1)) fail_msg("%s: message '%s' lacks '%s'", what, msg, hint1);
  if (hint2 && !strstr(msg, hint2)) fail_msg("%s: message '%s' lacks '%s'", what, msg, hint2);
  /* A message says what to do, not only what is wrong: long enough to hold a hint. */
  if (strlen(msg) < strlen(where) + 25) fail_msg("%s: message '%s' too short", what, msg);
}

static void test_bad_files(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
    const bad_case *c = &bad_cases[i];
    expect_bad_text(c->what, c->text, strlen(c->text), c->where, c->hint1, c->hint2);
  }
}

/* The same errors through clt_model_load of a real file: the path names the file. */
static void test_bad_file_on_disk(void **state) {
  (void)state;
  char path[1024];
  clt_test_make_temp_file(path, sizeof path, "clt_model_",
                          NET "[conv]\nfilters = 4\nsize = 29\n[dense]\nunits = 10\n[softmax]\n");
  clt_model *m = NULL;
  char where[1100];
  snprintf(where, sizeof where, "%s:3:", path);
  EXPECT_FAIL(clt_model_load(path, &m), CLT_ERR_BAD_DATA, where);
  assert_null(m);
  unlink(path);
}

static void test_binary_garbage(void **state) {
  (void)state;
  /* An IDX image header followed by pixels: what a wrong path might give. */
  unsigned char bytes[256];
  static const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
  memcpy(bytes, header, sizeof header);
  for (size_t i = sizeof header; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 37 + 11);
  clt_model *m = NULL;
  clt_clear_error();
  assert_int_equal(clt_model_parse((const char *)bytes, sizeof bytes, NAME, &m), CLT_ERR_BAD_DATA);
  assert_null(m);
  print_message("%-34s %s\n", "binary garbage", clt_last_error());
  assert_non_null(strstr(clt_last_error(), NAME ":1:"));
  /* Control bytes without NULs, then valid-looking text after a NUL. */
  const char text[] = "[net]\ninput = 28x28x1\x01\n";
  expect_bad_text("control byte", text, sizeof text - 1, NAME ":2:", NULL, NULL);
  const char nul[] = "[net]\ninput = 28x28x1\n\0[dense]\nunits = 10\n[softmax]\n";
  expect_bad_text("NUL byte", nul, sizeof nul - 1, NAME ":3:", NULL, NULL);
}

static void test_missing_file(void **state) {
  (void)state;
  clt_model *m = (clt_model *)&m;
  const char *path = CLT_SOURCE_DIR "/models/no_such_model.cfg";
  EXPECT_FAIL(clt_model_load(path, &m), CLT_ERR_MISSING_INPUT, "no_such_model.cfg");
  assert_null(m);
}

/* ---- text and file give the same model ---------------------------------------------------- */

static char *read_all(const char *path, size_t *len) {
  char *buf = (char *)clt_test_read_file(path, len);
  assert_true(*len > 0 && *len < (1 << 16));
  return buf;
}

static void expect_same_recipe(const clt_recipe *a, const clt_recipe *b) {
  assert_int_equal(a->in_h, b->in_h);
  assert_int_equal(a->in_w, b->in_w);
  assert_int_equal(a->in_c, b->in_c);
  assert_int_equal(a->batch, b->batch);
  assert_int_equal(a->epochs, b->epochs);
  assert_int_equal(a->optimizer, b->optimizer);
  assert_true(a->learning_rate == b->learning_rate);
  assert_true(a->momentum == b->momentum);
  assert_int_equal(a->nesterov, b->nesterov);
  assert_true(a->weight_decay == b->weight_decay);
  assert_int_equal(a->weight_decay_set, b->weight_decay_set);
  assert_int_equal(a->schedule, b->schedule);
  assert_int_equal(a->warmup, b->warmup);
  assert_int_equal(a->step_every, b->step_every);
  assert_true(a->gamma == b->gamma);
  assert_true(a->beta1 == b->beta1);
  assert_true(a->beta2 == b->beta2);
  assert_true(a->epsilon == b->epsilon);
  assert_int_equal(a->seed, b->seed);
}

static void expect_same_model(const clt_model *a, const clt_model *b) {
  expect_same_recipe(&a->recipe, &b->recipe);
  clt_test_expect_shape(a->input, b->input.h, b->input.w, b->input.c);
  assert_int_equal(a->classes, b->classes);
  assert_int_equal(a->layer_count, b->layer_count);
  assert_int_equal(a->param_floats, b->param_floats);
  assert_int_equal(a->text_length, b->text_length);
  assert_memory_equal(a->text, b->text, a->text_length);
  for (int i = 0; i < a->layer_count; i++) {
    const clt_model_layer *la = &a->layers[i], *lb = &b->layers[i];
    assert_ptr_equal(la->ops, lb->ops);
    clt_test_expect_shape(la->in, lb->in.h, lb->in.w, lb->in.c);
    clt_test_expect_shape(la->out, lb->out.h, lb->out.w, lb->out.c);
    assert_int_equal(la->line, lb->line);
    assert_int_equal(la->param_floats, lb->param_floats);
    char da[256], db[256];
    la->ops->describe(la->self, da, sizeof da);
    lb->ops->describe(lb->self, db, sizeof db);
    assert_string_equal(da, db);
    /* The layer's sizes at a batch (parameter tensors, their inits, fans, workspace). */
    clt_layer_sizes sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    la->ops->sizes(la->self, 7, &sa);
    lb->ops->sizes(lb->self, 7, &sb);
    assert_int_equal(sa.param_count, sb.param_count);
    for (int p = 0; p < sa.param_count; p++) {
      assert_string_equal(sa.params[p].name, sb.params[p].name);
      assert_int_equal(sa.params[p].count, sb.params[p].count);
      assert_int_equal(sa.params[p].init, sb.params[p].init);
      assert_int_equal(sa.params[p].fan_in, sb.params[p].fan_in);
      assert_int_equal(sa.params[p].fan_out, sb.params[p].fan_out);
    }
    assert_int_equal(sa.state_floats, sb.state_floats);
    assert_int_equal(sa.saved_floats, sb.saved_floats);
    assert_int_equal(sa.workspace_floats, sb.workspace_floats);
    assert_int_equal(sa.needs_labels, sb.needs_labels);
  }
}

static void test_parse_equals_load(void **state) {
  (void)state;
  static const char *const files[] = {MODELS "fashion_cnn.cfg", MODELS "fashion_cnn_bn.cfg",
                                      MODELS "lenet5.cfg", MODELS "cifar10_cnn.cfg",
                                      MODELS "mlp.cfg"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    size_t len = 0;
    char *text = read_all(files[i], &len);
    clt_model *loaded = load(files[i]), *parsed = NULL;
    OK(clt_model_parse(text, len, "checkpoint.clt:model", &parsed));
    assert_string_equal(parsed->name, "checkpoint.clt:model");
    expect_same_model(parsed, loaded);
    /* Parsing the kept text again (a checkpoint of a checkpoint) gives the same model. */
    clt_model *again = NULL;
    OK(clt_model_parse(parsed->text, parsed->text_length, "again", &again));
    expect_same_model(again, loaded);
    clt_model_free(again);
    clt_model_free(parsed);
    clt_model_free(loaded);
    free(text);
  }
  /* Errors in parsed text name the display name given. */
  clt_model *m = NULL;
  const char *bad = NET "[dense]\nunits = 0\n[softmax]\n";
  EXPECT_FAIL(clt_model_parse(bad, strlen(bad), "run.clt:model", &m), CLT_ERR_BAD_DATA,
              "run.clt:model:4:");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fashion_cnn),         cmocka_unit_test(test_mlp),
      cmocka_unit_test(test_cifar10_cnn),         cmocka_unit_test(test_lenet5_and_bn),
      cmocka_unit_test(test_every_shipped_model), cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_bad_file_on_disk),    cmocka_unit_test(test_binary_garbage),
      cmocka_unit_test(test_missing_file),        cmocka_unit_test(test_parse_equals_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
