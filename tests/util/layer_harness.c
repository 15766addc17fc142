/* The layer helpers of layer_harness.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layer_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "nn/ini.h"
#include "runtime/memory.h"
#include "test_util.h"

static clt_ini *parse_text(const char *text) {
  clt_ini *ini = NULL;
  OK(clt_ini_parse_string(text, CLT_TEST_LAYER_FILE, &ini));
  assert_true(ini->section_count > 0);
  return ini;
}

void *clt_test_layer_build(const clt_layer_ops *ops, const char *text, clt_shape in, clt_shape *out,
                           clt_ctx *ctx) {
  clt_ini *ini = parse_text(text);
  const clt_ini_section *sec = &ini->sections[ini->section_count - 1];
  void *self = NULL;
  OK(ops->parse(sec, &self));
  OK(clt_ini_check_unused(sec));
  OK(ops->infer(self, sec, in, out));
  if (ctx) OK(ops->prepare(self, ctx));
  clt_ini_free(ini);
  return self;
}

clt_test_layer_step clt_test_layer_expect_bad(const clt_layer_ops *ops, const char *text,
                                              clt_test_layer_step upto, const clt_shape *in,
                                              int line, const char *needle) {
  clt_ini *ini = parse_text(text);
  const clt_ini_section *sec = &ini->sections[ini->section_count - 1];
  void *self = upto == CLT_TEST_STEP_PARSE ? (void *)1 : NULL; /* parse must reset it */
  clt_shape out;
  clt_clear_error();
  clt_test_layer_step step = CLT_TEST_STEP_PARSE;
  clt_status st = ops->parse(sec, &self);
  if (st != CLT_OK && upto == CLT_TEST_STEP_PARSE) assert_null(self);
  if (st == CLT_OK && upto >= CLT_TEST_STEP_UNUSED) {
    step = CLT_TEST_STEP_UNUSED;
    st = clt_ini_check_unused(sec);
  }
  if (st == CLT_OK && upto >= CLT_TEST_STEP_INFER) {
    step = CLT_TEST_STEP_INFER;
    assert_non_null(in);
    st = ops->infer(self, sec, *in, &out);
  }
  if (self && st != CLT_OK) ops->destroy(self);
  clt_ini_free(ini);
  if (st != CLT_ERR_BAD_DATA) {
    if (self && st == CLT_OK) ops->destroy(self);
    fail_msg("'%s': expected bad data, got %s (%s)", text, clt_status_string(st), clt_last_error());
  }
  char where[64];
  snprintf(where, sizeof where, CLT_TEST_LAYER_FILE ":%d:", line);
  const char *msg = clt_last_error();
  if (!strstr(msg, where) || !strstr(msg, needle))
    fail_msg("'%s': message '%s' lacks '%s' or '%s'", text, msg, where, needle);
  return step;
}

void clt_test_layer_expect_describe(const clt_layer_ops *ops, const void *self, const char *want) {
  char buf[128];
  ops->describe(self, buf, sizeof buf);
  assert_string_equal(buf, want);
}

void clt_test_expect_shape(clt_shape s, int h, int w, int c) {
  if (s.h != h || s.w != w || s.c != c)
    fail_msg("shape %dx%dx%d, expected %dx%dx%d", s.h, s.w, s.c, h, w, c);
}

void clt_test_bias_act_keys(char *buf, size_t size, int bias, const char *act, double alpha,
                            clt_activation *act_out, double *alpha_out) {
  size_t len = strlen(buf);
  if (bias >= 0) len += (size_t)snprintf(buf + len, size - len, "bias = %d\n", bias);
  if (act) len += (size_t)snprintf(buf + len, size - len, "activation = %s\n", act);
  if (alpha > 0) snprintf(buf + len, size - len, "alpha = %g\n", alpha);
  assert_true(strlen(buf) < size - 1); /* nothing cut off */
  *act_out = CLT_ACT_LINEAR;
  if (act) assert_int_equal(clt_activation_from_name(act, act_out), 0);
  *alpha_out = alpha > 0 ? alpha : 0.01;
}

void clt_test_expect_weights_bias(const clt_layer_sizes *sz, int bias, size_t count, int fan_in,
                                  int fan_out, size_t units, clt_activation act) {
  assert_int_equal(sz->param_count, bias ? 2 : 1);
  assert_string_equal(sz->params[0].name, "weights");
  assert_int_equal(sz->params[0].count, count);
  assert_int_equal(sz->params[0].fan_in, fan_in);
  assert_int_equal(sz->params[0].fan_out, fan_out);
  assert_int_equal(sz->params[0].init, act == CLT_ACT_RELU || act == CLT_ACT_LEAKY_RELU
                                           ? CLT_INIT_HE_NORMAL
                                           : CLT_INIT_GLOROT_UNIFORM);
  if (bias) {
    assert_string_equal(sz->params[1].name, "bias");
    assert_int_equal(sz->params[1].count, units);
    assert_int_equal(sz->params[1].init, CLT_INIT_ZEROS);
  }
  assert_int_equal(sz->saved_floats, 0);
}

