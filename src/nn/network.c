#include "nn/network.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/metrics.h"
#include "nn/network_skip.h"
#include "runtime/cl_errors.h"
#include "runtime/profile.h"
#include "runtime/rng.h"

/* The largest per-sample tensor a gradient buffer must hold: any layer's input. */
static size_t largest_input(const clt_model *m) {
  size_t most = 1;
  for (int i = 0; i < m->layer_count; i++) {
    size_t s = clt_shape_size(m->layers[i].in);
    if (s > most) most = s;
  }
  return most;
}

/* Offsets of the network-wide tensors in the activation arena. */
enum { ACT_INPUT, ACT_LABELS, ACT_GRAD0, ACT_GRAD1, ACT_METRICS, ACT_WORKSPACE, ACT_COUNT };

/* Reserves every tensor in net's arenas, in the one order that both the memory
 * plan and the allocation use. Records per-layer sizes and offsets in
 * net->layers, or only sizes the arenas when net->layers is NULL (planning). */
static void reserve_all(clt_network *net, size_t act[ACT_COUNT]) {
  const clt_model *m = net->model;
  size_t B = (size_t)net->batch, f = sizeof(float), workspace = 0;
  act[ACT_INPUT] = clt_arena_reserve(&net->activations, B * clt_shape_size(m->input) * f);
  act[ACT_LABELS] = clt_arena_reserve(&net->activations, B * 4);
  act[ACT_GRAD0] = clt_arena_reserve(&net->activations, B * largest_input(m) * f);
  act[ACT_GRAD1] = clt_arena_reserve(&net->activations, B * largest_input(m) * f);
  act[ACT_METRICS] = clt_arena_reserve(&net->activations, CLT_METRIC_FLOATS * f);
  for (int i = 0; i < m->layer_count; i++) {
    clt_net_layer scratch;
    clt_net_layer *nl = net->layers ? &net->layers[i] : &scratch;
    const clt_model_layer *l = &m->layers[i];
    memset(&nl->sizes, 0, sizeof nl->sizes);
    l->ops->sizes(l->self, net->batch, &nl->sizes);
    for (int p = 0; p < nl->sizes.param_count; p++) {
      nl->param_offset[p] = clt_arena_reserve(&net->params, nl->sizes.params[p].count * f);
      clt_arena_reserve(&net->grads, nl->sizes.params[p].count * f);
    }
    nl->state_offset = clt_arena_reserve(&net->state, nl->sizes.state_floats * f);
    nl->y_offset = clt_arena_reserve(&net->activations, B * clt_shape_size(l->out) * f);
    nl->saved_offset = clt_arena_reserve(&net->activations, nl->sizes.saved_floats * f);
    nl->skip_grad_offset =
        clt_arena_reserve(&net->activations, l->readers ? B * clt_shape_size(l->out) * f : 0);
    if (nl->sizes.workspace_floats > workspace) workspace = nl->sizes.workspace_floats;
  }
  act[ACT_WORKSPACE] = clt_arena_reserve(&net->activations, workspace * f);
  net->optimizer.size = net->params.size * (size_t)net->optimizer_blocks;
}

static void init_arenas(clt_network *net, const clt_ctx *ctx) {
  clt_arena_init(&net->params, ctx, "parameters");
  clt_arena_init(&net->grads, ctx, "gradients");
  clt_arena_init(&net->optimizer, ctx, "optimizer state");
  clt_arena_init(&net->state, ctx, "layer state");
  clt_arena_init(&net->activations, ctx, "activations");
  /* Only the activations may need more than one buffer; the other arenas are used flat by
   * the optimizer and the checkpoints (see clt_memory_plan). */
  clt_arena_set_chunk_limit(&net->activations, (size_t)ctx->dev.max_alloc);
}

