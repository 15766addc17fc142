#include "runtime/gemm_choose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/choice_file.h"
#include "runtime/clock.h"
#include "runtime/gemm_internal.h"
#include "runtime/memory.h"

#define CHOICE_FORMAT "cltrain-gemm-choices-1"

static clt_gemm_select_fn select_hook;

void clt_gemm_set_select_hook(clt_gemm_select_fn fn) {
  select_hook = fn;
}

/* The float16 one-work-item tile is what PoCL compiles into vector code. Other CPU
 * implementations need not: rusticl's llvmpipe ran it under 0.05 GFLOP/s on 576x64x576,
 * where CLBlast ran 0.2. */
static int is_pocl(const clt_device_info *dev) {
  return strstr(dev->platform_name, "Portable Computing Language") != NULL ||
         strstr(dev->platform_vendor, "pocl") != NULL;
}

/* CPU devices on which the engine's CPU kernels are the default. */
static int engine_cpu(const clt_device_info *dev) {
  return dev->kind == CLT_DEVICE_CPU && is_pocl(dev);
}

void clt_gemm_default_variant(const clt_device_info *dev, clt_gemm_variant *v) {
  memset(v, 0, sizeof *v);
  if (dev->kind == CLT_DEVICE_CPU && !is_pocl(dev)) return; /* CLBlast */
  if (dev->kind == CLT_DEVICE_CPU) {
    cl_uint width = 0;
    if (clGetDeviceInfo(dev->id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width,
                        NULL) != CL_SUCCESS)
      width = 0;
    v->kind = CLT_GEMM_CPU;
    v->ku = 4;
    /* 16 float16 accumulators fill half of AVX-512's 32 registers; with 8-wide vectors
     * (AVX2: 16 registers) a float16 is two registers, so 6 x 16 uses 12. */
    if (width >= 16 || width == 0)
      v->mr = 8, v->nv = 2;
    else
      v->mr = 6, v->nv = 1;
    return;
  }
  v->kind = CLT_GEMM_LOCAL;
  v->ts = dev->max_work_group >= 256 ? 16 : 8;
  v->wm = v->wn = 4;
  v->kt = 16;
  while (v->ts > 1 && (size_t)v->kt * ((size_t)v->ts * 8 + 2) * 4 > dev->local_mem) v->ts /= 2;
}

static int add(clt_gemm_variant *out, int count, int max, clt_gemm_variant v) {
  for (int i = 0; i < count; i++)
    if (memcmp(&out[i], &v, sizeof v) == 0) return count;
  if (count < max) out[count++] = v;
  return count;
}

