/* The float64 host reference: every layer's forward and backward, every optimizer
 * step and the learning-rate schedules, written as plain loops that follow
 * docs/INTERNALS.md line by line. It is the truth the device kernels are tested
 * against and that `cltrain check` compares with: keep it simple, not fast.
 *
 * Conventions (INTERNALS.md):
 * - Activations are NHWC, densely packed: (n, h, w, c) at ((n * H + h) * W + w) * C + c.
 * - Backward WRITES (=) dx and ADDS (+=) into parameter gradients (dW, db, dgamma, ...).
 * - Fused activations: backward computes act'(.) from the output y, so it needs y.
 * - Shapes are validated by the caller (the model parser); these functions do no
 *   checking and never fail. Pointers to unused tensors (b when bias is 0) may be NULL. */
#ifndef CLT_REF_REF_H
#define CLT_REF_REF_H

#include <stdint.h>

#include "nn/activation.h"

typedef struct clt_ref_shape {
  int n, h, w, c;
} clt_ref_shape;

/* n * h * w * c. */
long clt_ref_shape_count(clt_ref_shape s);

/* ---- activations (ref_act.c) ---- */

/* act(x); alpha is the leaky_relu slope (ignored by the others). */
double clt_ref_act(clt_activation act, double alpha, double x);
/* d act / dx, computed from the output y = act(x). */
double clt_ref_act_grad(clt_activation act, double alpha, double y);

/* Standalone [activation] layer over count elements. */
void clt_ref_act_forward(clt_activation act, double alpha, long count,
                         const double *x /* [count] */, double *y /* [count] */);
/* dx = dy * act'(y) (written). */
void clt_ref_act_backward(clt_activation act, double alpha, long count, const double *y,
                          const double *dy, double *dx);

/* ---- conv (ref_conv.c) ---- */

typedef enum clt_ref_padding {
  CLT_REF_PAD_VALID = 0, /* 0 on every side */
  CLT_REF_PAD_SAME,      /* TensorFlow rule: OH = ceil(H / S) */
  CLT_REF_PAD_NUMBER     /* p on every side */
} clt_ref_padding;

typedef struct clt_ref_conv {
  int filters; /* F */
  int size;    /* K (square kernel) */
  int stride;  /* S */
  int pad_top, pad_bottom, pad_left, pad_right;
  int bias; /* 1: b [F] is added */
  clt_activation act;
  double alpha; /* leaky_relu slope */
} clt_ref_conv;

/* Pads of one dimension of extent in, kernel k, stride s; number is p for CLT_REF_PAD_NUMBER.
 * same: out = ceil(in / s), total = max((out - 1) * s + k - in, 0), before = total / 2,
 * after = total - before. */
void clt_ref_pad_1d(clt_ref_padding mode, int number, int in, int k, int s, int *before,
                    int *after);
/* Fills p->pad_* from the mode for input in (uses p->size and p->stride). */
void clt_ref_conv_set_padding(clt_ref_conv *p, clt_ref_padding mode, int number, clt_ref_shape in);
/* {N, OH, OW, F} with OH = (H + pad_top + pad_bottom - K) / S + 1 (floor), likewise OW.
 * A dimension <= 0 means the configuration is invalid. */
clt_ref_shape clt_ref_conv_out_shape(const clt_ref_conv *p, clt_ref_shape in);

/* y[n,oh,ow,f] = act(b[f] + sum_{kh,kw,c} x[n, oh*S - pad_top + kh, ow*S - pad_left + kw, c]
 *                                        * W[f,kh,kw,c]), out-of-range inputs contribute 0. */
void clt_ref_conv_forward(const clt_ref_conv *p, clt_ref_shape in, const double *x /* [N,H,W,C] */,
                          const double *W /* [F,K,K,C] */, const double *b /* [F] */,
                          double *y /* [N,OH,OW,F] */);
/* dz = dy * act'(y); dx (written) [N,H,W,C]; dW [F,K,K,C] and db [F] (added). */
void clt_ref_conv_backward(const clt_ref_conv *p, clt_ref_shape in, const double *x,
                           const double *W, const double *y, const double *dy, double *dx,
                           double *dW, double *db);

/* ---- dense (ref_dense.c) ---- */

typedef struct clt_ref_dense {
  int units; /* U */
  int bias;  /* 1: b [U] is added */
  clt_activation act;
  double alpha;
} clt_ref_dense;

