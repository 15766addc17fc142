/* train/<model>: a small model (conv + maxpool + dense + softmax) trained on the device for
 * a fixed number of steps from a fixed seed, through nn/network.c and the optimizer
 * exactly as the trainer steps, against the float64 reference training of the same steps
 * (ref/ref_train.h) from the same initial parameters (the device network's own
 * initialisation, read back). The data are synthetic and learnable: 4 classes, each a
 * brighter quadrant of channel 0 on uniform noise; batches in file order.
 *
 * Compared: the loss of every step (the curve) and the parameters after the last step.
 * Tolerance: 1e-4 of the largest reference loss for the curve, 1e-4 of the largest
 * parameter magnitude for the parameters. One step carries about 1e-6 relative float
 * error (the layer rows); over 30 steps of SGD with momentum, or of Adam (whose update
 * divides by sqrt(v) and so does not shrink with the gradient), it grows to the 1e-6 ..
 * 1e-5 range on a healthy device. A wrong kernel, a missed gradient accumulation or a
 * wrong bias correction changes the curve from the first steps by 1e-3 or more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "nn/metrics.h"
#include "nn/model.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "ref/ref_train.h"
#include "runtime/memory.h"
#include "runtime/rng.h"
#include "train/train_step.h"

#define TOL_LOSS   1e-4
#define TOL_PARAMS 1e-4
#define MAX_LAYERS 6

typedef struct train_case {
  const char *name;
  int quick;
  const char *text; /* the model file */
  int layer_count;  /* reference layers (the head excluded) */
  clt_ref_layer layers[MAX_LAYERS];
  clt_optimizer optimizer;
  double learning_rate, momentum;
  int samples, steps;
} train_case;

#define CONV(F, K, S, PAD, ACT)                                                                    \
  {                                                                                                \
    .kind = CLT_REF_LAYER_CONV,                                                                    \
    .conv = {.filters = (F), .size = (K), .stride = (S), .bias = 1, .act = (ACT), .alpha = 0.01},  \
    .padding = (PAD)                                                                               \
  }
#define MAXPOOL(K)                                                                                 \
  {                                                                                                \
    .kind = CLT_REF_LAYER_MAXPOOL, .pool = {(K), (K) }                                             \
  }
#define DENSE(U, ACT)                                                                              \
  {                                                                                                \
    .kind = CLT_REF_LAYER_DENSE, .dense = {.units = (U), .bias = 1, .act = (ACT), .alpha = 0.01 }  \
  }

static const char cnn_text[] = "[net]\ninput = 9x9x2\nbatch = 12\nseed = 7\n"
                               "[conv]\nfilters = 6\nsize = 3\nactivation = relu\n"
                               "[maxpool]\nsize = 2\n"
                               "[dense]\nunits = 16\nactivation = tanh\n"
                               "[dense]\nunits = 4\n"
                               "[softmax]\n";
#define CNN_LAYERS                                                                                 \
  4, {                                                                                             \
    CONV(6, 3, 1, CLT_REF_PAD_VALID, CLT_ACT_RELU), MAXPOOL(2), DENSE(16, CLT_ACT_TANH),           \
        DENSE(4, CLT_ACT_LINEAR)                                                                   \
  }

static const char tiny_text[] = "[net]\ninput = 6x6x1\nbatch = 4\nseed = 7\n"
                                "[conv]\nfilters = 3\nsize = 3\npadding = same\n"
                                "activation = relu\n"
                                "[maxpool]\nsize = 2\n"
                                "[dense]\nunits = 4\n"
                                "[softmax]\n";
#define TINY_LAYERS                                                                                \
  3, {                                                                                             \
    CONV(3, 3, 1, CLT_REF_PAD_SAME, CLT_ACT_RELU), MAXPOOL(2), DENSE(4, CLT_ACT_LINEAR)            \
  }

static const train_case cases[] = {
    {"cnn-sgd-momentum", 0, cnn_text, CNN_LAYERS, CLT_OPT_SGD, 0.05, 0.9, 60, 30},
    {"cnn-adam", 0, cnn_text, CNN_LAYERS, CLT_OPT_ADAM, 0.005, 0.0, 60, 30},
    {"tiny-sgd-momentum", 1, tiny_text, TINY_LAYERS, CLT_OPT_SGD, 0.05, 0.9, 12, 6},
    {"tiny-adam", 1, tiny_text, TINY_LAYERS, CLT_OPT_ADAM, 0.005, 0.0, 12, 6},
};