int clt_gemm_candidates(const clt_device_info *dev, int wide, clt_gemm_variant *out, int max) {
  clt_gemm_variant d, v;
  clt_gemm_default_variant(dev, &d);
  int n = add(out, 0, max, d);
  memset(&v, 0, sizeof v);
  if (dev->kind == CLT_DEVICE_CPU && !is_pocl(dev) && !wide) return n; /* CLBlast alone */
  if (dev->kind == CLT_DEVICE_CPU) {
    /* Start-up: packings of the default tile (one program: layouts are run-time strides). */
    static const int start[][5] = {
        {8, 2, 4, 1, 0}, {8, 2, 4, 1, 1}, {8, 2, 4, 0, 1}, {4, 1, 4, 0, 0}, {4, 1, 4, 0, 1}};
    static const int tiles[][2] = {{4, 1},  {8, 1},  {12, 1}, {4, 2}, {6, 2}, {8, 2},
                                   {12, 2}, {14, 2}, {4, 3},  {8, 3}, {4, 4}, {6, 4}};
    v.kind = CLT_GEMM_CPU;
    if (!wide) {
      /* A second, narrow tile (a second program) for small m or n and long k, where the
       * default leaves cores idle: conv 1's weight gradient 32 x 9 x 43264 runs 7x faster. */
      for (int i = 0; i < 5; i++) {
        v.mr = start[i][0], v.nv = start[i][1], v.ku = start[i][2], v.ap = start[i][3];
        v.bp = start[i][4];
        if (d.nv == 2 || v.nv == 1) n = add(out, n, max, v);
      }
      return n;
    }
    for (int t = 0; t < (int)(sizeof tiles / sizeof tiles[0]); t++)
      for (int ap = 0; ap < 2; ap++)
        for (int bp = 0; bp < 2; bp++) {
          v.mr = tiles[t][0], v.nv = tiles[t][1], v.ku = 4, v.ap = ap, v.bp = bp;
          n = add(out, n, max, v);
        }
    static const int blocked[][4] = {
        {8, 2, 8, 128}, {8, 2, 16, 128}, {8, 2, 8, 256}, {4, 4, 8, 128}, {12, 2, 8, 128}};
    memset(&v, 0, sizeof v);
    v.kind = CLT_GEMM_CPU;
    for (int i = 0; i < 2; i++) {
      v.mr = blocked[i][0], v.nv = blocked[i][1], v.mb = blocked[i][2], v.kc = blocked[i][3];
      v.ku = 4, v.ap = v.bp = 1;
      n = add(out, n, max, v);
    }
    /* Blocked along N: NB tiles, K block. */
    static const int nblocked[][2] = {{4, 256}, {2, 512}};
    memset(&v, 0, sizeof v);
    v.kind = CLT_GEMM_CPU;
    for (int i = 0; i < 2; i++) {
      v.mr = 8, v.nv = 2, v.nb = nblocked[i][0], v.kc = nblocked[i][1];
      v.ku = 4, v.ap = v.bp = 1;
      n = add(out, n, max, v);
    }
  } else {
    static const int loc[][4] = {{16, 4, 4, 16}, {16, 2, 2, 16}, {8, 4, 4, 16},
                                 {16, 8, 4, 8},  {16, 4, 8, 8},  {16, 4, 4, 32},
                                 {8, 8, 8, 8},   {16, 2, 4, 16}, {8, 2, 2, 32}};
    v.kind = CLT_GEMM_LOCAL;
    for (int i = 0; i < (wide ? 9 : 2); i++) {
      v.ts = loc[i][0], v.wm = loc[i][1], v.wn = loc[i][2], v.kt = loc[i][3];
      if ((size_t)v.ts * v.ts <= dev->max_work_group &&
          (size_t)v.kt * ((size_t)v.ts * (v.wm + v.wn) + 2) * 4 <= dev->local_mem)
        n = add(out, n, max, v);
    }
  }
  clt_gemm_variant clblast;
  memset(&clblast, 0, sizeof clblast);
  if (wide || dev->kind != CLT_DEVICE_CPU) n = add(out, n, max, clblast);
  return n;
}

int clt_gemm_check_variants(clt_ctx *ctx, clt_gemm_variant *out, int max) {
  static const char *const names[] = {
      "cpu:8x32:k4",        "cpu:8x32:k4:pa",    "cpu:8x32:k4:pb",     "cpu:6x16:k4",
      "cpu:3x16:k1",        "cpu:5x48:k3:pa:pb", "cpu:8x32:k4:b8x128", "cpu:4x16:k2:b3x5",
      "cpu:8x32:k4:n4x256", "cpu:5x48:k3:n3x7",  "local:16:4x4:k16",   "local:8:2x2:k8",
      "local:4:3x5:k3"};
  clt_gemm_variant all[64], v;
  int n = clt_gemm_candidates(&ctx->dev, 0, all, 64);
  int count = 0;
  if (ctx->dev.kind == CLT_DEVICE_CPU && !engine_cpu(&ctx->dev)) {
    /* Slow there (see is_pocl): one CPU tile and one local tiling, beside CLBlast. */
    static const char *const few[] = {"cpu:8x32:k4", "local:4:3x5:k3"};
    for (int i = 0; i < 2; i++)
      if (clt_gemm_variant_parse(few[i], &v) && clt_gemm_variant_fits(ctx, &v))
        count = add(out, count, max, v);
    memset(&v, 0, sizeof v);
    return add(out, count, max, v);
  }
  for (int i = 0; i < n; i++)
    if (all[i].kind != CLT_GEMM_CLBLAST) count = add(out, count, max, all[i]);
  for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
    if (clt_gemm_variant_parse(names[i], &v) && clt_gemm_variant_fits(ctx, &v))
      count = add(out, count, max, v);
  memset(&v, 0, sizeof v);
  return add(out, count, max, v);
}