/* y[n,u] = act(b[u] + sum_i x[n,i] * W[u,i]); inputs I = H*W*C of the flattened input. */
void clt_ref_dense_forward(const clt_ref_dense *p, int n, int inputs, const double *x /* [N,I] */,
                           const double *W /* [U,I] */, const double *b /* [U] */,
                           double *y /* [N,U] */);
/* dz = dy * act'(y); dW += dz^T x; db += column sums of dz; dx = dz W (written). */
void clt_ref_dense_backward(const clt_ref_dense *p, int n, int inputs, const double *x,
                            const double *W, const double *y, const double *dy,
                            double *dx /* [N,I] */, double *dW /* [U,I] */, double *db /* [U] */);

/* ---- maxpool, avgpool (ref_pool.c) ---- */

typedef struct clt_ref_pool {
  int size;   /* K */
  int stride; /* S */
} clt_ref_pool;

/* {N, (H - K) / S + 1, (W - K) / S + 1, C}; no padding. */
clt_ref_shape clt_ref_pool_out_shape(const clt_ref_pool *p, clt_ref_shape in);

/* y = max over the window; argmax = first maximum in (kh, kw) scan order (strict >). */
void clt_ref_maxpool_forward(const clt_ref_pool *p, clt_ref_shape in, const double *x,
                             double *y /* [N,OH,OW,C] */);
/* dx (written) receives dy at each window's argmax, summed where windows overlap. */
void clt_ref_maxpool_backward(const clt_ref_pool *p, clt_ref_shape in, const double *x,
                              const double *dy, double *dx /* [N,H,W,C] */);
/* y = mean over the K*K window. */
void clt_ref_avgpool_forward(const clt_ref_pool *p, clt_ref_shape in, const double *x, double *y);
/* dx (written) = sum over the windows containing it of dy / (K*K). */
void clt_ref_avgpool_backward(const clt_ref_pool *p, clt_ref_shape in, const double *dy,
                              double *dx);

/* ---- dropout (ref_dropout.c) ---- */

/* keep = clt_uniform(seed, stream, i) >= (float)rate, compared in float exactly as the
 * device does (clt_uniform returns a float with 24 random bits). stream is
 * clt_stream(step, layer_index). */
int clt_ref_dropout_keep(uint32_t seed, uint32_t stream, uint32_t i, double rate);
/* training: y[i] = keep(i) ? x[i] / (1 - rate) : 0; inference: y = x. */
void clt_ref_dropout_forward(double rate, int training, uint32_t seed, uint32_t stream, long count,
                             const double *x, double *y);
/* training: dx[i] = keep(i) ? dy[i] / (1 - rate) : 0; inference: dx = dy (written). */
void clt_ref_dropout_backward(double rate, int training, uint32_t seed, uint32_t stream, long count,
                              const double *dy, double *dx);

/* ---- batchnorm (ref_batchnorm.c) ---- */

typedef struct clt_ref_batchnorm {
  double momentum; /* default 0.99 */
  double epsilon;  /* default 0.001 */
} clt_ref_batchnorm;

/* Per channel c over M = N*H*W values.
 * training: mean, biased var of the batch; y = gamma * (x - mean) / sqrt(var + eps) + beta;
 *   running_mean = momentum * running_mean + (1 - momentum) * mean, same for running_var
 *   (with the biased var), updated in place. batch_mean / batch_var [C] receive the batch
 *   statistics when not NULL.
 * inference: uses running_mean / running_var, which are left unchanged; batch_* unused. */
void clt_ref_batchnorm_forward(const clt_ref_batchnorm *p, clt_ref_shape in, int training,
                               const double *x, const double *gamma /* [C] */,
                               const double *beta /* [C] */, double *running_mean /* [C] */,
                               double *running_var /* [C] */, double *y, double *batch_mean,
                               double *batch_var);
/* Training-mode backward; recomputes the batch statistics from x.
 * dbeta += sum dy; dgamma += sum dy * xhat;
 * dx = gamma / sqrt(var + eps) / M * (M * dy - sum dy - xhat * sum(dy * xhat)) (written). */
void clt_ref_batchnorm_backward(const clt_ref_batchnorm *p, clt_ref_shape in, const double *x,
                                const double *gamma, const double *dy, double *dx, double *dgamma,
                                double *dbeta);

/* ---- softmax + cross-entropy head (ref_softmax.c) ---- */

/* Logits z [N,K], labels [N] in [0, K). Returns the mean over the batch of
 * lse(z[n,:]) - z[n,t[n]]. dz [N,K] (written, may be NULL) = (softmax(z) - onehot(t)) / N.
 * *correct (may be NULL) = samples whose first maximum of z[n,:] is at t[n]. */
