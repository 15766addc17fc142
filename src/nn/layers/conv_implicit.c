/* Host side of cl/conv_implicit.cl (see conv_implicit.h and docs/INTERNALS.md "conv"). */
#include "nn/layers/conv_implicit.h"

#include <stdio.h>
#include <stdlib.h>

#include "runtime/memory.h"

/* The widest of 16, 8, 4, 2, 1 that divides n. */
static int widest(int n) {
  for (int v = 16; v > 1; v /= 2)
    if (n % v == 0) return v;
  return 1;
}

/* The most vectors of width v (at most max floats together) whose sum divides n. */
static int vectors(int n, int v, int max) {
  for (int q = max / v; q > 1; q--)
    if ((n / v) % q == 0) return q;
  return 1;
}

/* Channels of one tap per weight-gradient work-item: the largest divisor of c up to 8. */
static int tap_channels(int c) {
  for (int q = 8; q > 1; q--)
    if (c % q == 0) return q;
  return 1;
}

int clt_conv_implicit_chunks(int k, int c, int f, size_t rows) {
  /* Enough chunks that the weight gradient has about 32 work-items (a few per core of a
   * CPU) where its tap and filter blocks are fewer (a first layer's 9 taps), each of at
   * least 64 pixels; none where the blocks alone are enough (the chunk sums then cost
   * nothing beyond one [KKC, F] pass). */
  int fv = widest(f);
  size_t blocks =
      (size_t)k * k * (size_t)(c / tap_channels(c)) * (size_t)(f / (fv * vectors(f, fv, 32)));
  size_t chunks = (32 + blocks - 1) / blocks;
  if (chunks > rows / 64) chunks = rows / 64;
  if (chunks > CLT_CONV_IMPLICIT_MAX_CHUNKS) chunks = CLT_CONV_IMPLICIT_MAX_CHUNKS;
  return chunks < 1 ? 1 : (int)chunks;
}

size_t clt_conv_implicit_workspace(int k, int c, int f, size_t rows) {
  return (size_t)clt_conv_implicit_chunks(k, c, f, rows) * k * k * c * f; /* >= transposed W */
}

clt_status clt_conv_implicit_prepare(clt_conv_implicit *d, clt_ctx *ctx, const clt_conv_geom *g,
                                     clt_activation act, double alpha, int bias) {
  clt_conv_implicit_release(d);
  d->g = *g;
  /* Register tiles as the engine GEMM's: up to 32 filters (two float16) by 8 pixels, 16
   * accumulator vectors. */
  d->fv = widest(g->f);
  d->nv = vectors(g->f, d->fv, 32);
  d->pm = d->fv * d->nv >= 16 ? 8 : 4;
  d->cv = widest(g->c);
  d->cn = vectors(g->c, d->cv, 32);
  d->dm = d->cv * d->cn >= 16 ? 8 : 4;
  d->tm = tap_channels(g->c);
  d->bias = bias;
  d->alpha = (float)alpha;
  char options[256];
  snprintf(options, sizeof options,
           "-DCI_K=%d -DCI_S=%d -DCI_C=%d -DCI_F=%d -DCI_FV=%d -DCI_NV=%d -DCI_PM=%d -DCI_CV=%d "
           "-DCI_CN=%d -DCI_DM=%d -DCI_TM=%d -DBIAS_ACT=%d",
           g->k, g->s, g->c, g->f, d->fv, d->nv, d->pm, d->cv, d->cn, d->dm, d->tm, (int)act);
  static const char *const names[3] = {"conv_implicit_forward", "conv_implicit_dx",
                                       "conv_implicit_dw"};
  clt_kernel *ks[3] = {&d->forward, &d->dx, &d->dw};
  for (int i = 0; i < 3; i++)
    CLT_TRY(clt_kernel_create(ctx, "conv_implicit.cl", names[i], options, ks[i]));
  /* Shape-free: one program for every layer (cl/conv_shared.cl). */
  CLT_TRY(clt_kernel_create(ctx, "conv_shared.cl", "conv_weights_transpose", "", &d->transpose));
  CLT_TRY(clt_kernel_create(ctx, "conv_shared.cl", "conv_implicit_reduce", "", &d->reduce));
  /* Written from the host, not filled: Oclgrind counts filled memory as uninitialised. */
  size_t zeros = (size_t)(g->c > g->f ? g->c : g->f);
  float *host = calloc(zeros, sizeof *host);
  if (!host) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  clt_status st = clt_buffer_create(ctx, zeros * sizeof *host, &d->zero);
  if (st == CLT_OK) st = clt_buffer_write(ctx, d->zero, 0, zeros * sizeof *host, host);
  free(host);
  return st;
}

