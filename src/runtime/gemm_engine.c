#include "runtime/gemm_engine.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm_internal.h"
#include "runtime/memory.h"
#include "runtime/quirks.h"

void clt_gemm_variant_name(const clt_gemm_variant *v, char *buf, size_t size) {
  switch (v->kind) {
  case CLT_GEMM_CPU:
    if (v->mb > 1)
      snprintf(buf, size, "cpu:%dx%d:k%d:b%dx%d", v->mr, 16 * v->nv, v->ku, v->mb, v->kc);
    else if (v->nb > 1)
      snprintf(buf, size, "cpu:%dx%d:k%d:n%dx%d", v->mr, 16 * v->nv, v->ku, v->nb, v->kc);
    else if (v->ks > 1)
      snprintf(buf, size, "cpu:%dx%d:k%d%s%s:s%d", v->mr, 16 * v->nv, v->ku, v->ap ? ":pa" : "",
               v->bp ? ":pb" : "", v->ks);
    else
      snprintf(buf, size, "cpu:%dx%d:k%d%s%s", v->mr, 16 * v->nv, v->ku, v->ap ? ":pa" : "",
               v->bp ? ":pb" : "");
    break;
  case CLT_GEMM_LOCAL:
    snprintf(buf, size, "local:%d:%dx%d:k%d", v->ts, v->wm, v->wn, v->kt);
    break;
  default:
    snprintf(buf, size, "clblast");
  }
}

static int in(int x, int lo, int hi) {
  return x >= lo && x <= hi;
}

int clt_gemm_variant_parse(const char *text, clt_gemm_variant *v) {
  memset(v, 0, sizeof *v);
  char rest[64] = "";
  int a = 0, b = 0, c = 0, d = 0, used = 0;
  if (strcmp(text, "clblast") == 0) return 1;
  if (sscanf(text, "cpu:%dx%d:k%d%n", &a, &b, &c, &used) == 3) {
    snprintf(rest, sizeof rest, "%s", text + used);
    v->kind = CLT_GEMM_CPU;
    v->mr = a, v->nv = b / 16, v->ku = c;
    if (strncmp(rest, ":pa", 3) == 0) v->ap = 1, memmove(rest, rest + 3, strlen(rest + 3) + 1);
    if (strncmp(rest, ":pb", 3) == 0) v->bp = 1, memmove(rest, rest + 3, strlen(rest + 3) + 1);
    int mb = 0, kc = 0, u2 = 0;
    int ks = 0;
    if (sscanf(rest, ":s%d%n", &ks, &u2) == 1) {
      if (!in(ks, 2, 256)) return 0;
      v->ks = ks;
      memmove(rest, rest + u2, strlen(rest + u2) + 1);
    } else if (!v->ap && !v->bp && sscanf(rest, ":b%dx%d%n", &mb, &kc, &u2) == 2) {
      if (!in(mb, 2, 64) || !in(kc, 1, 4096)) return 0;
      v->mb = mb, v->kc = kc, v->ap = v->bp = 1;
      memmove(rest, rest + u2, strlen(rest + u2) + 1);
    } else if (!v->ap && !v->bp && sscanf(rest, ":n%dx%d%n", &mb, &kc, &u2) == 2) {
      if (!in(mb, 2, 64) || !in(kc, 1, 4096)) return 0;
      v->nb = mb, v->kc = kc, v->ap = v->bp = 1;
      memmove(rest, rest + u2, strlen(rest + u2) + 1);
    }
    return rest[0] == '\0' && in(a, 1, 16) && b % 16 == 0 && in(v->nv, 1, 4) && in(c, 1, 16);
  }
  if (sscanf(text, "local:%d:%dx%d:k%d%n", &a, &b, &c, &d, &used) == 4 && text[used] == '\0') {
    v->kind = CLT_GEMM_LOCAL;
    v->ts = a, v->wm = b, v->wn = c, v->kt = d;
    return in(a, 1, 32) && in(b, 1, 16) && in(c, 1, 16) && in(d, 1, 64);
  }
  return 0;
}

static size_t local_bytes(const clt_gemm_variant *v) {
  return (size_t)v->kt * ((size_t)v->ts * v->wm + 1 + (size_t)v->ts * v->wn + 1) * sizeof(float);
}

