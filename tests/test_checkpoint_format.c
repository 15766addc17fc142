/* The checkpoint file format (train/checkpoint.h, docs/CHECKPOINT.md) without a device:
 * a round trip keeps every field; a file that is truncated anywhere, has any one byte
 * flipped, the wrong magic, a newer format version or the other byte order is refused with
 * CLT_ERR_BAD_DATA and a message that says so (and never crashes); the run options text
 * round-trips the recipe exactly; the -best name; and the helpers of eval and predict
 * (PGM/PPM reading and resizing, top-k, per-class scores). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/pnm.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/run_options.h"
#include "util/expect.h"
#include "util/temp_files.h"

static const char *folder;
static char path[1024], bad_path[1024];

static int setup(void **state) {
  (void)state;
  if (!(folder = clt_test_tmpdir_create())) return -1;
  snprintf(path, sizeof path, "%s/a.ckpt", folder);
  snprintf(bad_path, sizeof bad_path, "%s/bad.ckpt", folder);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  clt_test_tmpdir_remove();
  return 0;
}

/* A checkpoint of two layers: 6 + 2 parameters (Adam: 16 optimizer floats), 4 state floats. */
static void sample(clt_checkpoint *ck) {
  memset(ck, 0, sizeof *ck);
  static char text[] = "[net]\ninput = 2x2x1\n[dense]\nunits = 2\n[softmax]\n";
  static char options[] = "[net]\nbatch = 4\n[run]\nmodel = m.cfg\n";
  static char device[] = "device = test device\ndriver = 1.0\n";
  static char names[] = "zero\none\n";
  static clt_checkpoint_layer layers[2] = {{2, {6, 2, 0, 0}, 0}, {0, {0}, 4}};
  static float params[6 + 2], optimizer[16], st[4];
  for (int i = 0; i < 8; i++) params[i] = 0.5f * (float)i - 1.0f;
  for (int i = 0; i < 16; i++) optimizer[i] = 1e-3f * (float)i;
  for (int i = 0; i < 4; i++) st[i] = (float)i;
  ck->model_text = text;
  ck->model_length = strlen(text);
  ck->options = options;
  ck->device = device;
  ck->class_names = names;
  ck->pos.epoch = 2;
  ck->pos.step = 3;
  ck->pos.global_step = 2 * 7 + 3;
  ck->pos.metrics[0] = 12.5f;
  ck->pos.metrics[2] = 48.0f;
  ck->pos.epoch_seconds = 1.25;
  ck->pos.has_best = 1;
  ck->pos.best_val_accuracy = 0.875;
  ck->epochs = 5;
  ck->steps_per_epoch = 7;
  ck->batch = 16;
  ck->seed = 4000000000u;
  ck->train_n = 100;
  ck->val_n = 11;
  ck->data_crc = 0xdeadbeefu;
  ck->layer_count = 2;
  ck->layers = layers;
  ck->optimizer_blocks = 2;
  ck->params = params;
  ck->param_floats = 8;
  ck->optimizer = optimizer;
  ck->optimizer_floats = 16;
  ck->state = st;
  ck->state_floats = 4;
}

static void test_round_trip(void **state) {
  (void)state;
  clt_checkpoint a, b;
  sample(&a);
  OK(clt_checkpoint_write(path, &a));
  assert_int_equal(access(path, F_OK), 0);
  char tmp[1040];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_not_equal(access(tmp, F_OK), 0); /* renamed away */
  OK(clt_checkpoint_read(path, &b));
  assert_int_equal(b.version, CLT_CHECKPOINT_VERSION);
  assert_string_equal(b.model_text, a.model_text);
  assert_int_equal(b.model_length, a.model_length);
  assert_string_equal(b.options, a.options);
  assert_string_equal(b.device, a.device);
  assert_string_equal(b.class_names, a.class_names);
  assert_memory_equal(&b.pos, &a.pos, sizeof a.pos);
  assert_int_equal(b.epochs, 5);
  assert_int_equal(b.steps_per_epoch, 7);
  assert_int_equal(b.batch, 16);
  assert_int_equal(b.seed, 4000000000u);
  assert_int_equal(b.train_n, 100);
  assert_int_equal(b.val_n, 11);
  assert_int_equal(b.data_crc, 0xdeadbeefu);
  assert_int_equal(b.layer_count, 2);
  assert_memory_equal(b.layers, a.layers, 2 * sizeof *a.layers);
  assert_int_equal(b.optimizer_blocks, 2);
  assert_int_equal(b.param_floats, 8);
  assert_memory_equal(b.params, a.params, 8 * sizeof(float));
  assert_int_equal(b.optimizer_floats, 16);
  assert_memory_equal(b.optimizer, a.optimizer, 16 * sizeof(float));
  assert_int_equal(b.state_floats, 4);
  assert_memory_equal(b.state, a.state, 4 * sizeof(float));
  char v[64];
  assert_true(clt_checkpoint_value(b.device, "driver", v, sizeof v));
  assert_string_equal(v, "1.0");
  assert_false(clt_checkpoint_value(b.device, "vendor", v, sizeof v));
  clt_checkpoint_free(&b);
  clt_checkpoint_free(&b); /* zeroed: a second free is harmless */
}

