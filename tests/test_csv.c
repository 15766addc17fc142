/* CSV tables: the tokenizer on good files (quotes, CRLF, no final newline, string labels),
 * every kind of bad file (ragged row, non-numeric cell, empty file, header only, unknown
 * label), --skip-bad-rows, the training statistics against host-computed values, and the
 * chunked stream (same seed, same order; every row once per epoch; restarts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_stream.h"
#include "data/csv_schema.h"
#include "data/csv_table.h"
#include "nn/model.h"
#include "runtime/rng.h"
#include "util/expect.h"
#include "util/temp_files.h"

static const char *write_csv(const char *name, const char *text) {
  return clt_test_tmp_write(name, text, strlen(text));
}

static clt_csv_options opts(const char *label) {
  clt_csv_options o;
  memset(&o, 0, sizeof o);
  o.label = label;
  return o;
}

static void test_good_file(void **state) {
  (void)state;
  /* Quoted fields (with a comma, a doubled quote, a newline), CRLF line ends, a blank line,
   * string labels, no newline at the end. */
  const char *path = write_csv("good.csv", "a,\"b, the second\",kind\r\n"
                                           "1,2,cat\r\n"
                                           "\"3\",4.5,\"dog\"\r\n"
                                           "\r\n"
                                           "-1e1, 6 ,\"c\"\"at\"\r\n"
                                           "0,0,\"two\nlines\"");
  clt_csv_options o = opts("kind");
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  assert_int_equal(t.columns, 3);
  assert_string_equal(t.column_names[1], "b, the second");
  assert_int_equal(t.features, 2);
  assert_int_equal(t.label_column, 2);
  assert_int_equal(t.rows, 4);
  assert_int_equal(t.classes, 4);
  /* Byte order: "c\"at" < "cat" < "dog" < "two\nlines". */
  assert_string_equal(t.class_names[0], "c\"at");
  assert_string_equal(t.class_names[1], "cat");
  assert_string_equal(t.class_names[2], "dog");
  assert_string_equal(t.class_names[3], "two\nlines");
  double xa[4] = {1, 3, -10, 0}, xb[4] = {2, 4.5, 6, 0};
  double ma = (1 + 3 - 10 + 0) / 4.0, mb = (2 + 4.5 + 6 + 0) / 4.0, va = 0, vb = 0;
  for (int i = 0; i < 4; i++) {
    va += (xa[i] - ma) * (xa[i] - ma) / 4;
    vb += (xb[i] - mb) * (xb[i] - mb) / 4;
  }
  assert_true(fabs(t.mean[0] - ma) < 1e-12 && fabs(t.mean[1] - mb) < 1e-12);
  assert_true(fabs(t.std[0] - sqrt(va)) < 1e-12 && fabs(t.std[1] - sqrt(vb)) < 1e-12);
  /* Streamed in file order: standardised features and class indices. */
  clt_csv_stream *s;
  OK(clt_csv_stream_create(&t, 0, 4, 0, &s));
  float x[8];
  int32_t y[4];
  OK(clt_csv_stream_read(s, 0, 4, x, y));
  int32_t want_y[4] = {1, 2, 0, 3};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(y[i], want_y[i]);
    assert_true(fabsf(x[2 * i] - (float)((xa[i] - ma) / sqrt(va))) < 1e-5f);
    assert_true(fabsf(x[2 * i + 1] - (float)((xb[i] - mb) / sqrt(vb))) < 1e-5f);
  }
  clt_csv_stream_destroy(s);
  clt_csv_table_free(&t);
}

static void test_default_label_and_numeric_classes(void **state) {
  (void)state;
  const char *path = write_csv("num.csv", "x,y\n1,10\n2,2\n3,1\n4,2\n");
  clt_csv_options o = opts(NULL);
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  assert_int_equal(t.label_column, 1);
  assert_int_equal(t.classes, 3);
  assert_string_equal(t.class_names[0], "1"); /* numerically, not "1" < "10" < "2" */
  assert_string_equal(t.class_names[1], "2");
  assert_string_equal(t.class_names[2], "10");
  clt_csv_table_free(&t);
}