/* samples x [H, W, C] with labels: class q has channel 0 of quadrant q raised by 1. */
static void make_data(int samples, clt_shape in, int classes, double *x, int32_t *labels) {
  size_t sample = clt_shape_size(in);
  clt_check_fill(x, (size_t)samples * sample, -1.0, 1.0, 4242u, 1u);
  for (int s = 0; s < samples; s++) {
    int q = (int)(clt_uniform(4242u, 2u, (uint32_t)s) * (float)classes) % classes;
    labels[s] = q;
    int h0 = (q / 2) * (in.h / 2), w0 = (q % 2) * (in.w / 2);
    for (int h = h0; h < h0 + in.h / 2; h++)
      for (int w = w0; w < w0 + in.w / 2; w++) x[s * sample + ((size_t)h * in.w + w) * in.c] += 1.0;
  }
}

static clt_status write_floats(clt_ctx *ctx, cl_mem mem, const double *a, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  if (!f) return clt_check_oom();
  for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
  clt_status st = clt_buffer_write(ctx, mem, 0, n * sizeof *f, f);
  free(f);
  return st;
}

/* Every parameter tensor of the network, in network order, into the reference (copy 1) or
 * into got (copy 0, concatenated; want gets the reference's values in the same order). */
static clt_status params_exchange(clt_network *net, clt_ref_net *ref, int to_ref, double *got,
                                  double *want, size_t *count, clt_check_result *r) {
  float *arena = malloc(net->params.size ? net->params.size : 1);
  if (!arena) return clt_check_oom();
  clt_status st = clt_buffer_read(net->ctx, net->params.mem, 0, net->params.size, arena);
  int t = 0;
  size_t at = 0;
  for (int i = 0; st == CLT_OK && i < net->model->layer_count; i++) {
    const clt_net_layer *nl = &net->layers[i];
    for (int p = 0; p < nl->sizes.param_count; p++, t++) {
      long n = 0;
      double *v = clt_ref_net_tensor(ref, t, &n);
      if (!v || (size_t)n != nl->sizes.params[p].count) {
        clt_check_failf(r,
                        "layer %d parameter %d: %zu floats on the device, %ld in the "
                        "reference model",
                        i + 1, p, nl->sizes.params[p].count, n);
        free(arena);
        return CLT_OK;
      }
      const float *src = arena + nl->param_offset[p] / sizeof(float);
      for (long j = 0; j < n; j++) {
        if (to_ref) {
          v[j] = src[j];
        } else {
          got[at] = src[j];
          want[at] = v[j];
          at++;
        }
      }
    }
  }
  if (count) *count = at;
  free(arena);
  return st;
}