void clt_network_plan(const clt_model *model, const clt_ctx *ctx, int batch, int optimizer_blocks,
                      clt_memory_plan *plan) {
  clt_network scratch;
  size_t act[ACT_COUNT];
  memset(&scratch, 0, sizeof scratch);
  scratch.model = (clt_model *)model; /* read only: layers is NULL */
  scratch.batch = batch;
  scratch.optimizer_blocks = optimizer_blocks;
  init_arenas(&scratch, ctx);
  reserve_all(&scratch, act);
  memset(plan, 0, sizeof *plan);
  plan->params = scratch.params.size;
  plan->grads = scratch.grads.size;
  plan->optimizer = scratch.optimizer.size;
  plan->state = scratch.state.size;
  plan->activations = scratch.activations.size;
  plan->activation_chunks = scratch.activations.chunk_count;
  const clt_arena *arenas[] = {&scratch.params, &scratch.grads, &scratch.optimizer, &scratch.state,
                               &scratch.activations};
  for (size_t i = 0; i < 5; i++) {
    size_t largest = clt_arena_largest_chunk(arenas[i]);
    plan->total =
        plan->total > SIZE_MAX - arenas[i]->size ? SIZE_MAX : plan->total + arenas[i]->size;
    if (largest > plan->largest) plan->largest = largest;
    if (i < 4 && arenas[i]->size > plan->largest_flat) plan->largest_flat = arenas[i]->size;
  }
}

int clt_memory_plan_fits(const clt_memory_plan *plan, const clt_ctx *ctx, size_t extra,
                         double fraction) {
  const clt_device_info *d = &ctx->dev;
  double usable = (double)d->global_mem * fraction;
  return (double)plan->total + (double)extra <= usable && plan->largest <= d->max_alloc;
}

int clt_network_largest_batch(const clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                              int below) {
  int fits = 0;
  for (int b = 1; b < below && b <= (1 << 20); b *= 2) {
    clt_memory_plan p;
    clt_network_plan(model, ctx, b, optimizer_blocks, &p);
    if (clt_memory_plan_fits(&p, ctx, 0, 1.0)) fits = b;
  }
  return fits;
}

static clt_status check_fits(const clt_network *net, const clt_memory_plan *plan) {
  const clt_device_info *d = &net->ctx->dev;
  if (clt_memory_plan_fits(plan, net->ctx, 0, 1.0)) return CLT_OK;
  if (plan->largest_flat > d->max_alloc)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                    "the parameters need %.1f MiB in one buffer (parameters, gradients and "
                    "optimizer state are each one buffer) but %s allows at most %.1f MiB per "
                    "buffer: use a smaller model, or sgd (less optimizer state)",
                    plan->largest_flat / 1048576.0, d->name, d->max_alloc / 1048576.0);
  /* The largest power-of-two batch that fits, to say what to do. */
  int fits = clt_network_largest_batch(net->model, net->ctx, net->optimizer_blocks, net->batch);
  char hint[96];
  if (fits)
    snprintf(hint, sizeof hint, "use a batch of %d or smaller", fits);
  else
    snprintf(hint, sizeof hint, "the model does not fit even at batch 1");
  return clt_fail(CLT_ERR_OUT_OF_MEMORY,
                  "batch %d needs %.1f MiB of device memory (largest buffer %.1f MiB) but %s has "
                  "%.1f MiB (at most %.1f MiB per buffer): %s",
                  net->batch, plan->total / 1048576.0, plan->largest / 1048576.0, d->name,
                  d->global_mem / 1048576.0, d->max_alloc / 1048576.0, hint);
}