int clt_gemm_variant_same_bits(const clt_gemm_variant *v) {
  return v->kind != CLT_GEMM_CLBLAST && !(v->kind == CLT_GEMM_CPU && v->ks > 1);
}

int clt_gemm_engine_accepts(size_t m, size_t n, size_t k, size_t a_off, size_t lda, size_t b_off,
                            size_t ldb, size_t c_off, size_t ldc, clt_trans ta, clt_trans tb) {
  const size_t lim = INT_MAX / 2; /* packed panels round m and n up */
  size_t a_end = a_off + (ta == CLT_T ? k * lda : m * lda);
  size_t b_end = b_off + (tb == CLT_T ? n * ldb : k * ldb);
  size_t c_end = c_off + m * ldc;
  return m < lim && n < lim && k < lim && lda < lim && ldb < lim && ldc < lim && a_end < lim &&
         b_end < lim && c_end < lim && (m + 64) * k < lim && (n + 64) * k < lim;
}

clt_gemm_state *clt_gemm_state_get(clt_ctx *ctx) {
  if (!ctx->gemm) {
    ctx->gemm = calloc(1, sizeof(clt_gemm_state));
    ctx->gemm_free = clt_gemm_state_free;
  }
  return ctx->gemm;
}

void clt_gemm_state_free(clt_ctx *ctx) {
  clt_gemm_state *s = ctx->gemm;
  if (!s) return;
  for (int i = 0; i < s->kernel_count; i++) {
    clt_kernel_release(&s->kernels[i]->kernel);
    free(s->kernels[i]);
  }
  free(s->kernels);
  if (s->pack) clReleaseMemObject(s->pack);
  for (int i = 0; i < 3; i++)
    if (s->tbuf[i]) clReleaseMemObject(s->tbuf[i]);
  free(s->choices);
  free(s);
  ctx->gemm = NULL;
}

/* The kernel `name` of file built with options, created once per context. */
static clt_status get_kernel(clt_ctx *ctx, const char *file, const char *name, const char *options,
                             clt_kernel **out) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM state)");
  for (int i = 0; i < s->kernel_count; i++)
    if (strcmp(s->kernels[i]->name, name) == 0 && strcmp(s->kernels[i]->options, options) == 0) {
      *out = &s->kernels[i]->kernel;
      return CLT_OK;
    }
  if (s->kernel_count == s->kernel_capacity) {
    int cap = s->kernel_capacity ? 2 * s->kernel_capacity : 16;
    clt_gemm_kernel_entry **grown = realloc(s->kernels, sizeof *grown * (size_t)cap);
    if (!grown) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM kernels)");
    s->kernels = grown;
    s->kernel_capacity = cap;
  }
  clt_gemm_kernel_entry *e = calloc(1, sizeof *e);
  if (!e) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM kernels)");
  snprintf(e->options, sizeof e->options, "%s", options);
  snprintf(e->name, sizeof e->name, "%s", name);
  clt_status st = clt_kernel_create(ctx, file, name, options, &e->kernel);
  if (st != CLT_OK) {
    clt_kernel_release(&e->kernel); /* created before a failed query, or NULL */
    free(e);
    return st;
  }
  s->kernels[s->kernel_count++] = e;
  *out = &e->kernel;
  return CLT_OK;
}

static int pack_b_needed(const clt_gemm_variant *v, clt_trans tb, size_t n) {
  return v->bp || tb == CLT_T || n % (16 * (size_t)v->nv) != 0;
}

/* The main kernel of a CPU variant (bp: B is packed). */
static const char *cpu_kernel(const clt_gemm_variant *v, int bp) {
  if (v->mb > 1) return "gemm_cpu_blocked";
  if (v->nb > 1) return "gemm_cpu_nblocked";
  return v->ap && bp && v->ks <= 1 ? "gemm_cpu_packed" : "gemm_cpu";
}

static void cpu_options(const clt_gemm_variant *v, char *buf, size_t size) {
  if (v->mb > 1)
    snprintf(buf, size, "-DMR=%d -DNV=%d -DKU=%d -DMB=%d -DKC=%d", v->mr, v->nv, v->ku, v->mb,
             v->kc);
  else if (v->nb > 1)
    snprintf(buf, size, "-DMR=%d -DNV=%d -DKU=%d -DNB=%d -DKC=%d", v->mr, v->nv, v->ku, v->nb,
             v->kc);
  else
    snprintf(buf, size, "-DMR=%d -DNV=%d -DKU=%d", v->mr, v->nv, v->ku);
}