/* Reads bad_path expecting CLT_ERR_BAD_DATA with want in the message. */
static void expect_refused(const char *want, const char *what) {
  clt_checkpoint ck;
  clt_clear_error();
  clt_status st = clt_checkpoint_read(bad_path, &ck);
  if (st != CLT_ERR_BAD_DATA)
    fail_msg("%s: status %s (%s), expected bad data", what, clt_status_string(st),
             clt_last_error());
  if (want && !strstr(clt_last_error(), want))
    fail_msg("%s: message '%s' lacks '%s'", what, clt_last_error(), want);
  assert_null(ck.params); /* nothing left allocated */
}

static void test_truncated_anywhere(void **state) {
  (void)state;
  clt_checkpoint a;
  sample(&a);
  OK(clt_checkpoint_write(path, &a));
  size_t n;
  unsigned char *d = clt_test_read_file(path, &n);
  for (size_t len = 0; len < n; len++) {
    clt_test_write_file(bad_path, d, len);
    char what[64];
    snprintf(what, sizeof what, "truncated to %zu of %zu bytes", len, n);
    expect_refused(len == 0 ? "not a cltrain checkpoint" : "truncated", what);
  }
  /* One byte too many is refused as well. */
  unsigned char *longer = malloc(n + 1);
  memcpy(longer, d, n);
  longer[n] = 0;
  clt_test_write_file(bad_path, longer, n + 1);
  expect_refused("after the end marker", "one extra byte");
  free(longer);
  free(d);
}

static void test_any_byte_flipped(void **state) {
  (void)state;
  clt_checkpoint a;
  sample(&a);
  OK(clt_checkpoint_write(path, &a));
  size_t n;
  unsigned char *d = clt_test_read_file(path, &n);
  for (size_t i = 0; i < n; i++) {
    for (int bit = 0; bit < 8; bit += 7) {
      d[i] ^= (unsigned char)(1u << bit);
      clt_test_write_file(bad_path, d, n);
      char what[64];
      snprintf(what, sizeof what, "bit %d of byte %zu flipped", bit, i);
      /* Bytes 0-7 are the magic; everything after is covered by a CRC. */
      expect_refused(i < 8 ? "wrong magic" : NULL, what);
      d[i] ^= (unsigned char)(1u << bit);
    }
  }
  /* A flip in the parameters names the section and says what to do. */
  size_t at = n - 20 - 16 - 20 - 64 - 20 - 32; /* inside PARM, before OPTM, LSTA and END */
  d[at] ^= 0x40;
  clt_test_write_file(bad_path, d, n);
  expect_refused("section PARM is damaged (CRC mismatch)", "PARM flip");
  expect_refused("-best", "PARM flip");
  free(d);
}

static void rewrite_header(unsigned char *d, uint32_t version, uint32_t mark) {
  memcpy(d + 8, &version, 4);
  memcpy(d + 12, &mark, 4);
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), d, 20);
  memcpy(d + 20, &crc, 4);
}

static void test_magic_version_endianness(void **state) {
  (void)state;
  clt_checkpoint a;
  sample(&a);
  OK(clt_checkpoint_write(path, &a));
  size_t n;
  unsigned char *d = clt_test_read_file(path, &n);
  unsigned char *e = malloc(n);
  memcpy(e, d, n);
  memcpy(e, "PK\003\004zip!", 8);
  clt_test_write_file(bad_path, e, n);
  expect_refused("not a cltrain checkpoint (wrong magic number)", "zip magic");

  memcpy(e, d, n);
  rewrite_header(e, CLT_CHECKPOINT_VERSION + 1, 0x01020304u);
  clt_test_write_file(bad_path, e, n);
  expect_refused("made by a newer cltrain (format 2); this build reads up to format 1", "newer");
  expect_refused("update cltrain", "newer");

  memcpy(e, d, n);
  rewrite_header(e, CLT_CHECKPOINT_VERSION, 0x04030201u);
  clt_test_write_file(bad_path, e, n);
  expect_refused("other byte order", "big-endian");

  memcpy(e, d, n);
  rewrite_header(e, 0, 0x01020304u);
  clt_test_write_file(bad_path, e, n);
  expect_refused("format version 0", "version 0");

  clt_test_write_file(bad_path, (const unsigned char *)"hello", 5);
  expect_refused("not a cltrain checkpoint", "text file");
  free(e);
  free(d);

  clt_checkpoint ck;
  unlink(bad_path);
  assert_int_equal(clt_checkpoint_read(bad_path, &ck), CLT_ERR_MISSING_INPUT);
  /* a folder: not a file to read, as for model and data files (exit 66) */
  assert_int_equal(clt_checkpoint_read(folder, &ck), CLT_ERR_MISSING_INPUT);
}