static clt_status make_views(clt_network *net, const size_t act[ACT_COUNT]) {
  const clt_model *m = net->model;
  size_t B = (size_t)net->batch, f = sizeof(float), workspace = 0;
  clt_arena *a = &net->activations;
  CLT_TRY(clt_arena_view(a, act[ACT_INPUT], B * clt_shape_size(m->input) * f, &net->input));
  CLT_TRY(clt_arena_view(a, act[ACT_LABELS], B * 4, &net->labels));
  CLT_TRY(clt_arena_view(a, act[ACT_GRAD0], B * largest_input(m) * f, &net->grad[0]));
  CLT_TRY(clt_arena_view(a, act[ACT_GRAD1], B * largest_input(m) * f, &net->grad[1]));
  CLT_TRY(clt_arena_view(a, act[ACT_METRICS], CLT_METRIC_FLOATS * f, &net->metrics));
  for (int i = 0; i < m->layer_count; i++) {
    clt_net_layer *nl = &net->layers[i];
    for (int p = 0; p < nl->sizes.param_count; p++) {
      size_t bytes = nl->sizes.params[p].count * f;
      CLT_TRY(clt_arena_view(&net->params, nl->param_offset[p], bytes, &nl->params[p]));
      CLT_TRY(clt_arena_view(&net->grads, nl->param_offset[p], bytes, &nl->grads[p]));
    }
    CLT_TRY(clt_arena_view(&net->state, nl->state_offset, nl->sizes.state_floats * f, &nl->state));
    CLT_TRY(clt_arena_view(a, nl->y_offset, B * clt_shape_size(m->layers[i].out) * f, &nl->y));
    CLT_TRY(clt_arena_view(a, nl->saved_offset, nl->sizes.saved_floats * f, &nl->saved));
    if (m->layers[i].readers)
      CLT_TRY(clt_arena_view(a, nl->skip_grad_offset, B * clt_shape_size(m->layers[i].out) * f,
                             &nl->skip_grad));
    if (nl->sizes.workspace_floats > workspace) workspace = nl->sizes.workspace_floats;
  }
  return clt_arena_view(a, act[ACT_WORKSPACE], workspace * f, &net->workspace);
}

static clt_status allocate(clt_network *net) {
  size_t act[ACT_COUNT];
  reserve_all(net, act);
  clt_status st = CLT_OK;
  clt_arena *arenas[] = {&net->params, &net->grads, &net->optimizer, &net->state,
                         &net->activations};
  for (int i = 0; i < 5 && st == CLT_OK; i++) st = clt_arena_allocate(net->ctx, arenas[i]);
  return st == CLT_OK ? make_views(net, act) : st;
}

clt_status clt_network_create(clt_model *model, clt_ctx *ctx, int batch, int optimizer_blocks,
                              uint32_t seed, clt_network **out) {
  *out = NULL;
  if (batch < 1) return clt_fail(CLT_ERR_USAGE, "batch size must be at least 1, not %d", batch);
  clt_network *net = calloc(1, sizeof *net);
  if (net) net->layers = calloc((size_t)model->layer_count, sizeof *net->layers);
  if (!net || !net->layers) {
    free(net);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory creating the network");
  }
  net->model = model;
  net->ctx = ctx;
  net->batch = batch;
  net->optimizer_blocks = optimizer_blocks;
  net->seed = seed;
  init_arenas(net, ctx);
  clt_memory_plan plan;
  clt_network_plan(model, ctx, batch, optimizer_blocks, &plan);
  clt_status st = check_fits(net, &plan);
  if (st == CLT_OK) st = allocate(net);
  for (int i = 0; i < model->layer_count && st == CLT_OK; i++)
    st = model->layers[i].ops->prepare(model->layers[i].self, ctx);
  if (st == CLT_OK) st = clt_network_skip_prepare(net);
  if (st == CLT_OK) st = clt_network_init_params(net, seed);
  if (st != CLT_OK) {
    clt_network_destroy(net);
    return st;
  }
  *out = net;
  return CLT_OK;
}

