/* The model-file grammar: structure, line numbers, typed getters and their messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/ini.h"
#include "util/expect.h"
#include "util/temp_files.h"

#define NAME "models/m.cfg"

static clt_ini *parse_ok(const char *text) {
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string(text, NAME, &ini));
  assert_non_null(ini);
  return ini;
}

/* Parses text that must be rejected as bad data at the given line. */
static void parse_bad(const char *text, int line, const char *fragment) {
  clt_ini *ini = (clt_ini *)1;
  clt_clear_error();
  clt_status st = clt_ini_parse_string(text, NAME, &ini);
  if (st != CLT_ERR_BAD_DATA)
    fail_msg("'%s': expected bad data, got %s (%s)", text, clt_status_string(st), clt_last_error());
  assert_null(ini);
  char where[64];
  snprintf(where, sizeof where, NAME ":%d: ", line);
  EXPECT_MESSAGE_HAS(where);
  EXPECT_MESSAGE_HAS(fragment);
}

static void test_round_trip(void **state) {
  (void)state;
  const char *text = "\xEF\xBB\xBF# Keras tutorial CNN\n"
                     "[net]\n"
                     "input = 28x28x1        # H x W x C\n"
                     "\n"
                     "  batch\t=\t64  \r\n"
                     "optimizer = adam ; sgd | adam\n"
                     "; a whole-line comment\n"
                     "note = a=b\n"
                     "[conv]   # first layer\n"
                     "filters = 32\n"
                     "[ maxpool ]\n"
                     "[conv]\n"
                     "size=3";
  clt_ini *ini = parse_ok(text);
  assert_string_equal(ini->name, NAME);
  assert_int_equal(ini->section_count, 4);
  const clt_ini_section *net = &ini->sections[0];
  assert_string_equal(net->name, "net");
  assert_string_equal(net->file, NAME);
  assert_int_equal(net->line, 2);
  assert_int_equal(net->entry_count, 4);
  const char *keys[] = {"input", "batch", "optimizer", "note"};
  const char *values[] = {"28x28x1", "64", "adam", "a=b"};
  const int lines[] = {3, 5, 6, 8};
  for (int i = 0; i < 4; i++) {
    assert_string_equal(net->entries[i].key, keys[i]);
    assert_string_equal(net->entries[i].value, values[i]);
    assert_int_equal(net->entries[i].line, lines[i]);
    assert_false(net->entries[i].used);
  }
  assert_string_equal(ini->sections[1].name, "conv");
  assert_int_equal(ini->sections[1].line, 9);
  assert_int_equal(ini->sections[1].entry_count, 1);
  assert_string_equal(ini->sections[1].entries[0].value, "32");
  assert_string_equal(ini->sections[2].name, "maxpool");
  assert_int_equal(ini->sections[2].line, 11);
  assert_int_equal(ini->sections[2].entry_count, 0);
  assert_string_equal(ini->sections[3].name, "conv");
  assert_int_equal(ini->sections[3].entries[0].line, 13);
  assert_string_equal(ini->sections[3].entries[0].value, "3");
  clt_ini_free(ini);
}

static void test_empty_and_comments_only(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("");
  assert_int_equal(ini->section_count, 0);
  clt_ini_free(ini);
  ini = parse_ok("# nothing\n; here\n\n   \n");
  assert_int_equal(ini->section_count, 0);
  clt_ini_free(ini);
  ini = NULL;
  assert_int_equal(clt_ini_parse("[a]\nk = v\n", 3, NULL, &ini), CLT_OK); /* length-bounded */
  assert_string_equal(ini->name, "<string>");
  assert_int_equal(ini->section_count, 1);
  assert_string_equal(ini->sections[0].name, "a");
  assert_int_equal(ini->sections[0].entry_count, 0);
  clt_ini_free(ini);
  clt_ini_free(NULL);
}