static void test_write_failure_keeps_old(void **state) {
  (void)state;
  clt_checkpoint a;
  sample(&a);
  char p[1040];
  snprintf(p, sizeof p, "%s/no-such-folder/x.ckpt", folder);
  assert_int_equal(clt_checkpoint_write(p, &a), CLT_ERR_IO);
  assert_non_null(strstr(clt_last_error(), "cannot create"));
}

static void test_best_path(void **state) {
  (void)state;
  char b[128];
  assert_int_equal(clt_checkpoint_best_path("run.ckpt", b, sizeof b), 0);
  assert_string_equal(b, "run-best.ckpt");
  clt_checkpoint_best_path("out/run", b, sizeof b);
  assert_string_equal(b, "out/run-best");
  clt_checkpoint_best_path("a.d/run", b, sizeof b);
  assert_string_equal(b, "a.d/run-best");
  clt_checkpoint_best_path("x/.hidden", b, sizeof b);
  assert_string_equal(b, "x/.hidden-best");
  clt_checkpoint_best_path("r.tar.ckpt", b, sizeof b);
  assert_string_equal(b, "r.tar-best.ckpt");
  assert_int_equal(clt_checkpoint_best_path("run.ckpt", b, 8), -1);
}

static void test_run_options_round_trip(void **state) {
  (void)state;
  clt_recipe r, back;
  clt_recipe_defaults(&r);
  r.in_h = 28;
  r.in_w = 28;
  r.in_c = 1;
  r.learning_rate = 0.1 + 0.2; /* not short in decimal */
  r.optimizer = CLT_OPT_SGD;
  r.momentum = 0.9;
  r.nesterov = true;
  r.schedule = CLT_SCHED_STEP;
  r.step_every = 3;
  r.gamma = 1.0 / 3.0;
  r.seed = 4294967295u;
  clt_run_options o, ob;
  memset(&o, 0, sizeof o);
  snprintf(o.model, sizeof o.model, "models/with # and ; in it.cfg");
  snprintf(o.data, sizeof o.data, "/data");
  o.subset = 640;
  o.val_split = 0.1;
  o.save_every = 7;
  o.keep_best = 1;
  snprintf(o.version, sizeof o.version, "9.9");
  char *text = clt_run_options_text(&o, &r);
  assert_non_null(text);
  OK(clt_run_options_parse(text, "opts", &ob, &back));
  free(text);
  assert_string_equal(ob.model, o.model);
  assert_string_equal(ob.data, "/data");
  assert_string_equal(ob.save, "");
  assert_string_equal(ob.log, "");
  assert_int_equal(ob.subset, 640);
  assert_true(ob.val_split == 0.1);
  assert_int_equal(ob.save_every, 7);
  assert_int_equal(ob.keep_best, 1);
  assert_true(back.learning_rate == r.learning_rate);
  assert_true(back.gamma == r.gamma);
  assert_true(back.momentum == r.momentum);
  assert_true(back.nesterov);
  assert_int_equal(back.optimizer, CLT_OPT_SGD);
  assert_int_equal(back.schedule, CLT_SCHED_STEP);
  assert_int_equal(back.step_every, 3);
  assert_int_equal(back.seed, 4294967295u);
  assert_int_equal(back.batch, r.batch);
  assert_int_equal(back.in_h, 28);
  assert_int_equal(clt_run_options_parse("[net]\nbatch = 2\n", "opts", &ob, &back),
                   CLT_ERR_BAD_DATA);
}