void clt_network_destroy(clt_network *net) {
  if (!net) return;
  if (net->ctx) clFinish(net->ctx->compute);
  for (int i = 0; i < net->model->layer_count; i++) {
    clt_net_layer *nl = &net->layers[i];
    for (int p = 0; p < CLT_MAX_PARAMS; p++) {
      clt_buffer_release(&nl->params[p]);
      clt_buffer_release(&nl->grads[p]);
    }
    clt_buffer_release(&nl->state);
    clt_buffer_release(&nl->saved);
    clt_buffer_release(&nl->y);
    clt_buffer_release(&nl->skip_grad);
  }
  clt_kernel_release(&net->skip_add);
  clt_buffer_release(&net->input);
  clt_buffer_release(&net->labels);
  clt_buffer_release(&net->grad[0]);
  clt_buffer_release(&net->grad[1]);
  clt_buffer_release(&net->workspace);
  clt_buffer_release(&net->metrics);
  clt_arena_release(&net->params);
  clt_arena_release(&net->grads);
  clt_arena_release(&net->optimizer);
  clt_arena_release(&net->state);
  clt_arena_release(&net->activations);
  free(net->layers);
  free(net);
}

/* Values of one parameter tensor from its own random stream. */
static void init_values(const clt_param_desc *d, uint32_t seed, uint32_t stream, float *v) {
  switch (d->init) {
  case CLT_INIT_HE_NORMAL: {
    double sd = sqrt(2.0 / (d->fan_in > 0 ? d->fan_in : 1));
    for (size_t i = 0; i < d->count; i++)
      v[i] = (float)(sd * clt_normal(seed, stream, (uint32_t)i));
    break;
  }
  case CLT_INIT_GLOROT_UNIFORM: {
    double fan = (double)d->fan_in + (double)d->fan_out;
    double lim = sqrt(6.0 / (fan > 0 ? fan : 1.0));
    for (size_t i = 0; i < d->count; i++)
      v[i] = (float)(lim * (2.0 * clt_uniform(seed, stream, (uint32_t)i) - 1.0));
    break;
  }
  case CLT_INIT_ONES:
    for (size_t i = 0; i < d->count; i++) v[i] = 1.0f;
    break;
  default:
    memset(v, 0, d->count * sizeof *v);
  }
}

static clt_status init_state(clt_network *net, clt_net_layer *nl) {
  size_t n = nl->sizes.state_floats;
  if (n == 0) return CLT_OK;
  float *v = calloc(n, sizeof *v);
  if (!v) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory initialising state");
  for (size_t i = (size_t)nl->sizes.state_init_ones_from; i < n; i++) v[i] = 1.0f;
  clt_status st = clt_buffer_write(net->ctx, nl->state, 0, n * sizeof *v, v);
  free(v);
  return st;
}

clt_status clt_network_init_params(clt_network *net, uint32_t seed) {
  size_t most = 0;
  for (int i = 0; i < net->model->layer_count; i++)
    for (int p = 0; p < net->layers[i].sizes.param_count; p++)
      if (net->layers[i].sizes.params[p].count > most) most = net->layers[i].sizes.params[p].count;
  float *v = malloc((most ? most : 1) * sizeof *v);
  if (!v) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory initialising parameters");
  clt_status st = CLT_OK;
  net->seed = seed;
  for (int i = 0; i < net->model->layer_count && st == CLT_OK; i++) {
    clt_net_layer *nl = &net->layers[i];
    for (int p = 0; p < nl->sizes.param_count && st == CLT_OK; p++) {
      const clt_param_desc *d = &nl->sizes.params[p];
      init_values(d, seed, clt_stream(CLT_STREAM_INIT, (uint32_t)(i * CLT_MAX_PARAMS + p)), v);
      st = clt_buffer_write(net->ctx, nl->params[p], 0, d->count * sizeof *v, v);
    }
    if (st == CLT_OK) st = init_state(net, nl);
  }
  free(v);
  if (st == CLT_OK && net->optimizer.mem)
    st = clt_buffer_zero(net->ctx, net->optimizer.mem, 0, net->optimizer.size);
  if (st == CLT_OK) st = clt_buffer_zero(net->ctx, net->grads.mem, 0, net->grads.size);
  return st;
}

