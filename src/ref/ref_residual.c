/* Float64 reference of [add] and [global_avgpool] (ref.h, docs/INTERNALS.md). */
#include "ref/ref.h"

static long at(clt_ref_shape s, int n, int h, int w, int c) {
  return (((long)n * s.h + h) * s.w + w) * s.c + c;
}

/* P(s)[n,h,w,f] of the add. */
static double skip_value(const clt_ref_add *p, clt_ref_shape in, clt_ref_shape skip,
                         const double *s, const double *W, int n, int h, int w, int f) {
  if (!p->project) return s[at(skip, n, h, w, f)];
  double sum = 0.0;
  for (int c = 0; c < skip.c; c++)
    sum += s[at(skip, n, h * p->stride, w * p->stride, c)] * W[(long)f * skip.c + c];
  (void)in;
  return sum;
}

void clt_ref_add_forward(const clt_ref_add *p, clt_ref_shape in, clt_ref_shape skip,
                         const double *x, const double *s, const double *W, double *y) {
  for (int n = 0; n < in.n; n++)
    for (int h = 0; h < in.h; h++)
      for (int w = 0; w < in.w; w++)
        for (int f = 0; f < in.c; f++) {
          long i = at(in, n, h, w, f);
          y[i] = clt_ref_act(p->act, p->alpha, x[i] + skip_value(p, in, skip, s, W, n, h, w, f));
        }
}

void clt_ref_add_backward(const clt_ref_add *p, clt_ref_shape in, clt_ref_shape skip,
                          const double *s, const double *W, const double *y, const double *dy,
                          double *dx, double *ds, double *dW) {
  for (int n = 0; n < in.n; n++)
    for (int h = 0; h < in.h; h++)
      for (int w = 0; w < in.w; w++)
        for (int f = 0; f < in.c; f++) {
          long i = at(in, n, h, w, f);
          double dz = dy[i] * clt_ref_act_grad(p->act, p->alpha, y[i]);
          dx[i] = dz;
          if (!p->project) {
            ds[at(skip, n, h, w, f)] += dz;
            continue;
          }
          for (int c = 0; c < skip.c; c++) {
            long j = at(skip, n, h * p->stride, w * p->stride, c);
            ds[j] += dz * W[(long)f * skip.c + c];
            dW[(long)f * skip.c + c] += dz * s[j];
          }
        }
}

void clt_ref_global_avgpool_forward(clt_ref_shape in, const double *x, double *y) {
  double inv = 1.0 / ((double)in.h * in.w);
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++) {
      double sum = 0.0;
      for (int h = 0; h < in.h; h++)
        for (int w = 0; w < in.w; w++) sum += x[at(in, n, h, w, c)];
      y[(long)n * in.c + c] = sum * inv;
    }
}

void clt_ref_global_avgpool_backward(clt_ref_shape in, const double *dy, double *dx) {
  double inv = 1.0 / ((double)in.h * in.w);
  for (int n = 0; n < in.n; n++)
    for (int h = 0; h < in.h; h++)
      for (int w = 0; w < in.w; w++)
        for (int c = 0; c < in.c; c++) dx[at(in, n, h, w, c)] = dy[(long)n * in.c + c] * inv;
}