void clt_conv_implicit_release(clt_conv_implicit *d) {
  clt_kernel_release(&d->transpose);
  clt_kernel_release(&d->forward);
  clt_kernel_release(&d->dx);
  clt_kernel_release(&d->dw);
  clt_kernel_release(&d->reduce);
  if (d->zero) clReleaseMemObject(d->zero);
  d->zero = NULL;
}

static void geometry(clt_kernel *k, const clt_conv_geom *g) {
  clt_arg_int(k, g->h);
  clt_arg_int(k, g->w);
  clt_arg_int(k, g->oh);
  clt_arg_int(k, g->ow);
  clt_arg_int(k, g->pt);
  clt_arg_int(k, g->pl);
}

/* Work-groups of one work-item: each is a register tile (see the .cl file). */
static clt_status run_tiles(clt_ctx *ctx, clt_kernel *k, size_t g0, size_t g1, size_t g2) {
  size_t global[3] = {g0, g1, g2}, local[3] = {1, 1, 1};
  return clt_run_3d(ctx, k, global, local);
}

clt_status clt_conv_implicit_forward(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem x, cl_mem w,
                                     cl_mem b, cl_mem y, cl_mem ws) {
  const clt_conv_geom *g = &d->g;
  size_t rows = (size_t)n * g->oh * g->ow;
  if (rows == 0) return CLT_OK;
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
  clt_arg_mem(k, d->zero);
  clt_arg_int(k, (int)rows);
  geometry(k, g);
  clt_arg_int(k, d->bias);
  clt_arg_float(k, d->alpha);
  return run_tiles(ctx, k, (rows + d->pm - 1) / d->pm, (size_t)g->f / (d->fv * d->nv), 1);
}

clt_status clt_conv_implicit_dx(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem dz, cl_mem w,
                                cl_mem dx) {
  const clt_conv_geom *g = &d->g;
  size_t inputs = (size_t)n * g->h * g->w;
  if (inputs == 0) return CLT_OK;
  clt_kernel *k = &d->dx;
  clt_arg_mem(k, dz);
  clt_arg_mem(k, w);
  clt_arg_mem(k, dx);
  clt_arg_mem(k, d->zero);
  clt_arg_int(k, (int)inputs);
  geometry(k, g);
  return run_tiles(ctx, k, (inputs + d->dm - 1) / d->dm, (size_t)g->c / (d->cv * d->cn), 1);
}

clt_status clt_conv_implicit_dw(clt_conv_implicit *d, clt_ctx *ctx, int n, cl_mem x, cl_mem dz,
                                cl_mem dw, cl_mem ws) {
  const clt_conv_geom *g = &d->g;
  size_t rows = (size_t)n * g->oh * g->ow;
  if (rows == 0) return CLT_OK;
  size_t chunks = (size_t)clt_conv_implicit_chunks(g->k, g->c, g->f, rows);
  size_t chunk = (rows + chunks - 1) / chunks;
  chunks = (rows + chunk - 1) / chunk;
  clt_kernel *k = &d->dw;
  clt_arg_mem(k, x);
  clt_arg_mem(k, dz);
  clt_arg_mem(k, ws);
  geometry(k, g);
  clt_arg_int(k, (int)rows);
  clt_arg_int(k, (int)chunk);
  CLT_TRY(run_tiles(ctx, k, (size_t)g->k * g->k * (g->c / d->tm), (size_t)g->f / (d->fv * d->nv),
                    chunks));
  clt_kernel *r = &d->reduce;
  clt_arg_mem(r, ws);
  clt_arg_mem(r, dw);
  clt_arg_int(r, (int)chunks);
  clt_arg_int(r, g->f);
  clt_arg_int(r, g->k * g->k * g->c);
  return clt_run_1d(ctx, r, (size_t)g->k * g->k * g->c * g->f);
}