static void fill_pass(const clt_network *net, int i, int n, int training, uint32_t step,
                      clt_pass *p) {
  const clt_net_layer *nl = &net->layers[i];
  memset(p, 0, sizeof *p);
  p->ctx = net->ctx;
  p->batch = n;
  p->training = training;
  p->seed = net->seed;
  p->step = step;
  p->layer_index = i;
  p->loss_divisor = net->loss_divisor;
  p->sample_offset = net->sample_offset;
  p->x = i == 0 ? net->input : net->layers[i - 1].y;
  p->y = nl->y;
  for (int k = 0; k < nl->sizes.param_count; k++) {
    p->params[k] = nl->params[k];
    p->grads[k] = nl->grads[k];
  }
  p->state = nl->state;
  p->saved = nl->saved;
  p->workspace = net->workspace;
  if (nl->sizes.needs_labels) {
    p->labels = net->labels;
    p->metrics = net->metrics;
  }
  int from = net->model->layers[i].from;
  if (from >= 0) {
    p->x2 = net->layers[from].y;
    p->dx2 = net->layers[from].skip_grad;
  }
}

static void set_scope(clt_network *net, int i, const char *pass) {
  if (!net->ctx->profiler) return;
  char scope[48];
  snprintf(scope, sizeof scope, "%d %s %s", i + 1, net->model->layers[i].ops->name, pass);
  clt_profiler_scope(net->ctx, scope);
}

clt_status clt_network_forward(clt_network *net, int n, int training, uint32_t step) {
  if (n < 1 || n > net->batch)
    return clt_fail(CLT_ERR_INTERNAL, "forward of %d samples on a network planned for %d", n,
                    net->batch);
  int last = net->model->layer_count - 1;
  for (int i = 0; i <= last; i++) {
    clt_pass p;
    fill_pass(net, i, n, training, step, &p);
    /* The head writes the loss gradient in the same pass when training. */
    if (i == last && training) p.dx = last > 0 ? net->grad[0] : NULL;
    set_scope(net, i, "forward");
    CLT_TRY(net->model->layers[i].ops->forward(net->model->layers[i].self, &p));
  }
  return CLT_OK;
}

clt_status clt_network_backward(clt_network *net, int n, uint32_t step) {
  int last = net->model->layer_count - 1;
  int cur = 0; /* net->grad[cur] holds the gradient wrt the output of layer i */
  CLT_TRY(clt_network_skip_zero(net, n));
  if (net->after_backward) CLT_TRY(net->after_backward(net->after_backward_user, last));
  for (int i = last - 1; i >= 0; i--) {
    clt_pass p;
    fill_pass(net, i, n, 1, step, &p);
    p.dy = net->grad[cur];
    p.dx = i > 0 ? net->grad[1 - cur] : NULL;
    set_scope(net, i, "backward");
    CLT_TRY(clt_network_skip_collect(net, i, n, p.dy));
    CLT_TRY(net->model->layers[i].ops->backward(net->model->layers[i].self, &p));
    if (net->after_backward) CLT_TRY(net->after_backward(net->after_backward_user, i));
    cur = 1 - cur;
  }
  return CLT_OK;
}

clt_status clt_network_zero_grads(clt_network *net) {
  return clt_buffer_zero(net->ctx, net->grads.mem, 0, net->grads.size);
}

clt_status clt_network_zero_metrics(clt_network *net) {
  return clt_buffer_zero(net->ctx, net->metrics, 0, CLT_METRIC_FLOATS * sizeof(float));
}

clt_status clt_network_read_metrics(clt_network *net, float metrics[4]) {
  return clt_buffer_read(net->ctx, net->metrics, 0, CLT_METRIC_FLOATS * sizeof(float), metrics);
}

size_t clt_network_param_arena_floats(const clt_network *net) {
  return net->params.size / sizeof(float);
}

cl_mem clt_network_output(const clt_network *net) {
  return net->layers[net->model->layer_count - 1].y;
}