/* Spreadsheets may start the file with a UTF-8 byte-order mark: not part of the first name. */
static void test_byte_order_mark(void **state) {
  (void)state;
  const char *path = write_csv("bom.csv", "\xEF\xBB\xBFid,x,y\n1,2,a\n3,4,b\n");
  clt_csv_options o = opts(NULL);
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  assert_string_equal(t.column_names[0], "id");
  clt_csv_table_free(&t);
}

static void expect_scan_fail(const char *path, const clt_csv_options *o, clt_status want,
                             const char *needle) {
  clt_csv_table t;
  EXPECT_FAIL(clt_csv_scan(path, o, &t), want, needle);
  assert_null(strchr(clt_last_error(), '\n'));
  clt_csv_table_free(&t);
}

static void test_ragged_row(void **state) {
  (void)state;
  const char *path = write_csv("ragged.csv", "a,b,y\n1,2,p\n3,4,q\n5,6,7,q\n");
  clt_csv_options o = opts("y");
  char want[512];
  snprintf(want, sizeof want, "%s:4:7: the row has 4 fields but the header has 3", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  EXPECT_MESSAGE_HAS("skip bad rows");
  path = write_csv("short.csv", "a,b,y\n1,2,p\n3,q\n4,5,q\n");
  snprintf(want, sizeof want, "%s:3:4: the row has 2 fields but the header has 3", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
}

static void test_non_numeric_cell(void **state) {
  (void)state;
  const char *path = write_csv("nan.csv", "a,b,y\n1,2,p\n3,4,q\n3,x4,q\n");
  clt_csv_options o = opts("y");
  char want[512];
  snprintf(want, sizeof want, "%s:4:3: \"x4\" in column \"b\" is not a number", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  path = write_csv("inf.csv", "a,b,y\n1,2,p\n3,inf,q\n");
  snprintf(want, sizeof want, "%s:3:3: \"inf\" in column \"b\" is not finite", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  path = write_csv("emptycell.csv", "a,b,y\n1,,p\n3,4,q\n");
  snprintf(want, sizeof want, "%s:2:3: \"\" in column \"b\" is not a number", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  path = write_csv("quote.csv", "a,b,y\n1,\"2\"x,p\n3,4,q\n");
  snprintf(want, sizeof want, "%s:2:6: text after the closing quote", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  path = write_csv("unclosed.csv", "a,b,y\n1,2,p\n3,\"4,q\n");
  snprintf(want, sizeof want, "%s:3:3: a quoted field is not closed", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
  o.regression = 1;
  path = write_csv("target.csv", "a,b,y\n1,2,0.5\n3,4,big\n");
  snprintf(want, sizeof want, "%s:3:5: the target \"big\" in column \"y\" is not a finite", path);
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, want);
}

static void test_empty_and_header_only(void **state) {
  (void)state;
  clt_csv_options o = opts(NULL);
  const char *path = write_csv("empty.csv", "");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "is empty");
  path = write_csv("blank.csv", "\n\r\n\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "is empty");
  path = write_csv("header.csv", "a,b,y\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "has a header but no data rows");
  path = write_csv("onecol.csv", "y\n1\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "at least one feature column");
  path = write_csv("twice.csv", "a,a,y\n1,2,3\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "appears twice");
  path = write_csv("oneclass.csv", "a,y\n1,p\n2,p\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "one value only");
  expect_scan_fail(clt_test_tmp_path("absent.csv"), &o, CLT_ERR_MISSING_INPUT, "no such file");
}

static void test_unknown_label(void **state) {
  (void)state;
  const char *path = write_csv("label.csv", "alpha,beta,gamma\n1,2,3\n4,5,6\n");
  clt_csv_options o = opts("delta");
  expect_scan_fail(path, &o, CLT_ERR_USAGE, "label column delta:");
  EXPECT_MESSAGE_HAS("its columns are: alpha, beta, gamma");
}

static void test_skip_bad_rows(void **state) {
  (void)state;
  const char *path =
      write_csv("skip.csv", "a,b,y\n1,2,p\n1,2,3,p\nx,2,q\n3,4,q\n\"5\"z,1,p\n5,6,p\n,,\n");
  clt_csv_options o = opts("y");
  o.skip_bad_rows = 1;
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  assert_int_equal(t.rows, 3);
  assert_int_equal(t.bad_rows, 4);
  assert_non_null(strstr(t.first_bad, ":3:7: the row has 4 fields"));
  assert_true(fabs(t.mean[0] - 3.0) < 1e-12);
  /* The stream skips the same rows. */
  clt_csv_stream *s;
  OK(clt_csv_stream_create(&t, 0, 3, 0, &s));
  float x[6];
  int32_t y[3];
  OK(clt_csv_stream_read(s, 0, 3, x, y));
  assert_int_equal(y[0], 0);
  assert_int_equal(y[1], 1);
  assert_int_equal(y[2], 0);
  clt_csv_stream_destroy(s);
  clt_csv_table_free(&t);
}

/* Feature j of row r of a generated table, as the file holds it (9 digits). */
static double value(int r, int j, int features, int constant_column) {
  double v = j == constant_column
                 ? 7.25
                 : 100.0 * j + 10.0 * clt_normal(1, 2, (uint32_t)(r * features + j));
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", v);
  return strtod(buf, NULL);
}

/* A generated table: rows of F features (row r, feature j) and a label, in one string. */
static char *generated(int rows, int features, int constant_column) {
  size_t cap = (size_t)rows * (size_t)(features + 1) * 24 + 256, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int j = 0; j < features; j++) n += (size_t)sprintf(text + n, "f%d,", j);
  n += (size_t)sprintf(text + n, "label\n");
  for (int r = 0; r < rows; r++) {
    for (int j = 0; j < features; j++) {
      n += (size_t)sprintf(text + n, "%.9g,", value(r, j, features, constant_column));
    }
    n += (size_t)sprintf(text + n, "c%d\n", r % 3);
  }
  return text;
}

static void test_statistics_of_training_rows(void **state) {
  (void)state;
  const int rows = 1000, F = 5;
  char *text = generated(rows, F, 3);
  const char *path = write_csv("stats.csv", text);
  clt_csv_options o = opts("label");
  o.val_split = 0.25;
  o.chunk_rows = 64; /* the split falls inside a chunk: 750 = 11 * 64 + 46 */
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  assert_int_equal(t.rows, rows);
  assert_int_equal(t.train_rows, 750);
  assert_int_equal(t.val_rows, 250);
  assert_int_equal(t.chunks, 16);
  assert_int_equal(t.constant_features, 1);
  for (int j = 0; j < F; j++) {
    double sum = 0, sq = 0;
    for (int r = 0; r < 750; r++) sum += value(r, j, F, 3);
    double mean = sum / 750;
    for (int r = 0; r < 750; r++) sq += (value(r, j, F, 3) - mean) * (value(r, j, F, 3) - mean);
    double sd = j == 3 ? 1.0 : sqrt(sq / 750);
    assert_true(fabs(t.mean[j] - mean) < 1e-12 * (1 + fabs(mean)));
    assert_true(fabs(t.std[j] - sd) < 1e-10 * sd);
  }
  clt_csv_table_free(&t);
  free(text);
}

static void test_stream_order(void **state) {
  (void)state;
  const int rows = 500, F = 2;
  char *text = generated(rows, F, -1);
  const char *path = write_csv("order.csv", text);
  clt_csv_options o = opts("label");
  o.val_split = 0.2;
  o.chunk_rows = 37;
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  /* Reference rows in file order, read unshuffled. */
  clt_csv_stream *plain, *s;
  OK(clt_csv_stream_create(&t, 0, rows, 0, &plain));
  float *all_x = malloc(sizeof(float) * rows * F), *x = malloc(sizeof(float) * rows * F);
  int32_t *all_y = malloc(sizeof(int32_t) * rows), *y = malloc(sizeof(int32_t) * rows);
  long *order = malloc(sizeof(long) * rows), *again = malloc(sizeof(long) * rows);
  OK(clt_csv_stream_read(plain, 0, rows, all_x, all_y));
  OK(clt_csv_stream_create(&t, 0, t.train_rows, 1, &s));
  int seen[500];
  for (int epoch = 0; epoch < 3; epoch++) {
    clt_csv_stream_order(s, 42, epoch, order);
    clt_csv_stream_order(s, 42, epoch, again);
    memset(seen, 0, sizeof seen);
    int moved = 0;
    for (long i = 0; i < t.train_rows; i++) {
      assert_int_equal(order[i], again[i]); /* same seed and epoch, same order */
      assert_true(order[i] >= 0 && order[i] < t.train_rows);
      seen[order[i]]++;
      moved += order[i] != i;
    }
    for (long i = 0; i < t.train_rows; i++) assert_int_equal(seen[i], 1); /* each row once */
    assert_true(moved > (int)t.train_rows / 2);
    /* The stream delivers that order, in uneven reads. */
    OK(clt_csv_stream_begin_epoch(s, 42, epoch));
    for (long start = 0; start < t.train_rows;) {
      int n = (int)(t.train_rows - start < 29 ? t.train_rows - start : 29);
      OK(clt_csv_stream_read(s, start, n, x + start * F, y + start));
      start += n;
    }
    for (long i = 0; i < t.train_rows; i++) {
      assert_int_equal(y[i], all_y[order[i]]);
      assert_memory_equal(x + i * F, all_x + order[i] * F, sizeof(float) * F);
    }
    /* A restart in the middle (a resumed run) gives the same rows from there. */
    OK(clt_csv_stream_read(s, 123, 50, x, y));
    for (int i = 0; i < 50; i++) assert_int_equal(y[i], all_y[order[123 + i]]);
  }
  clt_csv_stream_order(s, 43, 0, again);
  clt_csv_stream_order(s, 42, 0, order);
  assert_memory_not_equal(order, again, sizeof(long) * t.train_rows); /* another seed */
  /* The validation rows: the file's last rows, in file order, twice. */
  clt_csv_stream *val;
  OK(clt_csv_stream_create(&t, t.train_rows, t.val_rows, 0, &val));
  for (int pass = 0; pass < 2; pass++) {
    OK(clt_csv_stream_read(val, 0, (int)t.val_rows, x, y));
    assert_memory_equal(x, all_x + t.train_rows * F, sizeof(float) * t.val_rows * F);
  }
  clt_csv_stream_destroy(val);
  clt_csv_stream_destroy(s);
  clt_csv_stream_destroy(plain);
  clt_csv_table_free(&t);
  free(all_x);
  free(x);
  free(all_y);
  free(y);
  free(order);
  free(again);
  free(text);
}

static void test_fixed_schema(void **state) {
  (void)state;
  const char *path = write_csv("fixed.csv", "b,label,a\n1,n,2\n3,m,4\n5,z,6\n");
  char *names[2] = {"a", "b"}, *classes[2] = {"m", "n"};
  double mean[2] = {1, 2}, std[2] = {2, 4};
  clt_csv_schema sc = {2, names, "label", 0, 2, classes, mean, std};
  clt_csv_options o = opts(NULL);
  o.fixed = &sc;
  clt_csv_table t;
  EXPECT_FAIL(clt_csv_scan(path, &o, &t), CLT_ERR_BAD_DATA, ":4:3: the label \"z\" is not one");
  clt_csv_table_free(&t);
  path = write_csv("fixed2.csv", "b,label,a\n1,n,2\n3,m,4\n");
  OK(clt_csv_scan(path, &o, &t));
  clt_csv_stream *s;
  OK(clt_csv_stream_create(&t, 0, 2, 0, &s));
  float x[4];
  int32_t y[2];
  OK(clt_csv_stream_read(s, 0, 2, x, y));
  assert_int_equal(y[0], 1);
  assert_int_equal(y[1], 0);
  assert_true(x[0] == 0.5f && x[1] == -0.25f && x[2] == 1.5f && x[3] == 0.25f);
  clt_csv_stream_destroy(s);
  clt_csv_table_free(&t);
  path = write_csv("fixed3.csv", "c,label,a\n1,n,2\n");
  expect_scan_fail(path, &o, CLT_ERR_BAD_DATA, "no column \"b\"");
}

static void test_memory_reader(void **state) {
  (void)state;
  const char text[] = "p,q\n1,a\n2,b";
  clt_csv_options o = opts("q");
  clt_csv_table t;
  OK(clt_csv_scan_memory(text, sizeof text - 1, "mem.csv", &o, &t));
  assert_int_equal(t.rows, 2);
  clt_csv_table_free(&t);
  EXPECT_FAIL(clt_csv_scan_memory("p,q\n1\n", 6, "mem.csv", &o, &t), CLT_ERR_BAD_DATA,
              "mem.csv:2:2:");
  clt_csv_table_free(&t);
}

/* The model side: "input = N" is a 1x1xN sample; [mse] is a head like [softmax]. */
static void test_model_input_and_mse_head(void **state) {
  (void)state;
  static const char text[] = "[net]\ninput = 24\n[dense]\nunits = 8\n[dense]\nunits = 1\n[mse]\n";
  clt_model *m = NULL;
  OK(clt_model_parse(text, sizeof text - 1, "tab.cfg", &m));
  assert_int_equal(m->input.h, 1);
  assert_int_equal(m->input.w, 1);
  assert_int_equal(m->input.c, 24);
  assert_int_equal(m->regression, 1);
  clt_model_free(m);
  static const char after[] = "[net]\ninput = 4\n[dense]\nunits = 1\n[mse]\n[dense]\nunits = 2\n";
  EXPECT_FAIL(clt_model_parse(after, sizeof after - 1, "tab.cfg", &m), CLT_ERR_BAD_DATA,
              "comes after [mse], which must be the last layer");
  clt_model_free(m);
  static const char wide[] = "[net]\ninput = 4\n[dense]\nunits = 3\n[mse]\n";
  EXPECT_FAIL(clt_model_parse(wide, sizeof wide - 1, "tab.cfg", &m), CLT_ERR_BAD_DATA,
              "add a [dense] layer with units = 1 before [mse]");
  clt_model_free(m);
  static const char bad[] = "[net]\ninput = 4x\n[dense]\nunits = 3\n[softmax]\n";
  EXPECT_FAIL(clt_model_parse(bad, sizeof bad - 1, "tab.cfg", &m), CLT_ERR_BAD_DATA,
              "one number of features");
  clt_model_free(m);
}

/* The statistics a checkpoint keeps survive encoding; damaged bytes are refused. */
static void test_schema_round_trip(void **state) {
  (void)state;
  const char *path = write_csv("schema.csv", "u,v,kind\n1,5,b\n2,7,a\n4,9,b\n");
  clt_csv_options o = opts(NULL);
  clt_csv_table t;
  OK(clt_csv_scan(path, &o, &t));
  unsigned char *bytes = NULL;
  size_t n = 0;
  OK(clt_csv_schema_encode(&t, &bytes, &n));
  clt_csv_schema s;
  OK(clt_csv_schema_decode(bytes, n, "x.ckpt", &s));
  assert_int_equal(s.features, 2);
  assert_int_equal(s.classes, 2);
  assert_string_equal(s.label, "kind");
  assert_string_equal(s.feature_names[1], "v");
  assert_string_equal(s.class_names[0], "a");
  assert_true(s.mean[0] == t.mean[0] && s.std[1] == t.std[1]);
  clt_csv_schema_free(&s);
  for (size_t cut = 0; cut < n; cut += 3) {
    EXPECT_FAIL(clt_csv_schema_decode(bytes, cut, "x.ckpt", &s), CLT_ERR_BAD_DATA, "malformed");
    clt_csv_schema_free(&s);
  }
  free(bytes);
  clt_csv_table_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_file),
      cmocka_unit_test(test_default_label_and_numeric_classes),
      cmocka_unit_test(test_byte_order_mark),
      cmocka_unit_test(test_ragged_row),
      cmocka_unit_test(test_non_numeric_cell),
      cmocka_unit_test(test_empty_and_header_only),
      cmocka_unit_test(test_unknown_label),
      cmocka_unit_test(test_skip_bad_rows),
      cmocka_unit_test(test_statistics_of_training_rows),
      cmocka_unit_test(test_stream_order),
      cmocka_unit_test(test_fixed_schema),
      cmocka_unit_test(test_memory_reader),
      cmocka_unit_test(test_model_input_and_mse_head),
      cmocka_unit_test(test_schema_round_trip),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