static void test_pnm(void **state) {
  (void)state;
  clt_image img;
  static const unsigned char p2[] = "P2\n# comment\n3 2\n# another\n10\n0 5 10\n10 5 0\n";
  OK(clt_pnm_parse(p2, sizeof p2 - 1, "p2", &img));
  assert_int_equal(img.h, 2);
  assert_int_equal(img.w, 3);
  assert_int_equal(img.c, 1);
  assert_true(img.pixels[1] == 0.5f && img.pixels[2] == 1.0f && img.pixels[5] == 0.0f);
  clt_image_free(&img);
  static const unsigned char p6[] = "P6 1 1 65535\n\xff\xff\x00\x00\x80\x00";
  OK(clt_pnm_parse(p6, sizeof p6 - 1, "p6", &img));
  assert_int_equal(img.c, 3);
  assert_true(img.pixels[0] == 1.0f && img.pixels[1] == 0.0f);
  /* Colour to grey, and 1x1 up to 2x2 (bilinear: all equal). */
  float out[4];
  OK(clt_image_fit(&img, 2, 2, 1, out));
  float grey = (float)(0.299 * 1.0 + 0.114 * (32768.0 / 65535.0));
  for (int i = 0; i < 4; i++) assert_true(out[i] > grey - 1e-6f && out[i] < grey + 1e-6f);
  clt_image_free(&img);
  /* 4x4 down to 2x2: area averages. */
  float px[16];
  for (int i = 0; i < 16; i++) px[i] = (float)i;
  clt_image big = {4, 4, 1, px};
  OK(clt_image_fit(&big, 2, 2, 1, out));
  assert_true(out[0] == 2.5f && out[1] == 4.5f && out[2] == 10.5f && out[3] == 12.5f);
  static const unsigned char shortp5[] = "P5 4 4 255\nabc";
  assert_int_equal(clt_pnm_parse(shortp5, sizeof shortp5 - 1, "p5", &img), CLT_ERR_BAD_DATA);
  assert_non_null(strstr(clt_last_error(), "truncated"));
  static const unsigned char jpeg[] = "\xff\xd8\xff\xe0";
  assert_int_equal(clt_pnm_parse(jpeg, 4, "x.jpg", &img), CLT_ERR_BAD_DATA);
  static const unsigned char huge[] = "P5 70000 1 255\n";
  assert_int_equal(clt_pnm_parse(huge, sizeof huge - 1, "huge", &img), CLT_ERR_BAD_DATA);
}

static void test_top_k_and_class_stats(void **state) {
  (void)state;
  const float p[5] = {0.1f, 0.3f, 0.3f, 0.2f, 0.1f};
  int top[5];
  assert_int_equal(clt_top_k(p, 5, 3, top), 3);
  assert_int_equal(top[0], 1); /* ties: the lower index first, like the argmax */
  assert_int_equal(top[1], 2);
  assert_int_equal(top[2], 3);
  assert_int_equal(clt_argmax(p, 5), 1);
  assert_int_equal(clt_top_k(p, 5, 9, top), 5);

  /* 3 classes; rows true, columns predicted. */
  long conf[9] = {5, 1, 0, 2, 3, 0, 0, 0, 0};
  clt_class_stats per[3];
  clt_eval_result r;
  memset(&r, 0, sizeof r);
  r.n = 11;
  r.classes = 3;
  r.confusion = conf;
  r.per_class = per;
  clt_eval_class_stats(&r);
  assert_true(per[0].precision == 5.0 / 7.0 && per[0].recall == 5.0 / 6.0);
  assert_true(per[1].precision == 3.0 / 4.0 && per[1].recall == 3.0 / 5.0);
  assert_true(per[2].precision == 0.0 && per[2].recall == 0.0 && per[2].f1 == 0.0);
  assert_int_equal(per[0].support, 6);
  assert_int_equal(r.weighted.support, 11);
  double f0 = 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6);
  assert_true(per[0].f1 > f0 - 1e-12 && per[0].f1 < f0 + 1e-12);
  double wr = (6 * (5.0 / 6) + 5 * (3.0 / 5)) / 11; /* weighted recall = accuracy */
  assert_true(r.weighted.recall > wr - 1e-12 && r.weighted.recall < wr + 1e-12);
  double mp = (5.0 / 7 + 3.0 / 4) / 3;
  assert_true(r.macro.precision > mp - 1e-12 && r.macro.precision < mp + 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_truncated_anywhere),
      cmocka_unit_test(test_any_byte_flipped),
      cmocka_unit_test(test_magic_version_endianness),
      cmocka_unit_test(test_write_failure_keeps_old),
      cmocka_unit_test(test_best_path),
      cmocka_unit_test(test_run_options_round_trip),
      cmocka_unit_test(test_pnm),
      cmocka_unit_test(test_top_k_and_class_stats),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
