/* maxpool and avgpool, NHWC, no padding (INTERNALS.md "maxpool, avgpool"). */
#include "ref/ref.h"

#include <string.h>

clt_ref_shape clt_ref_pool_out_shape(const clt_ref_pool *p, clt_ref_shape in) {
  clt_ref_shape out = in;
  out.h = in.h < p->size ? 0 : (in.h - p->size) / p->stride + 1;
  out.w = in.w < p->size ? 0 : (in.w - p->size) / p->stride + 1;
  return out;
}

static long at(clt_ref_shape s, int n, int h, int w, int c) {
  return (((long)n * s.h + h) * s.w + w) * s.c + c;
}

/* Flat index in x of the first maximum (strict >) of the window at (oh, ow). */
static long argmax(const clt_ref_pool *p, clt_ref_shape in, const double *x, int n, int oh, int ow,
                   int c) {
  long best = at(in, n, oh * p->stride, ow * p->stride, c);
  for (int kh = 0; kh < p->size; kh++)
    for (int kw = 0; kw < p->size; kw++) {
      long i = at(in, n, oh * p->stride + kh, ow * p->stride + kw, c);
      if (x[i] > x[best]) best = i;
    }
  return best;
}

void clt_ref_maxpool_forward(const clt_ref_pool *p, clt_ref_shape in, const double *x, double *y) {
  clt_ref_shape out = clt_ref_pool_out_shape(p, in);
  for (int n = 0; n < out.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int c = 0; c < out.c; c++)
          y[at(out, n, oh, ow, c)] = x[argmax(p, in, x, n, oh, ow, c)];
}

void clt_ref_maxpool_backward(const clt_ref_pool *p, clt_ref_shape in, const double *x,
                              const double *dy, double *dx) {
  clt_ref_shape out = clt_ref_pool_out_shape(p, in);
  memset(dx, 0, (size_t)clt_ref_shape_count(in) * sizeof *dx);
  for (int n = 0; n < out.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int c = 0; c < out.c; c++)
          dx[argmax(p, in, x, n, oh, ow, c)] += dy[at(out, n, oh, ow, c)];
}

void clt_ref_avgpool_forward(const clt_ref_pool *p, clt_ref_shape in, const double *x, double *y) {
  clt_ref_shape out = clt_ref_pool_out_shape(p, in);
  double kk = (double)p->size * p->size;
  for (int n = 0; n < out.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int c = 0; c < out.c; c++) {
          double s = 0.0;
          for (int kh = 0; kh < p->size; kh++)
            for (int kw = 0; kw < p->size; kw++)
              s += x[at(in, n, oh * p->stride + kh, ow * p->stride + kw, c)];
          y[at(out, n, oh, ow, c)] = s / kk;
        }
}

void clt_ref_avgpool_backward(const clt_ref_pool *p, clt_ref_shape in, const double *dy,
                              double *dx) {
  clt_ref_shape out = clt_ref_pool_out_shape(p, in);
  double kk = (double)p->size * p->size;
  memset(dx, 0, (size_t)clt_ref_shape_count(in) * sizeof *dx);
  for (int n = 0; n < out.n; n++)
    for (int oh = 0; oh < out.h; oh++)
      for (int ow = 0; ow < out.w; ow++)
        for (int c = 0; c < out.c; c++)
          for (int kh = 0; kh < p->size; kh++)
            for (int kw = 0; kw < p->size; kw++)
              dx[at(in, n, oh * p->stride + kh, ow * p->stride + kw, c)] +=
                  dy[at(out, n, oh, ow, c)] / kk;
}