static void test_bad_forms(void **state) {
  (void)state;
  parse_bad("[net]\nhello\n", 2, "expected '[section]' or 'key = value', found 'hello'");
  parse_bad("[net]\n\n[conv\n", 3, "without closing ']'");
  parse_bad("[net]\n[]\n", 2, "empty section name");
  parse_bad("[ ]\n", 1, "empty section name");
  parse_bad("[net] batch = 1\n", 1, "text after ']'");
  parse_bad("[c onv]\n", 1, "bad section name");
  parse_bad("[[net]]\n", 1, "");
  parse_bad("# top\nbatch = 1\n[net]\n", 2, "before any section");
  parse_bad("[net]\nbatch =\n", 2, "[net] batch: missing value");
  parse_bad("[net]\nbatch =    # later\n", 2, "missing value");
  parse_bad("[net]\nbatch = 1\nepochs = 2\nbatch = 2\n", 4,
            "[net] duplicate key 'batch' (first set on line 2)");
  parse_bad("[net]\n= 5\n", 2, "missing key before '='");
  parse_bad("[net]\nlearning rate = 0.1\n", 2, "bad key 'learning rate'");
  parse_bad("[net]\nk = a\x01 b\n", 2, "control character 0x01");
  parse_bad("[net]\r\nk = a\rb\r\n", 2, "control character 0x0d");
  /* duplicates are per section: the same key in two sections is fine */
  clt_ini *ini = parse_ok("[conv]\nsize = 3\n[conv]\nsize = 5\n");
  clt_ini_free(ini);
}

static void test_too_many_keys(void **state) {
  (void)state;
  size_t cap = 20 * (CLT_INI_MAX_KEYS + 2);
  char *text = malloc(cap);
  assert_non_null(text);
  size_t len = (size_t)snprintf(text, cap, "[net]\n");
  for (int i = 0; i <= CLT_INI_MAX_KEYS; i++)
    len += (size_t)snprintf(text + len, cap - len, "k%d = %d\n", i, i);
  char where[32];
  snprintf(where, sizeof where, "%d", CLT_INI_MAX_KEYS);
  parse_bad(text, CLT_INI_MAX_KEYS + 2, where);
  free(text);
}

static void test_binary_garbage(void **state) {
  (void)state;
  /* NUL bytes inside otherwise good text */
  static const char nul_text[] = "[net]\nbatch = 3\0 2\n";
  clt_ini *ini = (clt_ini *)1;
  assert_int_equal(clt_ini_parse(nul_text, sizeof nul_text - 1, NAME, &ini), CLT_ERR_BAD_DATA);
  assert_null(ini);
  EXPECT_MESSAGE_HAS(NAME ":2: NUL byte");

  /* pseudo-random bytes, with and without NULs: must fail cleanly */
  unsigned char buf[4096];
  uint32_t x = 12345;
  for (int round = 0; round < 200; round++) {
    size_t n = 1 + (size_t)(round * 37) % sizeof buf;
    for (size_t i = 0; i < n; i++) {
      x = x * 1664525u + 1013904223u;
      buf[i] = (unsigned char)(x >> 24);
      if (round % 2 && buf[i] == 0) buf[i] = 'x';
    }
    clt_status st = clt_ini_parse((const char *)buf, n, NAME, &ini);
    assert_true(st == CLT_OK || st == CLT_ERR_BAD_DATA);
    clt_ini_free(ini);
  }

  /* a 10,000-character line */
  char *line = malloc(10100);
  assert_non_null(line);
  memcpy(line, "[net]\nk = ", 10);
  memset(line + 10, 'a', 10000);
  strcpy(line + 10010, "\n");
  parse_bad(line, 2, "longer than 4096");
  /* exactly the limit is fine */
  memcpy(line, "[net]\nk=", 8);
  memset(line + 8, 'b', CLT_INI_MAX_LINE - 2);
  strcpy(line + 8 + CLT_INI_MAX_LINE - 2, "\r\n");
  ini = parse_ok(line);
  assert_int_equal(strlen(ini->sections[0].entries[0].value), CLT_INI_MAX_LINE - 2);
  clt_ini_free(ini);
  free(line);

  /* more than 1 MiB */
  size_t big = CLT_INI_MAX_BYTES + 1;
  char *huge = malloc(big);
  assert_non_null(huge);
  memset(huge, '\n', big);
  assert_int_equal(clt_ini_parse(huge, big, NAME, &ini), CLT_ERR_BAD_DATA);
  assert_null(ini);
  EXPECT_MESSAGE_HAS("1 MiB");
  free(huge);
}

