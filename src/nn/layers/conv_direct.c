/* Host side of cl/conv_direct.cl (see conv_direct.h and docs/INTERNALS.md "conv"). */
#include "nn/layers/conv_direct.h"

#include <stdio.h>

int clt_conv_direct_fits(int k, int c) {
  return c >= 1 && k >= 1 && (long)k * k * c <= CLT_CONV_DIRECT_MAX_TAPS;
}

size_t clt_conv_direct_workspace(int k, int c, int f) {
  size_t kkc = (size_t)k * k * c;
  size_t part = (size_t)CLT_CONV_DIRECT_MAX_CHUNKS * (kkc + 1) * f;
  size_t wt = kkc * f;
  return part > wt ? part : wt;
}

/* Filters per vector: the widest that divides F and keeps the KKC + 1 accumulators of a
 * weight-gradient work-item within about 28 AVX-512 registers (448 floats). */
static int vector_width(int kkc, int f) {
  static const int widths[] = {16, 8, 4, 2};
  for (int i = 0; i < 4; i++)
    if (f % widths[i] == 0 && (kkc + 1) * widths[i] <= 448) return widths[i];
  return 1;
}

clt_status clt_conv_direct_prepare(clt_conv_direct *d, clt_ctx *ctx, const clt_conv_geom *g,
                                   clt_activation act, double alpha, int bias) {
  clt_conv_direct_release(d);
  d->g = *g;
  int kkc = g->k * g->k * g->c;
  d->fv = vector_width(kkc, g->f);
  /* As many groups per weight-gradient work-item as the same register budget holds: the
   * window of a row is then read once for all of them. */
  d->gpw = 1;
  for (int q = g->f / d->fv; q > 1; q--)
    if ((g->f / d->fv) % q == 0 && (kkc + 1) * d->fv * q <= 448) {
      d->gpw = q;
      break;
    }
  /* CPUs: a few pixels per work-item share the weight loads; GPUs want work-items. */
  d->pw = ctx->dev.kind == CLT_DEVICE_CPU ? 4 : 1;
  d->bias = bias;
  d->alpha = (float)alpha;
  char options[160];
  snprintf(
      options, sizeof options,
      "-DCD_K=%d -DCD_S=%d -DCD_C=%d -DCD_F=%d -DCD_FV=%d -DCD_GPW=%d -DCD_PW=%d -DBIAS_ACT=%d",
      g->k, g->s, g->c, g->f, d->fv, d->gpw, d->pw, (int)act);
  CLT_TRY(clt_kernel_create(ctx, "conv_shared.cl", "conv_weights_transpose", "", &d->transpose));
  CLT_TRY(clt_kernel_create(ctx, "conv_direct.cl", "conv_direct_forward", options, &d->forward));
  CLT_TRY(clt_kernel_create(ctx, "conv_direct.cl", "conv_direct_wgrad", options, &d->wgrad));
  return clt_kernel_create(ctx, "conv_direct.cl", "conv_direct_reduce", options, &d->reduce);
}

void clt_conv_direct_release(clt_conv_direct *d) {
  clt_kernel_release(&d->transpose);
  clt_kernel_release(&d->forward);
  clt_kernel_release(&d->wgrad);
  clt_kernel_release(&d->reduce);
}

clt_status clt_conv_direct_forward(clt_conv_direct *d, clt_ctx *ctx, int n, cl_mem x, cl_mem w,
                                   cl_mem b, cl_mem y, cl_mem ws) {
  const clt_conv_geom *g = &d->g;
  clt_kernel *t = &d->transpose;
  clt_arg_mem(t, w);
  clt_arg_mem(t, ws);
  clt_arg_int(t, g->f);
  clt_arg_int(t, g->k * g->k * g->c);
  CLT_TRY(clt_run_1d(ctx, t, (size_t)g->f * g->k * g->k * g->c));
  clt_kernel *k = &d->forward;
  clt_arg_mem(k, x);
  clt_arg_mem(k, ws);
  clt_arg_mem(k, d->bias ? b : w); /* any buffer when unread */
  clt_arg_mem(k, y);
  clt_arg_int(k, n);
  clt_arg_int(k, g->h);
  clt_arg_int(k, g->w);
  clt_arg_int(k, g->oh);
  clt_arg_int(k, g->ow);
  clt_arg_int(k, g->pt);
  clt_arg_int(k, g->pl);
  clt_arg_int(k, d->bias);
  clt_arg_float(k, d->alpha);
  size_t global[3] = {(size_t)(g->ow + d->pw - 1) / d->pw, (size_t)n * g->oh, 1}, local[3];
  clt_local_3d(k, global, local);
  return clt_run_3d(ctx, k, global, local);
}

clt_status clt_conv_direct_backward(clt_conv_direct *d, clt_ctx *ctx, int n, cl_mem x, cl_mem y,
                                    cl_mem dy, cl_mem dw, cl_mem db, cl_mem ws, int write_dz) {
  const clt_conv_geom *g = &d->g;
  size_t rows = (size_t)n * g->oh * g->ow;
  if (rows == 0) return CLT_OK;
  /* Chunks of at least 128 pixels, at most CLT_CONV_DIRECT_MAX_CHUNKS of them: fixed by
   * the shape alone, so the sums are the same bits on every run of a device. */
  size_t chunks = (rows + 127) / 128;
  if (chunks > CLT_CONV_DIRECT_MAX_CHUNKS) chunks = CLT_CONV_DIRECT_MAX_CHUNKS;
  size_t chunk = (rows + chunks - 1) / chunks;
  chunks = (rows + chunk - 1) / chunk;
  clt_kernel *k = &d->wgrad;
  clt_arg_mem(k, x);
  clt_arg_mem(k, dy);
  clt_arg_mem(k, y);
  clt_arg_mem(k, ws);
  clt_arg_int(k, g->h);
  clt_arg_int(k, g->w);
  clt_arg_int(k, g->oh);
  clt_arg_int(k, g->ow);
  clt_arg_int(k, g->pt);
  clt_arg_int(k, g->pl);
  clt_arg_int(k, (int)rows);
  clt_arg_int(k, (int)chunk);
  clt_arg_int(k, write_dz);
  clt_arg_float(k, d->alpha);
  size_t global[3] = {(size_t)g->f / d->fv / d->gpw, chunks, 1}, local[3] = {1, 1, 1};
  CLT_TRY(clt_run_3d(ctx, k, global, local));
  clt_kernel *r = &d->reduce;
  clt_arg_mem(r, ws);
  clt_arg_mem(r, dw);
  clt_arg_mem(r, d->bias ? db : dw);
  clt_arg_int(r, (int)chunks);
  clt_arg_int(r, d->bias);
  return clt_run_1d(ctx, r, ((size_t)g->k * g->k * g->c + 1) * g->f);
}