static clt_status run_train(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const train_case *tc = check->arg;
  clt_ctx *ctx = env->ctx;
  clt_model *model = NULL;
  clt_optim *opt = NULL;
  clt_network *net = NULL;
  clt_ref_net *ref = NULL;
  double *x = NULL, *loss = NULL, *loss_ref = NULL, *got = NULL, *want = NULL;
  int32_t *labels = NULL;

  clt_status st = clt_model_parse(tc->text, strlen(tc->text), check->name, &model);
  clt_recipe rec;
  if (st == CLT_OK) {
    rec = model->recipe;
    rec.optimizer = tc->optimizer;
    rec.learning_rate = tc->learning_rate;
    rec.momentum = tc->momentum;
    st = clt_optim_create(ctx, &rec, &opt);
  }
  if (st == CLT_OK)
    st = clt_network_create(model, ctx, rec.batch, clt_optim_state_per_param(opt), rec.seed, &net);
  clt_ref_optimizer ro = {CLT_REF_OPT_SGD,
                          {rec.momentum, rec.nesterov, rec.weight_decay},
                          {rec.beta1, rec.beta2, rec.epsilon, rec.weight_decay}};
  if (tc->optimizer == CLT_OPT_ADAM) ro.kind = CLT_REF_OPT_ADAM;
  size_t sample = st == CLT_OK ? clt_shape_size(model->input) : 0;
  if (st == CLT_OK) {
    ref = clt_ref_net_create(tc->layers, tc->layer_count,
                             (clt_ref_shape){rec.batch, rec.in_h, rec.in_w, rec.in_c}, &ro);
    x = clt_check_alloc((size_t)tc->samples * sample);
    labels = calloc((size_t)tc->samples, sizeof *labels);
    loss = clt_check_alloc((size_t)tc->steps);
    loss_ref = clt_check_alloc((size_t)tc->steps);
    got = clt_check_alloc(model->param_floats);
    want = clt_check_alloc(model->param_floats);
    if (!ref || !x || !labels || !loss || !loss_ref || !got || !want) st = clt_check_oom();
  }
  if (st == CLT_OK && clt_ref_net_classes(ref) != model->classes) {
    clt_check_failf(r, "the reference model has %d classes, the model file %d",
                    clt_ref_net_classes(ref), model->classes);
    goto done;
  }
  if (st == CLT_OK) st = params_exchange(net, ref, 1, NULL, NULL, NULL, r);
  if (st != CLT_OK || r->outcome == CLT_CHECK_FAIL) goto done;
  make_data(tc->samples, model->input, model->classes, x, labels);

  int batch = rec.batch, per_epoch = (tc->samples + batch - 1) / batch;
  for (int s = 0; s < tc->steps && st == CLT_OK; s++) {
    int start = (s % per_epoch) * batch;
    int n = tc->samples - start < batch ? tc->samples - start : batch;
    double lr = clt_schedule_lr(&rec, s, tc->steps, per_epoch);
    st = write_floats(ctx, net->input, x + (size_t)start * sample, (size_t)n * sample);
    if (st == CLT_OK)
      st = clt_buffer_write(ctx, net->labels, 0, (size_t)n * sizeof(int32_t), labels + start);
    if (st == CLT_OK) st = clt_network_zero_metrics(net);
    if (st == CLT_OK) st = clt_train_step(net, opt, n, s, lr, NULL);
    float m[CLT_METRIC_FLOATS];
    if (st == CLT_OK) st = clt_network_read_metrics(net, m);
    if (st != CLT_OK) break;
    loss[s] = m[CLT_METRIC_COUNT] > 0 ? m[CLT_METRIC_LOSS_SUM] / m[CLT_METRIC_COUNT] : NAN;
    loss_ref[s] =
        clt_ref_net_train_step(ref, n, x + (size_t)start * sample, labels + start, lr, s + 1);
  }
  if (st == CLT_OK) {
    clt_check_compare(r, "loss curve", loss, loss_ref, (size_t)tc->steps, 1e-30, TOL_LOSS);
    size_t count = 0;
    st = params_exchange(net, ref, 0, got, want, &count, r);
    if (st == CLT_OK) clt_check_compare(r, "final parameters", got, want, count, 1e-30, TOL_PARAMS);
  }
  if (st == CLT_OK && r->outcome == CLT_CHECK_FAIL) {
    /* The two curves, for the report. */
    char line[2048];
    int len = snprintf(line, sizeof line, "loss device/reference:");
    for (int s = 0; s < tc->steps && len < (int)sizeof line - 40; s++)
      len += snprintf(line + len, sizeof line - len, " %.6g/%.6g", loss[s], loss_ref[s]);
    clt_check_failf(r, "%s", line);
  }
done:
  if (ctx) clt_ctx_finish(ctx);
  clt_network_destroy(net);
  clt_optim_destroy(opt);
  clt_model_free(model);
  clt_ref_net_free(ref);
  free(x), free(labels), free(loss), free(loss_ref), free(got), free(want);
  return st;
}

clt_status clt_check_add_train(clt_check_list *list, int quick) {
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    if (cases[i].quick != quick) continue;
    char name[80], tol[96];
    snprintf(name, sizeof name, "train/%s", cases[i].name);
    snprintf(tol, sizeof tol, "%d steps: loss curve %g of max loss, parameters %g of max |ref|",
             cases[i].steps, TOL_LOSS, TOL_PARAMS);
    CLT_TRY(clt_check_add(list, name, tol, run_train, &cases[i], i));
  }
  return CLT_OK;
}