/* The start-up list's narrower tile (fewer columns than the default) pays only where the
 * default leaves cores idle (fewer than 8 tiles of C per core) over a long k; elsewhere it
 * measured within noise of the default, and trying it compiles a second program. */
static int narrow_tile_pays(const clt_device_info *dev, const clt_gemm_variant *d, size_t m,
                            size_t n, size_t k) {
  size_t cores = dev->compute_units ? dev->compute_units : 1;
  size_t tiles = ((m + (size_t)d->mr - 1) / (size_t)d->mr) *
                 ((n + 16 * (size_t)d->nv - 1) / (16 * (size_t)d->nv));
  return tiles < 8 * cores && k >= 256;
}

int clt_gemm_candidates_for(const clt_device_info *dev, int wide, size_t m, size_t n, size_t k,
                            clt_gemm_variant *out, int max) {
  int count = clt_gemm_candidates(dev, wide, out, max);
  if (dev->kind != CLT_DEVICE_CPU || (!wide && !engine_cpu(dev))) return count;
  if (!wide && !narrow_tile_pays(dev, &out[0], m, n, k)) {
    int kept = 1; /* out[0] is the default */
    for (int i = 1; i < count; i++)
      if (out[i].nv >= out[0].nv) out[kept++] = out[i];
    count = kept;
  }
  clt_gemm_variant v;
  /* Large products: the cache-blocked forms (B falls out of L2 otherwise; along N, four
   * tiles share each block of A's micro-panel: 2048^3 gains up to a third in gemm-bench). */
  static const char *const large[2] = {"cpu:8x32:k4:n4x256", "cpu:8x32:k4:b8x128"};
  for (int i = 0; i < 2; i++)
    if ((double)m * (double)n * (double)k >= 268435456.0 && clt_gemm_variant_parse(large[i], &v))
      count = add(out, count, max, v);
  /* Few tiles of C and a long k: split k so that every core has work. */
  static const char *const narrow[2] = {"cpu:4x16:k4", "cpu:8x32:k4"};
  size_t cores = dev->compute_units ? dev->compute_units : 1;
  for (int i = 0; i < 2; i++) {
    if (!clt_gemm_variant_parse(narrow[i], &v)) continue;
    size_t tiles = ((m + (size_t)v.mr - 1) / (size_t)v.mr) *
                   ((n + 16 * (size_t)v.nv - 1) / (16 * (size_t)v.nv));
    size_t ks = (8 * cores + tiles - 1) / tiles;
    if (ks > k / 256) ks = k / 256;
    if (ks > 64) ks = 64;
    if (ks < 2) continue;
    v.ks = (int)ks;
    count = add(out, count, max, v);
  }
  return count;
}

/* ---- the store ---- */

static void engine_sources_hash(clt_ctx *ctx, char key[33]) {
  static const char *const files[2] = {"gemm_cpu.cl", "gemm_local.cl"};
  clt_choice_file_hash(ctx, files, 2, CHOICE_FORMAT, key);
}

void clt_gemm_choices_key(clt_ctx *ctx, char *buf, size_t size) {
  char key[33];
  engine_sources_hash(ctx, key);
  snprintf(buf, size, "%s %s", CHOICE_FORMAT, key);
}

int clt_gemm_choices_path(clt_ctx *ctx, char *buf, size_t size) {
  char key[33];
  engine_sources_hash(ctx, key);
  return clt_choice_file_path(ctx, "gemm-choice", key, buf, size);
}

