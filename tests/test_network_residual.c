/* Residual networks on a device: [add] (identity and 1x1 projection) and
 * [global_avgpool] inside a whole network, checked against central finite
 * differences of the device's own loss, and the skip gradients summed when two
 * [add] layers read one layer.
 *
 * The tiny model (batch 3): input 6x6x2; conv 4 3x3 same tanh (name a); conv 4
 * 3x3 same tanh; add from a (identity, tanh); conv 6 3x3 /2 same tanh; add from a
 * (1x1 /2 projection 4->6: layer a has two readers); global_avgpool; dense 3;
 * softmax. Smooth functions only, so central differences converge.
 *
 * Tolerance as in test_network.c (the same step and loss scale): |fd - g| <=
 * 2e-2 * |g| + 2e-4. A gradient missing the skip path, or the skip path counted
 * twice, is off by O(|g|) in the first conv's weights. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/metrics.h"
#include "nn/network.h"
#include "runtime/memory.h"
#include "util/expect.h"
#include "util/test_util.h"

#define FD_STEP    1e-2
#define FD_REL_TOL 2e-2
#define FD_ABS_TOL 2e-4

static const char residual_text[] = "[net]\n"
                                    "input = 6x6x2\n"
                                    "batch = 3\n"
                                    "[conv]\n"
                                    "filters = 4\n"
                                    "size = 3\n"
                                    "padding = same\n"
                                    "activation = tanh\n"
                                    "name = a\n"
                                    "[conv]\n"
                                    "filters = 4\n"
                                    "size = 3\n"
                                    "padding = same\n"
                                    "activation = tanh\n"
                                    "[add]\n"
                                    "from = a\n"
                                    "activation = tanh\n"
                                    "[conv]\n"
                                    "filters = 6\n"
                                    "size = 3\n"
                                    "stride = 2\n"
                                    "padding = same\n"
                                    "activation = tanh\n"
                                    "[add]\n"
                                    "from = a\n"
                                    "[global_avgpool]\n"
                                    "[dense]\n"
                                    "units = 3\n"
                                    "[softmax]\n";

enum { N = 3, H = 6, W = 6, C = 2 };

static float *read_floats(clt_ctx *ctx, cl_mem mem, size_t bytes) {
  float *f = malloc(bytes ? bytes : 1);
  assert_non_null(f);
  OK(clt_buffer_read(ctx, mem, 0, bytes, f));
  return f;
}

static double device_loss(clt_network *net, int n) {
  float m[CLT_METRIC_FLOATS];
  OK(clt_network_zero_metrics(net));
  OK(clt_network_forward(net, n, 0, 0));
  OK(clt_network_read_metrics(net, m));
  return (double)m[CLT_METRIC_LOSS_SUM] / m[CLT_METRIC_COUNT];
}

static void write_param(clt_network *net, int layer, int p, size_t i, float v) {
  size_t off = net->layers[layer].param_offset[p] + i * sizeof(float);
  OK(clt_buffer_write(net->ctx, net->params.mem, off, sizeof v, &v));
}

static clt_network *tiny_network(clt_ctx *ctx, clt_model **model) {
  OK(clt_model_parse(residual_text, strlen(residual_text), "residual.cfg", model));
  assert_int_equal((*model)->layer_count, 8);
  assert_int_equal((*model)->layers[0].readers, 2);
  assert_int_equal((*model)->layers[2].from, 0);
  assert_int_equal((*model)->layers[4].from, 0);
  assert_int_equal((*model)->layers[4].out.h, 3);
  assert_int_equal((*model)->layers[4].out.c, 6);
  assert_int_equal((*model)->layers[5].out.h, 1);
  clt_network *net = NULL;
  OK(clt_network_create(*model, ctx, N, 0, 5, &net));
  assert_int_equal(net->layers[2].sizes.param_count, 0);         /* identity */
  assert_int_equal(net->layers[4].sizes.param_count, 1);         /* projection */
  assert_int_equal(net->layers[4].sizes.params[0].count, 6 * 4); /* W [F, C] */
  assert_non_null(net->layers[0].skip_grad);
  assert_null(net->layers[1].skip_grad);
  const size_t nx = (size_t)N * H * W * C;
  double *x = clt_test_random(nx, -1.0, 1.0, 99);
  float *xf = malloc(nx * sizeof *xf);
  assert_non_null(xf);
  for (size_t i = 0; i < nx; i++) xf[i] = (float)x[i];
  const int32_t labels[N] = {2, 0, 1};
  OK(clt_buffer_write(ctx, net->input, 0, nx * sizeof *xf, xf));
  OK(clt_buffer_write(ctx, net->labels, 0, sizeof labels, labels));
  free(x);
  free(xf);
  return net;
}