double clt_ref_softmax_xent(int n, int k, const double *z, const int32_t *labels, double *dz,
                            int *correct);

/* ---- mean squared error head (ref_mse.c) ---- */

/* Predictions x [N], targets t [N]. Returns mean (x - t)^2; dx [N] (written, may be NULL) =
 * 2 (x - t) / N; *mae (may be NULL) = mean |x - t|. */
double clt_ref_mse(int n, const double *x, const double *t, double *dx, double *mae);

/* ---- optimizers (ref_optim.c), one step over a flat vector of length n ---- */

typedef struct clt_ref_sgd {
  double momentum; /* mu */
  int nesterov;
  double weight_decay; /* L2: g' = g + wd * w */
} clt_ref_sgd;

/* mu = 0: w -= lr * g'; else v = mu * v + g', w -= lr * (nesterov ? g' + mu * v : v).
 * v [n] starts at 0 and is unused (may be NULL) when mu = 0. */
void clt_ref_sgd_step(const clt_ref_sgd *p, double lr, long n, double *w, const double *g,
                      double *v);

typedef struct clt_ref_adam {
  double beta1;        /* 0.9 */
  double beta2;        /* 0.999 */
  double epsilon;      /* 1e-7 */
  double weight_decay; /* Adam: L2 (g' = g + wd * w); AdamW: decoupled (default 0.01) */
} clt_ref_adam;

/* t is the step count starting at 1. m, v [n] start at 0.
 * m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 * w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). */
void clt_ref_adam_step(const clt_ref_adam *p, double lr, long t, long n, double *w, const double *g,
                       double *m, double *v);
/* w -= lr * wd * w first, then the Adam update with g' = g. */
void clt_ref_adamw_step(const clt_ref_adam *p, double lr, long t, long n, double *w,
                        const double *g, double *m, double *v);

/* ---- learning-rate schedules (ref_schedule.c) ---- */

typedef enum clt_ref_schedule_kind {
  CLT_REF_SCHED_CONSTANT = 0,
  CLT_REF_SCHED_STEP,
  CLT_REF_SCHED_COSINE
} clt_ref_schedule_kind;

typedef struct clt_ref_schedule {
  clt_ref_schedule_kind kind;
  double base;    /* the recipe's learning rate */
  int step_every; /* step: E epochs */
  double gamma;   /* step: factor, default 0.1 */
  long warmup;    /* W warm-up steps, 0 = none */
} clt_ref_schedule;

/* Learning rate of 0-based global step s of total_steps S:
 * constant: base; step: base * gamma^floor(epoch / E) with epoch = floor(s / steps_per_epoch);
 * cosine: base * 0.5 * (1 + cos(pi * s / S)); then for s < W: lr * (s + 1) / W. */
double clt_ref_lr(const clt_ref_schedule *p, long step, long total_steps, int steps_per_epoch);

/* ---- add, global_avgpool (ref_residual.c) ---- */

/* [add]: y = act(x + P(s)), x [N,H,W,F], s [N,H2,W2,C] (the named layer's output).
 * project 0: P(s) = s (same shape). project 1: a 1x1 convolution with stride S and no
 * bias, P(s)[n,h,w,f] = sum_c s[n, h*S, w*S, c] * W[f,c], W [F,C]. */
typedef struct clt_ref_add {
  int project;
  int stride; /* S */
  clt_activation act;
  double alpha;
} clt_ref_add;

void clt_ref_add_forward(const clt_ref_add *p, clt_ref_shape in, clt_ref_shape skip,
                         const double *x, const double *s, const double *W, double *y);
/* dz = dy * act'(y); dx = dz (written); ds (ADDED: the source may have other readers)
 * += P^T dz; dW [F,C] += sum over pixels of dz[f] * s[c] (project only). */
void clt_ref_add_backward(const clt_ref_add *p, clt_ref_shape in, clt_ref_shape skip,
                          const double *s, const double *W, const double *y, const double *dy,
                          double *dx, double *ds, double *dW);

/* [global_avgpool]: y[n,c] = mean over h, w of x[n,h,w,c]; y is [N,1,1,C]. */
void clt_ref_global_avgpool_forward(clt_ref_shape in, const double *x, double *y);
/* dx[n,h,w,c] (written) = dy[n,c] / (H*W). */
void clt_ref_global_avgpool_backward(clt_ref_shape in, const double *dy, double *dx);

#endif