/* Random edits of a good model file: every outcome must be a clean status. */
static void test_mutations(void **state) {
  (void)state;
  static const char good[] = "[net]\ninput = 28x28x1 # c\nbatch = 64\n[conv]\nfilters = 32\n"
                             "size = 3\nactivation = relu\n[dense]\nunits=10\n";
  char buf[sizeof good + 8];
  uint32_t x = 99;
  static const char alphabet[] = "[]=#; \t\r\n\0xa1";
  for (int round = 0; round < 3000; round++) {
    memcpy(buf, good, sizeof good);
    size_t n = sizeof good - 1;
    for (int k = 0; k < 3; k++) {
      x = x * 1664525u + 1013904223u;
      size_t at = (x >> 8) % n;
      buf[at] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
    }
    x = x * 1664525u + 1013904223u;
    if (round % 5 == 0) n = (x >> 8) % n;
    clt_ini *ini = NULL;
    clt_status st = clt_ini_parse(buf, n, NAME, &ini);
    assert_true(st == CLT_OK || st == CLT_ERR_BAD_DATA);
    if (st != CLT_OK) {
      assert_null(ini);
      assert_non_null(strstr(clt_last_error(), NAME ":"));
      continue;
    }
    for (int s = 0; s < ini->section_count; s++) {
      int v = 0;
      int h, w, c;
      (void)clt_ini_get_int(&ini->sections[s], "batch", 1, 1, 100, &v);
      (void)clt_ini_get_shape_hwc(&ini->sections[s], "input", &h, &w, &c);
      (void)clt_ini_check_unused(&ini->sections[s]);
    }
    clt_ini_free(ini);
  }
}

static const char *const conv_keys[] = {"filters", "size", "stride",
                                        "padding", "bias", "activation"};