void clt_test_weighted_alloc(clt_test_weighted *c, int batch, int bias, size_t nx, size_t ny,
                             size_t nw, size_t nb, double w_range, uint32_t seed) {
  c->batch = batch;
  c->bias = bias;
  c->nx = nx, c->ny = ny, c->nw = nw, c->nb = nb;
  c->x = clt_test_random(nx, -1.0, 1.0, seed);
  c->w = clt_test_random(nw, -w_range, w_range, seed + 1);
  c->b = clt_test_random(nb, -0.5, 0.5, seed + 2);
  c->dy = clt_test_random(ny, -1.0, 1.0, seed + 3);
  c->y = clt_test_alloc(ny), c->dx = clt_test_alloc(nx), c->dw = clt_test_alloc(nw);
  c->db = clt_test_alloc(nb);
}

void clt_test_weighted_free(clt_test_weighted *c) {
  free(c->x), free(c->w), free(c->b), free(c->dy);
  free(c->y), free(c->dx), free(c->dw), free(c->db);
}

/* got against want * times (the reference of `times` accumulated calls). */
static void expect_times(const char *what, const double *got, const double *want, size_t n,
                         double times, double floor, double tol) {
  double *scaled = clt_test_alloc(n);
  for (size_t i = 0; i < n; i++) scaled[i] = want[i] * times;
  EXPECT_CLOSE(what, got, scaled, n, floor, tol);
  free(scaled);
}

void clt_test_weighted_check(const clt_layer_ops *ops, void *self, clt_ctx *ctx,
                             const clt_layer_sizes *sz, const clt_test_weighted *c, double floor,
                             double tol) {
  const double junk = 1e6;
  clt_pass pass = {0};
  pass.ctx = ctx;
  pass.batch = c->batch;
  pass.training = 1;
  pass.x = clt_test_upload(ctx, c->x, c->nx);
  pass.y = clt_test_zeros(ctx, c->ny);
  pass.params[0] = clt_test_upload(ctx, c->w, c->nw);
  pass.grads[0] = clt_test_zeros(ctx, c->nw);
  if (c->bias) {
    pass.params[1] = clt_test_upload(ctx, c->b, c->nb);
    pass.grads[1] = clt_test_zeros(ctx, c->nb);
  }
  if (sz->workspace_floats) pass.workspace = clt_test_filled(ctx, sz->workspace_floats, junk);

  size_t most = c->nx > c->ny ? c->nx : c->ny;
  most = most > c->nw ? most : c->nw;
  double *got = clt_test_alloc(most);
  OK(ops->forward(self, &pass));
  clt_test_download(ctx, pass.y, got, c->ny);
  expect_times("y", got, c->y, c->ny, 1.0, floor, tol);

  /* The workspace does not survive between passes: spoil it. */
  if (sz->workspace_floats) OK(clt_buffer_write(ctx, pass.workspace, 0, 4, &(float){-3e7f}));

  /* dy is consumed in place: a fresh copy for each call. */
  pass.dx = clt_test_filled(ctx, c->nx, junk);
  for (int call = 1; call <= 3; call++) {
    pass.dy = clt_test_upload(ctx, c->dy, c->ny);
    cl_mem dx = pass.dx;
    if (call == 3) pass.dx = NULL;
    OK(ops->backward(self, &pass));
    pass.dx = dx;
    clt_buffer_release(&pass.dy);
    if (call <= 2) {
      clt_test_download(ctx, pass.dx, got, c->nx);
      expect_times("dx", got, c->dx, c->nx, 1.0, floor, tol);
    }
    if (call >= 2) {
      clt_test_download(ctx, pass.grads[0], got, c->nw);
      expect_times("dW", got, c->dw, c->nw, call, floor, tol);
      if (c->bias) {
        clt_test_download(ctx, pass.grads[1], got, c->nb);
        expect_times("db", got, c->db, c->nb, call, floor, tol);
      }
    }
  }
  clt_test_pass_release(&pass);
  free(got);
}

void clt_test_pass_release(clt_pass *pass) {
  clt_buffer_release(&pass->x);
  clt_buffer_release(&pass->y);
  clt_buffer_release(&pass->dy);
  clt_buffer_release(&pass->dx);
  for (int i = 0; i < CLT_MAX_PARAMS; i++) {
    clt_buffer_release(&pass->params[i]);
    clt_buffer_release(&pass->grads[i]);
  }
  clt_buffer_release(&pass->state);
  clt_buffer_release(&pass->saved);
  clt_buffer_release(&pass->workspace);
  clt_buffer_release(&pass->labels);
  clt_buffer_release(&pass->metrics);
}