static void local_options(const clt_gemm_variant *v, clt_trans ta, clt_trans tb, char *buf,
                          size_t size) {
  snprintf(buf, size, "-DTS=%d -DWM=%d -DWN=%d -DKT=%d -DTA=%d -DTB=%d", v->ts, v->wm, v->wn, v->kt,
           ta == CLT_T, tb == CLT_T);
}

static int epi_wanted(const clt_gemm_epi *epi) {
  return epi && (epi->bias || epi->act != 0);
}

/* Appends the epilogue's defines (cl/gemm_cpu.cl) to a variant's options: a program of its
 * own, so that a plain GEMM pays nothing for it. */
static void epi_options(const clt_gemm_epi *epi, char *buf, size_t size) {
  size_t len = strlen(buf);
  if (epi_wanted(epi) && len < size)
    snprintf(buf + len, size - len, " -DEPI -DEPI_BIAS=%d -DEPI_ACT=%d", epi->bias != NULL,
             epi->act);
}

/* The epilogue's two arguments (bias: any buffer, unread, when there is none). */
static void epi_args(clt_kernel *k, const clt_gemm_epi *epi, cl_mem c) {
  if (!epi_wanted(epi)) return;
  clt_arg_mem(k, epi->bias ? epi->bias : c);
  clt_arg_float(k, epi->slope);
}

int clt_gemm_variant_fits(clt_ctx *ctx, const clt_gemm_variant *v) {
  if (v->kind != CLT_GEMM_LOCAL) return 1;
  if ((size_t)v->ts * v->ts > ctx->dev.max_work_group ||
      local_bytes(v) > (size_t)ctx->dev.local_mem)
    return 0;
  /* A kernel may allow fewer work-items than the device (rusticl's llvmpipe: 32). */
  char opt[160];
  clt_kernel *k = NULL;
  local_options(v, CLT_N, CLT_N, opt, sizeof opt);
  if (get_kernel(ctx, "gemm_local.cl", "gemm_local", opt, &k) != CLT_OK) return 0;
  return (size_t)v->ts * v->ts <= clt_kernel_max_group(k);
}

clt_status clt_gemm_engine_prepare(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta,
                                   clt_trans tb, size_t n) {
  char opt[160];
  clt_kernel *k = NULL;
  if (v->kind == CLT_GEMM_LOCAL) {
    local_options(v, ta, tb, opt, sizeof opt);
    return get_kernel(ctx, "gemm_local.cl", "gemm_local", opt, &k);
  }
  int bp = pack_b_needed(v, tb, n);
  cpu_options(v, opt, sizeof opt);
  CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", cpu_kernel(v, bp), opt, &k));
  if (v->ap) CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_pack_a", opt, &k));
  if (bp) CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_pack_b", opt, &k));
  return CLT_OK;
}

static clt_status ensure_pack(clt_ctx *ctx, size_t bytes) {
  clt_gemm_state *s = ctx->gemm;
  if (s->pack && s->pack_size >= bytes) return CLT_OK;
  cl_mem grown = NULL;
  CLT_TRY(clt_buffer_create(ctx, bytes, &grown));
  if (clt_device_quirks(&ctx->dev) & CLT_QUIRK_HOST_INIT_SCRATCH) {
    float *zeros = calloc(bytes / sizeof(float) + 1, sizeof(float));
    clt_status st = zeros ? clt_buffer_write(ctx, grown, 0, bytes, zeros)
                          : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM scratch)");
    free(zeros);
    if (st != CLT_OK) {
      clReleaseMemObject(grown);
      return st;
    }
  }
  /* Released memory stays alive until the commands already enqueued on it finish. */
  if (s->pack) clReleaseMemObject(s->pack);
  s->pack = grown;
  s->pack_size = bytes;
  return CLT_OK;
}

/* Packs X (d_count x k, X(d, p) = src[off + d sd + p sk]) into panels of w at dst + dst_off
 * (kp: gemm_pack_a, w = MR, or gemm_pack_b, w = NR). */