static void test_residual_gradient_check(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = NULL;
  clt_network *net = tiny_network(ctx, &model);
  OK(clt_network_zero_grads(net));
  OK(clt_network_zero_metrics(net));
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float train_m[CLT_METRIC_FLOATS];
  OK(clt_network_read_metrics(net, train_m));
  double train_loss = (double)train_m[CLT_METRIC_LOSS_SUM] / train_m[CLT_METRIC_COUNT];
  assert_true(fabs(device_loss(net, N) - train_loss) <= 1e-6 * fabs(train_loss));
  float *params = read_floats(ctx, net->params.mem, net->params.size);
  float *grads = read_floats(ctx, net->grads.mem, net->grads.size);

  int checked = 0;
  double worst = 0.0, largest = 0.0;
  for (int l = 0; l < model->layer_count; l++) {
    const clt_net_layer *nl = &net->layers[l];
    for (int p = 0; p < nl->sizes.param_count; p++) {
      size_t count = nl->sizes.params[p].count, picks = count < 10 ? count : 10;
      for (size_t j = 0; j < picks; j++) {
        size_t i = (j * 37 + 3) % count;
        float w0 = params[nl->param_offset[p] / sizeof(float) + i];
        float wp = (float)(w0 + FD_STEP), wm = (float)(w0 - FD_STEP);
        write_param(net, l, p, i, wp);
        double lp = device_loss(net, N);
        write_param(net, l, p, i, wm);
        double lm = device_loss(net, N);
        write_param(net, l, p, i, w0);
        double fd = (lp - lm) / ((double)wp - (double)wm);
        double got = grads[nl->param_offset[p] / sizeof(float) + i];
        double allowed = FD_REL_TOL * fabs(got) + FD_ABS_TOL;
        if (fabs(fd - got) / allowed > worst) worst = fabs(fd - got) / allowed;
        if (fabs(got) > largest) largest = fabs(got);
        if (fabs(fd - got) > allowed)
          fail_msg("layer %d (%s) %s[%zu]: backward %.6g, finite difference %.6g", l + 1,
                   model->layers[l].ops->name, nl->sizes.params[p].name, i, got, fd);
        checked++;
      }
    }
  }
  fprintf(stderr,
          "residual finite differences: %d parameters, largest |g| %.2e, worst %.3f of "
          "the allowed\n",
          checked, largest, worst);
  assert_true(checked >= 50);
  assert_true(largest > 1e-2);
  free(params);
  free(grads);
  clt_network_destroy(net);
  clt_model_free(model);
}

/* Backward twice without zeroing: exactly twice the gradients (the skip accumulators are
 * zeroed at every backward, not carried over). */
static void test_residual_accumulates(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  clt_model *model = NULL;
  clt_network *net = tiny_network(ctx, &model);
  OK(clt_network_zero_grads(net));
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float *once = read_floats(ctx, net->grads.mem, net->grads.size);
  OK(clt_network_forward(net, N, 1, 0));
  OK(clt_network_backward(net, N, 0));
  float *twice = read_floats(ctx, net->grads.mem, net->grads.size);
  for (size_t i = 0; i < net->grads.size / sizeof(float); i++)
    if (twice[i] != 2.0f * once[i]) fail_msg("gradient %zu: %g then %g", i, once[i], twice[i]);
  free(once);
  free(twice);
  clt_network_destroy(net);
  clt_model_free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_residual_gradient_check),
      cmocka_unit_test(test_residual_accumulates),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, NULL, NULL);
}
