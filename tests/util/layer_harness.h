/* Layers under test, built from model text the way nn/model.c builds them: ops->parse of the
 * text's last section, the unused-key check, ops->infer, then ops->prepare on a device; model
 * texts that must be refused; the parameter sizes of a weights-and-bias layer; the forward and
 * backward check of such a layer against reference results; and releasing a pass's buffers. */
#ifndef CLT_TEST_LAYER_HARNESS_H
#define CLT_TEST_LAYER_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/activation.h"
#include "nn/layer.h"

/* The file name the model texts are parsed under (messages start "model.ini:LINE:"). */
#define CLT_TEST_LAYER_FILE "model.ini"

/* Builds the layer of text's last section for input shape in: parse, the unused-key check,
 * infer (output shape into *out), then prepare on ctx unless ctx is NULL. Fails the test on
 * any error. The parsed text is freed (a layer keeps no reference to it). */
void *clt_test_layer_build(const clt_layer_ops *ops, const char *text, clt_shape in, clt_shape *out,
                           clt_ctx *ctx);

/* The steps of building a layer, in order. */
typedef enum clt_test_layer_step {
  CLT_TEST_STEP_PARSE = 1,
  CLT_TEST_STEP_UNUSED, /* clt_ini_check_unused */
  CLT_TEST_STEP_INFER
} clt_test_layer_step;

/* Runs the build steps on text's last section up to and including upto (infer for input shape
 * *in) and expects one of them to fail with CLT_ERR_BAD_DATA and a message holding
 * "model.ini:LINE:" and needle. With upto CLT_TEST_STEP_PARSE the failed parse must also set
 * the layer to NULL. Returns the step that failed. */
clt_test_layer_step clt_test_layer_expect_bad(const clt_layer_ops *ops, const char *text,
                                              clt_test_layer_step upto, const clt_shape *in,
                                              int line, const char *needle);

/* Fails the test unless ops->describe(self) is want. */
void clt_test_layer_expect_describe(const clt_layer_ops *ops, const void *self, const char *want);
/* Fails the test unless s is h x w x c. */
void clt_test_expect_shape(clt_shape s, int h, int w, int c);

/* Appends the optional keys "bias", "activation" and "alpha" to the model text in buf (bias < 0,
 * act NULL, alpha <= 0: key left out) and returns, through *act_out and *alpha_out, the
 * activation (linear by default) and alpha (0.01 by default) the layer will use. */
void clt_test_bias_act_keys(char *buf, size_t size, int bias, const char *act, double alpha,
                            clt_activation *act_out, double *alpha_out);

/* Fails the test unless sz describes "weights" (count floats, fan_in, fan_out, He normal for
 * relu and leaky_relu, else Glorot uniform), then, when bias, "bias" (units floats, zeros), and
 * nothing saved across the pass. */
void clt_test_expect_weights_bias(const clt_layer_sizes *sz, int bias, size_t count, int fan_in,
                                  int fan_out, size_t units, clt_activation act);

/* One weights-and-bias layer (conv, dense) and its reference results. */
typedef struct clt_test_weighted {
  int batch, bias;
  size_t nx, ny, nw, nb;    /* floats of x, y, weights and bias */
  double *x, *w, *b, *dy;   /* inputs, float-rounded */
  double *y, *dx, *dw, *db; /* for the reference's results (zeroed) */
} clt_test_weighted;

/* Random inputs from seed: x and dy uniform in [-1, 1), weights in [-w_range, w_range), bias
 * in [-0.5, 0.5) (also without bias: the reference may read it); zeroed result arrays. */
void clt_test_weighted_alloc(clt_test_weighted *c, int batch, int bias, size_t nx, size_t ny,
                             size_t nw, size_t nb, double w_range, uint32_t seed);
void clt_test_weighted_free(clt_test_weighted *c);

/* Forward (training) into y, then backward three times with a fresh dy each time: dx starts
 * as junk and calls 1 and 2 must write it, call 3 passes no dx; dW and db accumulate, so call
 * k (k >= 2) must hold k times the reference. A workspace (sz->workspace_floats) starts as
 * junk and is spoiled between forward and backward, as another layer's pass would. Results
 * within tol (see EXPECT_CLOSE, scale at least floor). */
void clt_test_weighted_check(const clt_layer_ops *ops, void *self, clt_ctx *ctx,
                             const clt_layer_sizes *sz, const clt_test_weighted *c, double floor,
                             double tol);

/* Releases every buffer of pass (NULL ones are skipped) and sets them to NULL. */
void clt_test_pass_release(clt_pass *pass);

#endif