static int parse_choice(const char *line, void *slot) {
  clt_gemm_choice *c = slot;
  char ta, tb, name[64];
  unsigned long long m, n, k;
  int timed;
  double seconds;
  if (sscanf(line, "%c%c %llu %llu %llu %63s %d %lf", &ta, &tb, &m, &n, &k, name, &timed,
             &seconds) != 8 ||
      (ta != 'N' && ta != 'T') || (tb != 'N' && tb != 'T') || m == 0 || n == 0 ||
      !clt_gemm_variant_parse(name, &c->variant) || (timed != 0 && timed != 1))
    return 0;
  c->ta = ta == 'T' ? CLT_T : CLT_N;
  c->tb = tb == 'T' ? CLT_T : CLT_N;
  c->m = m, c->n = n, c->k = k, c->timed = timed, c->seconds = seconds;
  return 1;
}

int clt_gemm_choices_load(const char *path, const char *key, clt_gemm_choice **out) {
  void *list = NULL;
  int n = clt_choice_file_read(path, key, sizeof **out, parse_choice, &list);
  *out = list;
  return n;
}

static void write_choice(FILE *f, const void *record) {
  const clt_gemm_choice *c = record;
  char name[64];
  clt_gemm_variant_name(&c->variant, name, sizeof name);
  fprintf(f, "%c%c %zu %zu %zu %s %d %.9g\n", c->ta == CLT_T ? 'T' : 'N',
          c->tb == CLT_T ? 'T' : 'N', c->m, c->n, c->k, name, c->timed, c->seconds);
}

clt_status clt_gemm_choices_save(const char *path, const char *key, const clt_gemm_choice *c,
                                 int count) {
  return clt_choice_file_write(path, key, "transposes m n k kernel timed seconds-per-call", c,
                               count, sizeof *c, write_choice);
}

/* ---- decisions ---- */

static const char *mode(const clt_ctx *ctx) {
  return ctx->gemm_mode[0] ? ctx->gemm_mode : "auto";
}

static double budget(const clt_ctx *ctx) {
  return ctx->gemm_budget > 0 ? ctx->gemm_budget : 8.0;
}

static clt_gemm_choice *find(clt_gemm_state *s, clt_trans ta, clt_trans tb, size_t m, size_t n,
                             size_t k) {
  for (int i = 0; i < s->choice_count; i++) {
    clt_gemm_choice *c = &s->choices[i];
    if (c->ta == ta && c->tb == tb && c->m == m && c->n == n && c->k == k) return c;
  }
  return NULL;
}

static clt_gemm_choice *append(clt_gemm_state *s, const clt_gemm_choice *c) {
  if (s->choice_count == s->choice_capacity) {
    int cap = s->choice_capacity ? 2 * s->choice_capacity : 16;
    clt_gemm_choice *grown = realloc(s->choices, sizeof *grown * (size_t)cap);
    if (!grown) return NULL;
    s->choices = grown;
    s->choice_capacity = cap;
  }
  s->choices[s->choice_count] = *c;
  return &s->choices[s->choice_count++];
}

static void load_stored(clt_ctx *ctx, clt_gemm_state *s) {
  s->loaded = 1;
  char path[4096], key[128];
  if (clt_gemm_choices_path(ctx, path, sizeof path) != 0) return;
  clt_gemm_choices_key(ctx, key, sizeof key);
  clt_gemm_choice *list = NULL;
  int n = clt_gemm_choices_load(path, key, &list);
  if (n <= 0) return;
  free(s->choices);
  s->choices = list;
  s->choice_count = s->choice_capacity = n;
}