static void test_unknown_key(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[net]\n[conv]\nsize = 3\nfilter = 32\n[softmax]\nunits = 3\n");
  const clt_ini_section *conv = &ini->sections[1];
  for (int i = 0; i < 6; i++) {
    const char *s;
    assert_int_equal(clt_ini_get_string(conv, conv_keys[i], "x", &s), CLT_OK);
  }
  assert_int_equal(clt_ini_check_unused(conv), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":4: [conv] unknown key 'filter'");
  EXPECT_MESSAGE_HAS("(did you mean 'filters'?)");
  EXPECT_MESSAGE_HAS("known keys: filters, size, stride, padding, bias, activation");

  assert_int_equal(clt_ini_check_unused(&ini->sections[2]), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":6: [softmax] unknown key 'units'; this section takes no keys");

  /* a key asked twice is listed once; clt_ini_has() adds to the list but does not consume */
  const clt_ini_section *net = &ini->sections[0];
  assert_false(clt_ini_has(net, "batch"));
  assert_false(clt_ini_has(net, "batch"));
  assert_int_equal(clt_ini_check_unused(net), CLT_OK);
  clt_ini_free(ini);

  ini = parse_ok("[net]\nbatch = 3\nzzz = 1\n");
  int v;
  assert_int_equal(clt_ini_get_int(&ini->sections[0], "batch", 1, 1, 9, &v), CLT_OK);
  assert_int_equal(clt_ini_get_int(&ini->sections[0], "batch", 1, 1, 9, &v), CLT_OK);
  assert_int_equal(clt_ini_check_unused(&ini->sections[0]), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("[net] unknown key 'zzz'; known keys: batch");
  assert_null(strstr(clt_last_error(), "did you mean"));
  clt_ini_free(ini);
}

static void test_int(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[conv]\nfilters = 32\nsize = 0\nstride = 3x\nneg = -4\nplus = +7\n"
                          "big = 99999999999999999999\nsci = 1e3\nhex = 0x10\nseed = 4294967295\n"
                          "seed2 = 4294967296\n");
  const clt_ini_section *s = &ini->sections[0];
  int v = -1;
  assert_int_equal(clt_ini_get_int(s, "filters", 1, 1, 65536, &v), CLT_OK);
  assert_int_equal(v, 32);
  assert_true(s->entries[0].used);
  assert_int_equal(clt_ini_get_int(s, "absent", 17, 1, 65536, &v), CLT_OK);
  assert_int_equal(v, 17);
  assert_int_equal(clt_ini_require_int(s, "filters", 1, 65536, &v), CLT_OK);

  v = -1;
  assert_int_equal(clt_ini_get_int(s, "size", 1, 1, 64, &v), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(),
                      NAME ":3: [conv] size = 0: must be an integer from 1 to 64");
  assert_int_equal(v, -1);
  assert_int_equal(clt_ini_get_int(s, "stride", 1, 1, 64, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME
                     ":4: [conv] stride = 3x: not a whole number; use an integer from 1 to 64");
  assert_int_equal(clt_ini_get_int(s, "neg", 0, -10, 10, &v), CLT_OK);
  assert_int_equal(v, -4);
  assert_int_equal(clt_ini_get_int(s, "neg", 0, 0, INT32_MAX, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be an integer >= 0");
  assert_int_equal(clt_ini_get_int(s, "plus", 0, 0, 10, &v), CLT_OK);
  assert_int_equal(v, 7);
  assert_int_equal(clt_ini_get_int(s, "big", 0, INT32_MIN, INT32_MAX, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(":7: [conv] big = 99999999999999999999: must be an integer");
  assert_int_equal(clt_ini_get_int(s, "sci", 0, 0, 10000, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("not a whole number");
  assert_int_equal(clt_ini_get_int(s, "hex", 0, 0, 10000, &v), CLT_ERR_BAD_DATA);

  int64_t w = 0;
  assert_int_equal(clt_ini_get_i64(s, "seed", 42, 0, UINT32_MAX, &w), CLT_OK);
  assert_true(w == 4294967295LL);
  assert_int_equal(clt_ini_get_i64(s, "seed2", 42, 0, UINT32_MAX, &w), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be an integer from 0 to 4294967295");

  assert_int_equal(clt_ini_require_int(s, "units", 1, 100, &v), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":1: [conv] missing key 'units' (an integer from 1 to "
                                             "100); add a line 'units = ...'");
  clt_ini_free(ini);
}

static void test_float(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[net]\nlr = 0.5\nsci = 1e-7\nzero = 0\none = 1\nword = abc\n"
                          "tail = 1.5x\nnan = nan\ninf = inf\nhuge = 1e999\nneg = -2.5\n");
  const clt_ini_section *s = &ini->sections[0];
  double d = -1;
  assert_int_equal(clt_ini_get_float(s, "lr", 0.1, 0, 1, &d), CLT_OK);
  assert_true(d == 0.5);
  assert_int_equal(clt_ini_get_float(s, "absent", 0.25, 0, 1, &d), CLT_OK);
  assert_true(d == 0.25);
  assert_int_equal(
      clt_ini_get_float_ex(s, "sci", 0, 0, 1, CLT_INI_ABOVE_MIN | CLT_INI_BELOW_MAX, &d), CLT_OK);
  assert_true(d == 1e-7);
  assert_int_equal(clt_ini_get_float(s, "zero", 1, 0, 1, &d), CLT_OK);
  assert_true(d == 0.0);
  d = -1;
  assert_int_equal(clt_ini_get_float_ex(s, "zero", 1, 0, 10, CLT_INI_ABOVE_MIN, &d),
                   CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":4: [net] zero = 0: must be a number > 0 and <= 10");
  assert_true(d == -1);
  assert_int_equal(clt_ini_get_float_ex(s, "one", 0, 0, 1, CLT_INI_BELOW_MAX, &d),
                   CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("one = 1: must be a number >= 0 and < 1");
  assert_int_equal(clt_ini_get_float(s, "one", 0, 2, 3, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be a number from 2 to 3");
  assert_int_equal(clt_ini_get_float(s, "word", 0, 0, 1, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":6: [net] word = abc: not a number; use a number from 0 to 1");
  assert_int_equal(clt_ini_get_float(s, "tail", 0, 0, 10, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("not a number");
  assert_int_equal(clt_ini_get_float(s, "nan", 0, -INFINITY, INFINITY, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be finite; use a finite number");
  assert_int_equal(clt_ini_get_float(s, "inf", 0, -INFINITY, INFINITY, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be finite");
  assert_int_equal(clt_ini_get_float(s, "huge", 0, -INFINITY, INFINITY, &d), CLT_ERR_BAD_DATA);
  assert_int_equal(clt_ini_get_float(s, "neg", 0, 0, INFINITY, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("must be a number >= 0");
  assert_int_equal(clt_ini_get_float(s, "neg", 0, -INFINITY, 0, &d), CLT_OK);
  assert_true(d == -2.5);
  assert_int_equal(clt_ini_require_float(s, "rate", 0, 1, &d), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":1: [net] missing key 'rate' (a number from 0 to 1)");
  clt_ini_free(ini);
}

static void test_bool(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[dense]\na = 0\nb = 1\nc = true\nd = false\ne = yes\nf = no\ng = TRUE\n"
                          "h = No\ni = 2\nj = on\n");
  const clt_ini_section *s = &ini->sections[0];
  const char *keys = "abcdefgh";
  const bool want[] = {false, true, true, false, true, false, true, false};
  for (int i = 0; i < 8; i++) {
    char key[2] = {keys[i], 0};
    bool b = !want[i];
    assert_int_equal(clt_ini_get_bool(s, key, !want[i], &b), CLT_OK);
    assert_int_equal(b, want[i]);
  }
  bool b = true;
  assert_int_equal(clt_ini_get_bool(s, "absent", false, &b), CLT_OK);
  assert_false(b);
  assert_int_equal(clt_ini_get_bool(s, "i", false, &b), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(),
                      NAME ":10: [dense] i = 2: must be 0, 1, true, false, yes or no");
  assert_int_equal(clt_ini_get_bool(s, "j", false, &b), CLT_ERR_BAD_DATA);
  assert_int_equal(clt_ini_require_bool(s, "bias", &b), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("missing key 'bias'");
  clt_ini_free(ini);
}

static void test_choice_and_string(void **state) {
  (void)state;
  static const char *const opts[] = {"sgd", "adam", "adamw", NULL};
  clt_ini *ini = parse_ok("[net]\na = adamw\nb = adan\nc = rmsprop\nd = Adam\ntext = x = y\n");
  const clt_ini_section *s = &ini->sections[0];
  int v = -1;
  assert_int_equal(clt_ini_get_choice(s, "a", 1, opts, &v), CLT_OK);
  assert_int_equal(v, 2);
  assert_int_equal(clt_ini_get_choice(s, "absent", 1, opts, &v), CLT_OK);
  assert_int_equal(v, 1);
  assert_int_equal(clt_ini_get_choice(s, "b", 1, opts, &v), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":3: [net] b = adan: unknown choice (did you mean "
                                             "'adam'?); use one of sgd, adam, adamw");
  assert_int_equal(clt_ini_get_choice(s, "c", 1, opts, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("c = rmsprop: unknown choice; use one of sgd, adam, adamw");
  assert_int_equal(clt_ini_get_choice(s, "d", 1, opts, &v), CLT_ERR_BAD_DATA); /* exact case */
  assert_int_equal(clt_ini_require_choice(s, "e", opts, &v), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS("missing key 'e' (one of sgd, adam, adamw)");

  const char *str = NULL;
  assert_int_equal(clt_ini_get_string(s, "text", NULL, &str), CLT_OK);
  assert_string_equal(str, "x = y");
  assert_int_equal(clt_ini_get_string(s, "absent2", NULL, &str), CLT_OK);
  assert_null(str);
  assert_int_equal(clt_ini_require_string(s, "name", &str), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":1: [net] missing key 'name'");
  clt_ini_free(ini);
}

static void test_shape(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[net]\na = 28x28x1\nb = 32x32x3\nc = 65536x1x1\n");
  const clt_ini_section *s = &ini->sections[0];
  int h = 0, w = 0, c = 0;
  assert_int_equal(clt_ini_get_shape_hwc(s, "a", &h, &w, &c), CLT_OK);
  assert_int_equal(h, 28);
  assert_int_equal(w, 28);
  assert_int_equal(c, 1);
  assert_int_equal(clt_ini_get_shape_hwc(s, "b", &h, &w, &c), CLT_OK);
  assert_int_equal(c, 3);
  assert_int_equal(clt_ini_get_shape_hwc(s, "c", &h, &w, &c), CLT_OK);
  assert_int_equal(h, 65536);
  assert_int_equal(clt_ini_get_shape_hwc(s, "input", &h, &w, &c), CLT_ERR_BAD_DATA);
  EXPECT_MESSAGE_HAS(NAME ":1: [net] missing key 'input' (HxWxC");
  clt_ini_free(ini);

  static const char *const bad[] = {"28x28",     "0x28x1",
                                    "28x28x1x1", "axbxc",
                                    "28x28x",    "x28x1",
                                    "28X28X1",   "65537x1x1",
                                    "-1x2x3",    "28 x 28 x 1",
                                    "28x28x1a",  "1x0x1",
                                    "1x1x0",     "999999999999999999999x1x1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char text[128];
    snprintf(text, sizeof text, "[net]\n\ninput = %s\n", bad[i]);
    ini = parse_ok(text);
    h = w = c = -1;
    if (clt_ini_get_shape_hwc(&ini->sections[0], "input", &h, &w, &c) != CLT_ERR_BAD_DATA)
      fail_msg("'%s' accepted as a shape", bad[i]);
    assert_int_equal(h, -1);
    char want[128];
    snprintf(want, sizeof want, NAME ":3: [net] input = %s: ", bad[i]);
    EXPECT_MESSAGE_HAS(want);
    clt_ini_free(ini);
  }
}

static void test_helpers(void **state) {
  (void)state;
  clt_ini *ini = parse_ok("[net]\n[cnv]\n[conv]\nsize = 3\nstride = 5\n[zzzz]\n");
  static const char *const known[] = {"net", "conv", "dense", "maxpool", NULL};
  assert_int_equal(clt_ini_unknown_section(&ini->sections[1], known), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":2: unknown section [cnv] (did you mean [conv]?); "
                                             "known sections: net, conv, dense, maxpool");
  assert_int_equal(clt_ini_unknown_section(&ini->sections[3], known), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(),
                      NAME ":6: unknown section [zzzz]; known sections: net, conv, dense, maxpool");
  const clt_ini_section *conv = &ini->sections[2];
  assert_int_equal(clt_ini_key_fail(conv, "stride", "larger than size %d", 3), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":5: [conv] stride = 5: larger than size 3");
  assert_int_equal(clt_ini_key_fail(conv, "padding", "needed"), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":3: [conv] padding: needed");
  assert_int_equal(clt_ini_section_fail(conv, "output is %dx%d", 0, 0), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), NAME ":3: [conv] output is 0x0");
  clt_ini_free(ini);
}

static void test_load(void **state) {
  (void)state;
  clt_ini *ini = (clt_ini *)1;
  EXPECT_FAIL(clt_ini_load("/nonexistent/dir/model.cfg", &ini), CLT_ERR_MISSING_INPUT,
              "/nonexistent/dir/model.cfg");
  assert_null(ini);
  EXPECT_FAIL(clt_ini_load("/tmp", &ini), CLT_ERR_MISSING_INPUT, "folder");

  char path[1024];
  clt_test_make_temp_file(path, sizeof path, "clt_test_ini_",
                          "[net]\ninput = 28x28x1\nbatch = 0\n");
  assert_int_equal(clt_ini_load(path, &ini), CLT_OK);
  assert_string_equal(ini->name, path);
  int v;
  assert_int_equal(clt_ini_get_int(&ini->sections[0], "batch", 1, 1, 10, &v), CLT_ERR_BAD_DATA);
  char want[1100];
  snprintf(want, sizeof want, "%s:3: [net] batch = 0", path);
  EXPECT_MESSAGE_HAS(want);
  clt_ini_free(ini);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_empty_and_comments_only),
      cmocka_unit_test(test_bad_forms),
      cmocka_unit_test(test_too_many_keys),
      cmocka_unit_test(test_binary_garbage),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_int),
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_bool),
      cmocka_unit_test(test_choice_and_string),
      cmocka_unit_test(test_shape),
      cmocka_unit_test(test_helpers),
      cmocka_unit_test(test_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
