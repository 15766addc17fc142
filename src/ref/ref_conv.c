/* 2-D convolution, NHWC, W [F,K,K,C] (INTERNALS.md "conv"): direct loops, no im2col. */
#include "ref/ref.h"

#include <string.h>

void clt_ref_pad_1d(clt_ref_padding mode, int number, int in, int k, int s, int *before,
                    int *after) {
  switch (mode) {
  case CLT_REF_PAD_SAME: {
    int out = (in + s - 1) / s; /* ceil(in / s) */
    int total = (out - 1) * s + k - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
    break;
  }
  case CLT_REF_PAD_NUMBER:
    *before = number;
    *after = number;
    break;
  case CLT_REF_PAD_VALID:
  default:
    *before = 0;
    *after = 0;
    break;
  }
}

void clt_ref_conv_set_padding(clt_ref_conv *p, clt_ref_padding mode, int number, clt_ref_shape in) {
  clt_ref_pad_1d(mode, number, in.h, p->size, p->stride, &p->pad_top, &p->pad_bottom);
  clt_ref_pad_1d(mode, number, in.w, p->size, p->stride, &p->pad_left, &p->pad_right);
}

clt_ref_shape clt_ref_conv_out_shape(const clt_ref_conv *p, clt_ref_shape in) {
  clt_ref_shape out;
  int span_h = in.h + p->pad_top + p->pad_bottom - p->size;
  int span_w = in.w + p->pad_left + p->pad_right - p->size;
  out.n = in.n;
  /* A negative span is invalid; report 0 rather than C's truncation towards zero. */
  out.h = span_h < 0 ? 0 : span_h / p->stride + 1;
  out.w = span_w < 0 ? 0 : span_w / p->stride + 1;
  out.c = p->filters;
  return out;
}

void clt_ref_conv_forward(const clt_ref_conv *p, clt_ref_shape in, const double *x, const double *W,
                          const double *b, double *y) {
  clt_ref_shape out = clt_ref_conv_out_shape(p, in);
  int K = p->size, C = in.c;
  for (int n = 0; n < in.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int f = 0; f < p->filters; f++) {
          double z = p->bias ? b[f] : 0.0;
          for (int kh = 0; kh < K; kh++) {
            int ih = oh * p->stride - p->pad_top + kh;
            if (ih < 0 || ih >= in.h) continue;
            for (int kw = 0; kw < K; kw++) {
              int iw = ow * p->stride - p->pad_left + kw;
              if (iw < 0 || iw >= in.w) continue;
              for (int c = 0; c < C; c++)
                z += x[(((long)n * in.h + ih) * in.w + iw) * C + c] *
                     W[(((long)f * K + kh) * K + kw) * C + c];
            }
          }
          y[(((long)n * out.h + oh) * out.w + ow) * out.c + f] = clt_ref_act(p->act, p->alpha, z);
        }
}

void clt_ref_conv_backward(const clt_ref_conv *p, clt_ref_shape in, const double *x,
                           const double *W, const double *y, const double *dy, double *dx,
                           double *dW, double *db) {
  clt_ref_shape out = clt_ref_conv_out_shape(p, in);
  int K = p->size, C = in.c;
  memset(dx, 0, (size_t)clt_ref_shape_count(in) * sizeof *dx);
  for (int n = 0; n < in.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int f = 0; f < p->filters; f++) {
          long o = (((long)n * out.h + oh) * out.w + ow) * out.c + f;
          double dz = dy[o] * clt_ref_act_grad(p->act, p->alpha, y[o]);
          if (p->bias) db[f] += dz;
          for (int kh = 0; kh < K; kh++) {
            int ih = oh * p->stride - p->pad_top + kh;
            if (ih < 0 || ih >= in.h) continue;
            for (int kw = 0; kw < K; kw++) {
              int iw = ow * p->stride - p->pad_left + kw;
              if (iw < 0 || iw >= in.w) continue;
              for (int c = 0; c < C; c++) {
                long xi = (((long)n * in.h + ih) * in.w + iw) * C + c;
                long wi = (((long)f * K + kh) * K + kw) * C + c;
                dW[wi] += dz * x[xi];
                dx[xi] += dz * W[wi];
              }
            }
          }
        }
}