static void save_stored(clt_ctx *ctx, clt_gemm_state *s) {
  char path[4096], key[128];
  if (clt_gemm_choices_path(ctx, path, sizeof path) != 0) return;
  clt_gemm_choices_key(ctx, key, sizeof key);
  /* Another process may have added shapes since: keep theirs that this one lacks. */
  clt_gemm_choice *theirs = NULL;
  int n = clt_gemm_choices_load(path, key, &theirs);
  for (int i = 0; i < n; i++)
    if (!find(s, theirs[i].ta, theirs[i].tb, theirs[i].m, theirs[i].n, theirs[i].k))
      append(s, &theirs[i]);
  free(theirs);
  if (clt_gemm_choices_save(path, key, s->choices, s->choice_count) != CLT_OK)
    clt_warn("GEMM kernel choices not stored: %s", clt_last_error());
}

static clt_gemm_choice *remember(clt_gemm_state *s, const clt_gemm_choice *c) {
  clt_gemm_choice *old = find(s, c->ta, c->tb, c->m, c->n, c->k);
  if (!old) return append(s, c);
  *old = *c;
  return old;
}

static clt_status ensure_tbuf(clt_ctx *ctx, clt_gemm_state *s, int i, size_t floats) {
  size_t bytes = (floats ? floats : 1) * sizeof(float);
  if (s->tbuf[i] && s->tbuf_size[i] >= bytes) return CLT_OK;
  cl_mem grown = NULL;
  CLT_TRY(clt_buffer_create(ctx, bytes, &grown));
  clt_status st = clt_buffer_zero(ctx, grown, 0, bytes);
  if (st != CLT_OK) {
    clReleaseMemObject(grown);
    return st;
  }
  if (s->tbuf[i]) clReleaseMemObject(s->tbuf[i]);
  s->tbuf[i] = grown;
  s->tbuf_size[i] = bytes;
  return CLT_OK;
}

clt_status clt_gemm_time_variant(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta,
                                 clt_trans tb, size_t m, size_t n, size_t k, int reps,
                                 double *seconds) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM state)");
  CLT_TRY(ensure_tbuf(ctx, s, 0, m * k));
  CLT_TRY(ensure_tbuf(ctx, s, 1, k * n));
  CLT_TRY(ensure_tbuf(ctx, s, 2, m * n));
  size_t lda = ta == CLT_T ? m : k, ldb = tb == CLT_T ? k : n;
  double best = 1e30, spent = 0.0;
  CLT_TRY(clt_ctx_finish(ctx));
  for (int r = -1; r < reps; r++) {
    double t0 = clt_now_seconds();
    CLT_TRY(clt_gemm_run_variant(ctx, v, ta, tb, m, n, k, 1.0f, s->tbuf[0], 0, lda, s->tbuf[1], 0,
                                 ldb, 0.0f, s->tbuf[2], 0, n));
    CLT_TRY(clt_ctx_finish(ctx));
    double t = clt_now_seconds() - t0;
    if (r < 0) continue; /* compiles */
    if (t < best) best = t;
    spent += t;
    if (spent > 0.05 + 0.03 * reps) break; /* a slow candidate: enough */
  }
  *seconds = best;
  return CLT_OK;
}

/* Times cands on the shape within the remaining budget; the winner into *c. */
static clt_status time_candidates(clt_ctx *ctx, clt_gemm_state *s, const clt_gemm_variant *cands,
                                  int count, double limit, clt_gemm_tune_fn report, void *user,
                                  clt_gemm_choice *c) {
  double start = clt_now_seconds();
  c->seconds = 0.0;
  int any = 0;
  for (int i = 0; i < count; i++) {
    if (!clt_gemm_variant_fits(ctx, &cands[i])) continue;
    if (any && clt_now_seconds() - start > limit) break;
    double t = 0.0;
    clt_status st = clt_gemm_time_variant(ctx, &cands[i], c->ta, c->tb, c->m, c->n, c->k, 3, &t);
    if (st != CLT_OK) {
      /* A candidate that fails to build or run here is skipped, not fatal; a lost
       * context shows again on the real call. */
      if (st == CLT_ERR_OUT_OF_MEMORY) return st;
      continue;
    }
    if (report) report(&cands[i], t, user);
    if (!any || t < c->seconds) {
      c->variant = cands[i];
      c->seconds = t;
    }
    any = 1;
  }
  c->timed = any;
  s->select_seconds += clt_now_seconds() - start;
  s->timed_shapes++;
  return CLT_OK;
}

