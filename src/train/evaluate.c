#include "train/evaluate.h"

#include <stdlib.h>
#include <string.h>

#include "nn/metrics.h"
#include "runtime/memory.h"

clt_status clt_infer(clt_network *net, const float *x, const int32_t *labels, int n, float *probs) {
  if (n < 1 || n > net->batch)
    return clt_fail(CLT_ERR_INTERNAL, "inference of %d samples on a network planned for %d", n,
                    net->batch);
  size_t sample = clt_shape_size(net->model->input);
  CLT_TRY(clt_buffer_write(net->ctx, net->input, 0, (size_t)n * sample * sizeof(float), x));
  if (labels)
    CLT_TRY(clt_buffer_write(net->ctx, net->labels, 0, (size_t)n * sizeof(int32_t), labels));
  else
    CLT_TRY(clt_buffer_zero(net->ctx, net->labels, 0, (size_t)n * sizeof(int32_t)));
  CLT_TRY(clt_network_forward(net, n, 0, 0));
  return clt_buffer_read(net->ctx, clt_network_output(net), 0,
                         (size_t)n * (size_t)net->model->classes * sizeof(float), probs);
}

int clt_argmax(const float *p, int k) {
  int best = 0;
  for (int j = 1; j < k; j++)
    if (p[j] > p[best]) best = j;
  return best;
}

int clt_top_k(const float *p, int classes, int k, int *top) {
  if (k > classes) k = classes;
  for (int i = 0; i < k; i++) {
    int best = -1;
    for (int j = 0; j < classes; j++) {
      int taken = 0;
      for (int t = 0; t < i; t++) taken |= top[t] == j;
      if (!taken && (best < 0 || p[j] > p[best])) best = j;
    }
    top[i] = best;
  }
  return k;
}

/* Rank of class t in p: how many classes come before it (higher, or equal at a lower index). */
static int rank_of(const float *p, int classes, int t) {
  int r = 0;
  for (int j = 0; j < classes; j++)
    if (p[j] > p[t] || (p[j] == p[t] && j < t)) r++;
  return r;
}

void clt_eval_class_stats(clt_eval_result *r) {
  int k = r->classes;
  memset(&r->macro, 0, sizeof r->macro);
  memset(&r->weighted, 0, sizeof r->weighted);
  long total = 0;
  for (int c = 0; c < k; c++) {
    long tp = r->confusion[(size_t)c * k + c], predicted = 0, actual = 0;
    for (int j = 0; j < k; j++) {
      predicted += r->confusion[(size_t)j * k + c];
      actual += r->confusion[(size_t)c * k + j];
    }
    clt_class_stats *s = &r->per_class[c];
    s->precision = predicted ? (double)tp / predicted : 0.0;
    s->recall = actual ? (double)tp / actual : 0.0;
    s->f1 = s->precision + s->recall > 0 ? 2 * s->precision * s->recall / (s->precision + s->recall)
                                         : 0.0;
    s->support = actual;
    total += actual;
    r->macro.precision += s->precision / k;
    r->macro.recall += s->recall / k;
    r->macro.f1 += s->f1 / k;
    r->weighted.precision += s->precision * actual;
    r->weighted.recall += s->recall * actual;
    r->weighted.f1 += s->f1 * actual;
  }
  r->macro.support = r->weighted.support = total;
  if (total > 0) {
    r->weighted.precision /= total;
    r->weighted.recall /= total;
    r->weighted.f1 /= total;
  }
}

clt_status clt_evaluate_detailed(clt_network *net, const clt_dataset *ds, clt_eval_result *out) {
  memset(out, 0, sizeof *out);
  int k = net->model->classes, b = net->batch;
  size_t sample = (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
  if (sample != clt_shape_size(net->model->input))
    return clt_fail(CLT_ERR_BAD_DATA, "the data hold %dx%dx%d images but %s takes %dx%dx%d", ds->h,
                    ds->w, ds->c, net->model->name, net->model->input.h, net->model->input.w,
                    net->model->input.c);
  out->n = ds->n;
  out->classes = k;
  out->confusion = calloc((size_t)k * k, sizeof *out->confusion);
  out->per_class = calloc((size_t)k, sizeof *out->per_class);
  float *probs = malloc((size_t)b * k * sizeof *probs);
  /* Streamed data (ds->source): each batch is read into host buffers first. */
  float *xs = ds->source ? malloc((size_t)b * sample * sizeof *xs) : NULL;
  int32_t *ys = ds->source ? malloc((size_t)b * sizeof *ys) : NULL;
  if (!out->confusion || !out->per_class || !probs || (ds->source && (!xs || !ys))) {
    free(probs);
    free(xs);
    free(ys);
    clt_eval_result_free(out);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the evaluation");
  }
  clt_status st = clt_network_zero_metrics(net);
  long correct = 0, top5 = 0;
  for (int start = 0; start < ds->n && st == CLT_OK; start += b) {
    int n = ds->n - start < b ? ds->n - start : b;
    const float *x = ds->images ? ds->images + (size_t)start * sample : xs;
    const int32_t *labels = ds->labels ? ds->labels + start : ys;
    if (ds->source) st = ds->source->read(ds->source->self, start, n, xs, ys);
    if (st == CLT_OK) st = clt_infer(net, x, labels, n, probs);
    for (int s = 0; s < n && st == CLT_OK && !net->model->regression; s++) {
      const float *p = probs + (size_t)s * k;
      int t = labels[s];
      if (t < 0 || t >= k) {
        st = clt_fail(CLT_ERR_BAD_DATA, "label %d of sample %d is outside the model's %d classes",
                      t, start + s, k);
        break;
      }
      int pred = clt_argmax(p, k);
      out->confusion[(size_t)t * k + pred]++;
      correct += pred == t;
      top5 += rank_of(p, k, t) < 5;
    }
  }
  float m[CLT_METRIC_FLOATS];
  if (st == CLT_OK) st = clt_network_read_metrics(net, m);
  free(probs);
  free(xs);
  free(ys);
  if (st != CLT_OK) {
    clt_eval_result_free(out);
    return st;
  }
  double count = m[CLT_METRIC_COUNT] > 0 ? m[CLT_METRIC_COUNT] : 1.0;
  out->loss = m[CLT_METRIC_LOSS_SUM] / count;
  out->mae = m[CLT_METRIC_CORRECT] / count; /* the [mse] head sums absolute errors there */
  out->accuracy = ds->n ? (double)correct / ds->n : 0.0;
  out->top5 = ds->n ? (double)top5 / ds->n : 0.0;
  clt_eval_class_stats(out);
  return CLT_OK;
}

void clt_eval_result_free(clt_eval_result *r) {
  if (!r) return;
  free(r->confusion);
  free(r->per_class);
  memset(r, 0, sizeof *r);
}