static clt_status pack(clt_ctx *ctx, clt_kernel *kp, cl_mem src, size_t off, size_t sd, size_t sk,
                       size_t d_count, size_t k, size_t w, cl_mem dst, size_t dst_off) {
  size_t panels = (d_count + w - 1) / w;
  clt_arg_mem(kp, src);
  clt_arg_int(kp, (int)off);
  clt_arg_int(kp, (int)sd);
  clt_arg_int(kp, (int)sk);
  clt_arg_int(kp, (int)d_count);
  clt_arg_int(kp, (int)k);
  clt_arg_int(kp, (int)panels);
  clt_arg_mem(kp, dst);
  clt_arg_int(kp, (int)dst_off);
  return clt_run_2d(ctx, kp, k, panels);
}

clt_status clt_gemm_engine_run(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta, clt_trans tb,
                               size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                               size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                               size_t c_off, size_t ldc, const clt_gemm_epi *epi) {
  char opt[160], opt_epi[160];
  clt_kernel *kg = NULL, *kp = NULL;
  if (v->kind == CLT_GEMM_LOCAL) {
    local_options(v, ta, tb, opt, sizeof opt);
    epi_options(epi, opt, sizeof opt);
    CLT_TRY(get_kernel(ctx, "gemm_local.cl", "gemm_local", opt, &kg));
    size_t bm = (size_t)v->ts * v->wm, bn = (size_t)v->ts * v->wn;
    size_t global[3] = {(n + bn - 1) / bn * v->ts, (m + bm - 1) / bm * v->ts, 1};
    size_t local[3] = {(size_t)v->ts, (size_t)v->ts, 1};
    clt_arg_int(kg, (int)m), clt_arg_int(kg, (int)n), clt_arg_int(kg, (int)k);
    clt_arg_float(kg, alpha);
    clt_arg_mem(kg, a), clt_arg_int(kg, (int)a_off), clt_arg_int(kg, (int)lda);
    clt_arg_mem(kg, b), clt_arg_int(kg, (int)b_off), clt_arg_int(kg, (int)ldb);
    clt_arg_float(kg, beta);
    clt_arg_mem(kg, c), clt_arg_int(kg, (int)c_off), clt_arg_int(kg, (int)ldc);
    epi_args(kg, epi, c);
    return clt_run_3d(ctx, kg, global, local);
  }
  const size_t mr = (size_t)v->mr, nr = 16 * (size_t)v->nv;
  const size_t mpad = (m + mr - 1) / mr * mr, npad = (n + nr - 1) / nr * nr;
  int bp = pack_b_needed(v, tb, n);
  cpu_options(v, opt, sizeof opt);
  /* The kernels that store C come from the epilogue's program; packing and split K's
   * partial sums from the plain one. */
  snprintf(opt_epi, sizeof opt_epi, "%s", opt);
  epi_options(epi, opt_epi, sizeof opt_epi);
  CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", cpu_kernel(v, bp), opt_epi, &kg));
  /* Strides of op(A) rows and k, and of B rows (gemm_cpu.cl). */
  cl_mem ga = a, gb = b;
  size_t ga_off = a_off, gb_off = b_off;
  size_t a_rs = ta == CLT_T ? 1 : lda, a_ps = ta == CLT_T ? lda : 1, a_ts = mr * a_rs;
  size_t a_rows = m, b_ts = nr, b_ps = ldb;
  size_t ks = v->ks > 1 ? (size_t)v->ks : 1, kc = (k + ks - 1) / ks;
  if (ks > 1) ks = kc ? (k + kc - 1) / kc : 1; /* no empty piece */
  if (ks * mpad * npad >= (size_t)INT_MAX / 2) ks = 1, kc = k;
  size_t part_at = 0;
  if (v->ap || bp || ks > 1) {

    size_t a_floats = v->ap ? mpad * k : 0, b_floats = bp ? npad * k : 0;
    size_t b_at = (a_floats + 15) / 16 * 16; /* B's panels start on a 64-byte boundary */
    part_at = (b_at + b_floats + 15) / 16 * 16;
    size_t part_floats = ks > 1 ? ks * mpad * npad : 0;
    CLT_TRY(ensure_pack(ctx, (part_at + part_floats + 16) * sizeof(float)));
    cl_mem p = ctx->gemm->pack;
    if (v->ap) {
      CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_pack_a", opt, &kp));
      CLT_TRY(pack(ctx, kp, a, a_off, a_rs, a_ps, m, k, mr, p, 0));
      ga = p, ga_off = 0, a_ts = k * mr, a_rs = 1, a_ps = mr, a_rows = mpad;
    }
    if (bp) {
      CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_pack_b", opt, &kp));
      CLT_TRY(
          pack(ctx, kp, b, b_off, tb == CLT_T ? ldb : 1, tb == CLT_T ? 1 : ldb, n, k, nr, p, b_at));
      gb = p, gb_off = b_at, b_ts = k * nr, b_ps = nr;
    }
  }
  if (ks > 1) {
    clt_kernel *kr = NULL;
    cl_mem part = ctx->gemm->pack;
    CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_cpu_split", opt, &kg));
    CLT_TRY(get_kernel(ctx, "gemm_cpu.cl", "gemm_split_reduce", opt_epi, &kr));
    size_t global[3] = {mpad / mr, npad / nr, ks}, local[3] = {1, 1, 1};
    clt_arg_int(kg, (int)m), clt_arg_int(kg, (int)n), clt_arg_int(kg, (int)k);
    clt_arg_float(kg, alpha);
    clt_arg_mem(kg, ga), clt_arg_int(kg, (int)ga_off), clt_arg_int(kg, (int)a_ts);
    clt_arg_int(kg, (int)a_rs), clt_arg_int(kg, (int)a_ps), clt_arg_int(kg, (int)a_rows);
    clt_arg_mem(kg, gb), clt_arg_int(kg, (int)gb_off), clt_arg_int(kg, (int)b_ts);
    clt_arg_int(kg, (int)b_ps);
    clt_arg_float(kg, beta);
    clt_arg_mem(kg, c), clt_arg_int(kg, (int)c_off), clt_arg_int(kg, (int)ldc);
    clt_arg_int(kg, (int)kc);
    clt_arg_mem(kg, part);
    clt_arg_int(kg, (int)part_at);
    clt_status st = clt_run_3d(ctx, kg, global, local);
    clt_arg_int(kr, (int)m), clt_arg_int(kr, (int)n), clt_arg_int(kr, (int)ks);
    clt_arg_int(kr, (int)mpad), clt_arg_int(kr, (int)npad);
    clt_arg_mem(kr, part);
    clt_arg_int(kr, (int)part_at);
    clt_arg_float(kr, alpha), clt_arg_float(kr, beta);
    clt_arg_mem(kr, c), clt_arg_int(kr, (int)c_off), clt_arg_int(kr, (int)ldc);
    epi_args(kr, epi, c);
    if (st == CLT_OK) st = clt_run_2d(ctx, kr, n, m);
    return st;
  }
  size_t rows_per_item = v->mb > 1 ? mr * (size_t)v->mb : mr;
  size_t cols_per_item = v->nb > 1 ? nr * (size_t)v->nb : nr;
  size_t global[3] = {(m + rows_per_item - 1) / rows_per_item,
                      (n + cols_per_item - 1) / cols_per_item, 1};
  size_t local[3] = {1, 1, 1};
  clt_arg_int(kg, (int)m), clt_arg_int(kg, (int)n), clt_arg_int(kg, (int)k);
  clt_arg_float(kg, alpha);
  clt_arg_mem(kg, ga), clt_arg_int(kg, (int)ga_off), clt_arg_int(kg, (int)a_ts);
  clt_arg_int(kg, (int)a_rs), clt_arg_int(kg, (int)a_ps), clt_arg_int(kg, (int)a_rows);
  clt_arg_mem(kg, gb), clt_arg_int(kg, (int)gb_off), clt_arg_int(kg, (int)b_ts);
  clt_arg_int(kg, (int)b_ps);
  clt_arg_float(kg, beta);
  clt_arg_mem(kg, c), clt_arg_int(kg, (int)c_off), clt_arg_int(kg, (int)ldc);
  epi_args(kg, epi, c);
  return clt_run_3d(ctx, kg, global, local);
}