clt_status clt_gemm_tune_shape(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n,
                               size_t k, const clt_gemm_variant *cands, int count,
                               clt_gemm_tune_fn report, void *user, clt_gemm_choice *best) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM state)");
  if (!s->loaded) load_stored(ctx, s);
  clt_gemm_choice c;
  memset(&c, 0, sizeof c);
  c.ta = ta, c.tb = tb, c.m = m, c.n = n, c.k = k;
  clt_gemm_default_variant(&ctx->dev, &c.variant);
  CLT_TRY(time_candidates(ctx, s, cands, count, 1e30, report, user, &c));
  if (!remember(s, &c)) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  save_stored(ctx, s);
  if (best) *best = c;
  return CLT_OK;
}

clt_status clt_gemm_choose(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                           clt_gemm_variant *out) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (!s) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (GEMM state)");
  const char *md = mode(ctx);
  if (s->forced) {
    *out = s->force;
    return CLT_OK;
  }
  if (strcmp(md, "auto") != 0) {
    if (strcmp(md, "default") == 0 || !clt_gemm_variant_parse(md, out) ||
        !clt_gemm_variant_fits(ctx, out))
      clt_gemm_default_variant(&ctx->dev, out);
    return CLT_OK;
  }
  if (!s->loaded) load_stored(ctx, s);
  clt_gemm_choice *known = find(s, ta, tb, m, n, k);
  /* One start-up budget for GEMM and conv choices together (nn/layers/conv.c). */
  double left = budget(ctx) - s->select_seconds - ctx->conv_select_seconds;
  if (known && (known->timed || left <= 0)) {
    *out = known->variant;
    return CLT_OK;
  }
  clt_gemm_choice c;
  memset(&c, 0, sizeof c);
  c.ta = ta, c.tb = tb, c.m = m, c.n = n, c.k = k;
  clt_gemm_default_variant(&ctx->dev, &c.variant);
  if (left > 0) {
    clt_gemm_variant cands[16];
    int count = clt_gemm_candidates_for(&ctx->dev, 0, m, n, k, cands, 16);
    if (known) { /* untimed before: only variants with the stored one's bits */
      int e = 0;
      for (int i = 0; i < count; i++)
        if (clt_gemm_variant_same_bits(&cands[i])) cands[e++] = cands[i];
      count = e;
    }
    if (count <= 1) { /* nothing to choose between */
      c.timed = 1;
    } else {
      if (select_hook) select_hook(&c, 0);
      CLT_TRY(time_candidates(ctx, s, cands, count, left, NULL, NULL, &c));
      if (select_hook) select_hook(&c, 1);
    }
  }
  if (!remember(s, &c)) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  save_stored(ctx, s);
  *out = c.variant;
  return CLT_OK;
}

void clt_gemm_force(clt_ctx *ctx, const clt_gemm_variant *v) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (!s) return;
  s->forced = v != NULL;
  if (v) s->force = *v;
}

int clt_gemm_is_forced(clt_ctx *ctx) {
  return ctx->gemm && ctx->gemm->forced;
}

const clt_gemm_choice *clt_gemm_last(clt_ctx *ctx) {
  return ctx->gemm && ctx->gemm->last.m ? &ctx->gemm->last : NULL;
}

double clt_gemm_selection_seconds(clt_ctx *ctx, int *shapes) {
  if (shapes) *shapes = ctx->gemm ? ctx->gemm->timed_shapes : 0;
  return ctx->gemm ? ctx->gemm->select_seconds : 0.0;
}

int clt_gemm_choices(clt_ctx *ctx, const clt_gemm_choice **out) {
  clt_gemm_state *s = clt_gemm_state_get(ctx);
  if (s && !s->loaded && strcmp(mode(ctx), "auto") == 0) load_stored(ctx, s);
  *out = s ? s->choices : NULL;
  return s ? s->choice_count : 0;
}
