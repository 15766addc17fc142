#include "runtime/gemm_tune.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/memory.h"
#include "runtime/program_cache.h"
#include "runtime/clock.h"
#include "runtime/file_check.h"

const char *const clt_gemm_param_names[CLT_GEMM_PARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
const char *const clt_gemm_direct_param_names[CLT_GEMM_DIRECT_PARAMS] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};
static const char *const threshold_name = "XGEMM_MIN_INDIRECT_SIZE";

enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN };
enum { KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA, PADB, VWMD, VWND, WGD };

void clt_gemm_params_default(clt_gemm_params *p) {
  static const size_t x[CLT_GEMM_PARAMS] = {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 1, 1, 0, 0, 4, 4};
  static const size_t d[CLT_GEMM_DIRECT_PARAMS] = {2, 8, 8, 8, 8, 1, 1, 1, 1, 32};
  memset(p, 0, sizeof *p);
  memcpy(p->v, x, sizeof x);
  memcpy(p->d, d, sizeof d);
  p->has_xgemm = p->has_direct = 1;
}

static int multiple(size_t x, size_t y) {
  return y > 0 && x % y == 0;
}

int clt_gemm_params_valid(const clt_gemm_params *p, size_t max_wg, size_t local_bytes) {
  if (p->has_xgemm) {
    const size_t *v = p->v;
    if (v[GEMMK] != 0 || v[KREG] != 1 || !v[MDIMA] || !v[NDIMB]) return 0;
    if (!multiple(v[KWG], v[KWI])) return 0;
    if (!multiple(v[MWG], v[MDIMC] * v[VWM]) || !multiple(v[NWG], v[NDIMC] * v[VWN])) return 0;
    if (!multiple(v[MWG], v[MDIMA] * v[VWM]) || !multiple(v[NWG], v[NDIMB] * v[VWN])) return 0;
    if (!multiple(v[KWG], v[MDIMC] * v[NDIMC] / v[MDIMA]) ||
        !multiple(v[KWG], v[MDIMC] * v[NDIMC] / v[NDIMB]))
      return 0;
    if (v[MDIMC] * v[NDIMC] > max_wg) return 0;
    if ((v[MWG] / v[MDIMC]) * (v[NWG] / v[NDIMC]) > 256) return 0;
    size_t local = (v[SA] ? v[KWG] * v[MWG] : 0) + (v[SB] ? v[KWG] * v[NWG] : 0);
    if (local * sizeof(float) > local_bytes) return 0;
  }
  if (p->has_direct) {
    const size_t *d = p->d;
    if (!d[MDIMAD] || !d[NDIMBD] || d[PADA] > 1 || d[PADB] > 1) return 0;
    if (!multiple(d[WGD], d[KWID])) return 0;
    if (!multiple(d[WGD], d[MDIMCD] * d[VWMD]) || !multiple(d[WGD], d[NDIMCD] * d[VWND])) return 0;
    if (!multiple(d[WGD], d[MDIMAD] * d[VWMD]) || !multiple(d[WGD], d[NDIMBD] * d[VWND])) return 0;
    if (!multiple(d[WGD], d[MDIMCD] * d[NDIMCD] / d[MDIMAD]) ||
        !multiple(d[WGD], d[MDIMCD] * d[NDIMCD] / d[NDIMBD]))
      return 0;
    if (d[MDIMCD] * d[NDIMCD] > max_wg) return 0;
    /* at most 64 outputs per work-item: larger tiles take PoCL minutes to compile */
    if ((d[WGD] / d[MDIMCD]) * (d[WGD] / d[NDIMCD]) > 64) return 0;
    if (2 * d[WGD] * (d[WGD] + 1) * sizeof(float) > local_bytes) return 0;
  }
  if (p->has_threshold && (p->min_indirect < 1 || p->min_indirect > 65536)) return 0;
  return 1;
}

static size_t format_line(char *buf, size_t size, const char *kernel, const char *const *names,
                          const size_t *v, int n) {
  size_t used = 0;
  int w = snprintf(buf, size, "%s", kernel);
  if (w > 0) used = (size_t)w;
  for (int i = 0; i < n && used < size; i++) {
    w = snprintf(buf + used, size - used, " %s=%zu", names[i], v[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (used + 1 < size) {
    buf[used++] = '\n';
    buf[used] = '\0';
  }
  return used < size ? used : size;
}

void clt_gemm_params_format(const clt_gemm_params *p, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  if (p->has_xgemm)
    used +=
        format_line(buf + used, size - used, "Xgemm", clt_gemm_param_names, p->v, CLT_GEMM_PARAMS);
  if (p->has_direct && used < size)
    used += format_line(buf + used, size - used, "XgemmDirect", clt_gemm_direct_param_names, p->d,
                        CLT_GEMM_DIRECT_PARAMS);
  if (p->has_threshold && used < size)
    format_line(buf + used, size - used, "GemmRoutine", &threshold_name, &p->min_indirect, 1);
}

static clt_status override(clt_ctx *ctx, const char *kernel, const char *const *names,
                           const size_t *v, int n) {
  CLBlastStatusCode code = CLBlastOverrideParameters(ctx->dev.id, kernel, CLBlastPrecisionSingle,
                                                     (size_t)n, (const char **)names, v);
  if (code != CLBlastSuccess)
    return clt_fail(CLT_ERR_DEVICE, "CLBlastOverrideParameters(%s) failed with status %d", kernel,
                    (int)code);
  return CLT_OK;
}

clt_status clt_gemm_params_apply(clt_ctx *ctx, const clt_gemm_params *p) {
  if (p->has_xgemm) CLT_TRY(override(ctx, "Xgemm", clt_gemm_param_names, p->v, CLT_GEMM_PARAMS));
  if (p->has_direct)
    CLT_TRY(
        override(ctx, "XgemmDirect", clt_gemm_direct_param_names, p->d, CLT_GEMM_DIRECT_PARAMS));
  if (p->has_threshold) CLT_TRY(override(ctx, "GemmRoutine", &threshold_name, &p->min_indirect, 1));
  return CLT_OK;
}

int clt_gemm_tune_path(const clt_ctx *ctx, char *buf, size_t size) {
  char dir[1024];
  if (!ctx->cache_dir[0]) return -1; /* the context was given no cache folder */
  snprintf(dir, sizeof dir, "%s", ctx->cache_dir);
  static const char what[] = "clblast-1.5-xgemm-tune-1";
  clt_cache_key_parts parts = {what,          sizeof what - 1,         "",
                               ctx->dev.name, ctx->dev.driver_version, ctx->dev.platform_version};
  char key[33];
  clt_cache_key(&parts, key);
  int n = snprintf(buf, size, "%s/gemm-tune-%s.txt", dir, key);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Parses "NAME=VALUE ..." after a kernel name into v by names; 1 when all n were given. */
static int parse_values(char *rest, const char *const *names, int n, size_t *v) {
  unsigned seen = 0;
  char *save = NULL;
  for (char *tok = strtok_r(rest, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) return 0;
    *eq = '\0';
    int found = 0;
    for (int i = 0; i < n; i++)
      if (strcmp(tok, names[i]) == 0) {
        char *end;
        unsigned long x = strtoul(eq + 1, &end, 10);
        if (eq[1] == '\0' || *end != '\0' || x > 65536 || (seen & (1u << i))) return 0;
        v[i] = x;
        seen |= 1u << i;
        found = 1;
      }
    if (!found) return 0;
  }
  return seen == (1u << n) - 1;
}

/* File: comment lines "# ...", then "defaults", or lines "Xgemm ...", "XgemmDirect ...",
 * "GemmRoutine ..." with every parameter of the kernel. */
void clt_gemm_tune_key(const clt_ctx *ctx, char *buf, size_t size) {
  snprintf(buf, size, "%s|%s|%s", ctx->dev.name, ctx->dev.driver_version,
           ctx->dev.platform_version);
  for (char *c = buf; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
}

int clt_gemm_tune_load(const char *path, const char *key, clt_gemm_params *p, int *tuned) {
  FILE *f;        /* type-checked first: a FIFO or device is skipped, not read */
  struct stat sb; /* a miss is not an error: no message recorded */
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
      clt_file_fopen_read(path, "GEMM tuning file", NULL, &f, NULL) != CLT_OK)
    return 0;
  char line[1024];
  clt_gemm_params q;
  memset(&q, 0, sizeof q);
  int ok = 1, defaults = 0, lines = 0, keyed = 0;
  while (ok && fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (strncmp(line, "key ", 4) == 0) { /* the file proves which device it was made for */
      line[strcspn(line, "\n")] = '\0';
      ok = !keyed && strcmp(line + 4, key) == 0;
      keyed = 1;
      continue;
    }
    lines++;
    char *sp = strchr(line, ' ');
    if (strncmp(line, "defaults", 8) == 0 && (line[8] == '\n' || line[8] == '\0')) {
      defaults = 1;
      continue;
    }
    if (!sp) {
      ok = 0;
      break;
    }
    *sp = '\0';
    if (strcmp(line, "Xgemm") == 0 && !q.has_xgemm)
      ok = q.has_xgemm = parse_values(sp + 1, clt_gemm_param_names, CLT_GEMM_PARAMS, q.v);
    else if (strcmp(line, "XgemmDirect") == 0 && !q.has_direct)
      ok = q.has_direct =
          parse_values(sp + 1, clt_gemm_direct_param_names, CLT_GEMM_DIRECT_PARAMS, q.d);
    else if (strcmp(line, "GemmRoutine") == 0 && !q.has_threshold)
      ok = q.has_threshold = parse_values(sp + 1, &threshold_name, 1, &q.min_indirect);
    else
      ok = 0;
  }
  fclose(f);
  if (!ok || !keyed || lines == 0 || (defaults && lines != 1)) return 0;
  *tuned = !defaults;
  if (!defaults) *p = q;
  return 1;
}

clt_status clt_gemm_tune_save(const char *path, const char *key, const clt_gemm_params *p,
                              const char *comment) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return clt_fail(CLT_ERR_IO, "cannot write %s", tmp);
  fprintf(f, "# cltrain tune: CLBlast Xgemm parameters for SGEMM%s%s\n", comment ? "; " : "",
          comment ? comment : "");
  fprintf(f, "key %s\n", key);
  if (p) {
    char text[1024];
    clt_gemm_params_format(p, text, sizeof text);
    fputs(text, f);
  } else {
    fprintf(f, "defaults\n");
  }
  int bad = ferror(f);
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    remove(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write %s", path);
  }
  return CLT_OK;
}

void clt_gemm_tune_apply_stored(clt_ctx *ctx) {
  ctx->gemm_tuned = 0;
  if (ctx->no_gemm_tune) return;
  char path[2048];
  if (clt_gemm_tune_path(ctx, path, sizeof path) != 0) return;
  clt_gemm_params p;
  int tuned = 0;
  char key[1024];
  clt_gemm_tune_key(ctx, key, sizeof key);
  if (!clt_gemm_tune_load(path, key, &p, &tuned) || !tuned) return;
  if (!clt_gemm_params_valid(&p, ctx->dev.max_work_group, (size_t)ctx->dev.local_mem)) {
    clt_warn("ignoring %s: its GEMM parameters do not fit this device; run 'cltrain tune' again",
             path);
    return;
  }
  if (clt_gemm_params_apply(ctx, &p) != CLT_OK) {
    clt_warn("ignoring %s: %s", path, clt_last_error());
    return;
  }
  ctx->gemm_tuned = 1;
}

/* ---- timing ---- */

clt_status clt_gemm_time_shapes(clt_ctx *ctx, const clt_gemm_shape *shapes, int n, int reps,
                                double *seconds) {
  size_t na = 1, nb = 1, nc = 1;
  for (int i = 0; i < n; i++) {
    const clt_gemm_shape *s = &shapes[i];
    if (s->m * s->k > na) na = s->m * s->k;
    if (s->k * s->n > nb) nb = s->k * s->n;
    if (s->m * s->n > nc) nc = s->m * s->n;
  }
  cl_mem a = NULL, b = NULL, c = NULL;
  clt_status st = clt_buffer_create(ctx, na * sizeof(float), &a);
  if (st == CLT_OK) st = clt_buffer_create(ctx, nb * sizeof(float), &b);
  if (st == CLT_OK) st = clt_buffer_create(ctx, nc * sizeof(float), &c);
  if (st == CLT_OK) st = clt_buffer_zero(ctx, a, 0, na * sizeof(float));
  if (st == CLT_OK) st = clt_buffer_zero(ctx, b, 0, nb * sizeof(float));
  double best = -1;
  for (int r = -1; r < reps && st == CLT_OK; r++) {
    double t = clt_now_seconds();
    for (int i = 0; i < n && st == CLT_OK; i++) {
      const clt_gemm_shape *s = &shapes[i];
      size_t lda = s->ta == CLT_T ? s->m : s->k, ldb = s->tb == CLT_T ? s->k : s->n;
      for (int j = 0; j < s->count && st == CLT_OK; j++)
        st = clt_sgemm(ctx, s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, 0, lda, b, 0, ldb, 0.0f, c, 0,
                       s->n);
    }
    if (st == CLT_OK) st = clt_ctx_finish(ctx);
    double dt = clt_now_seconds() - t;
    if (r >= 0 && (best < 0 || dt < best)) best = dt;
  }
  clt_buffer_release(&a);
  clt_buffer_release(&b);
  clt_buffer_release(&c);
  if (st == CLT_OK) *seconds = best;
  return st;
}

/* ---- search ---- */

typedef struct tried {
  clt_gemm_params p;
  double s; /* < 0: failed */
} tried;

typedef struct search {
  clt_ctx *ctx;
  const clt_gemm_shape *shapes;
  int n, max, count;
  tried *seen;
  clt_tune_report_fn report;
  void *user;
  clt_gemm_params best;
  double best_s;
} search;

static int same(const clt_gemm_params *a, const clt_gemm_params *b) {
  return a->has_xgemm == b->has_xgemm && a->has_direct == b->has_direct &&
         a->has_threshold == b->has_threshold && a->min_indirect == b->min_indirect &&
         memcmp(a->v, b->v, sizeof a->v) == 0 && memcmp(a->d, b->d, sizeof a->d) == 0;
}

/* Time of p (memoised); < 0 when invalid, failing, or over the budget. */
static double evaluate(search *S, const clt_gemm_params *p) {
  for (int i = 0; i < S->count; i++)
    if (same(&S->seen[i].p, p)) return S->seen[i].s;
  if (S->count >= S->max) return -1;
  if (!clt_gemm_params_valid(p, S->ctx->dev.max_work_group, (size_t)S->ctx->dev.local_mem))
    return -1; /* not counted against the budget */
  double s = -1;
  if (clt_gemm_params_apply(S->ctx, p) != CLT_OK ||
      clt_gemm_time_shapes(S->ctx, S->shapes, S->n, 3, &s) != CLT_OK)
    s = -1;
  S->seen[S->count].p = *p;
  S->seen[S->count].s = s;
  S->count++;
  if (s > 0 && (S->best_s < 0 || s < S->best_s)) {
    S->best = *p;
    S->best_s = s;
  }
  if (S->report) S->report(S->count, p, s, 1, S->user);
  return s;
}

/* One coordinate at a time: for each, tries its options and keeps the fastest. */
static void coordinate_search(search *S, clt_gemm_params *cur, int direct) {
  static const size_t tiles[][2] = {{64, 64}, {32, 32}, {128, 128}, {128, 64}, {64, 128}};
  static const size_t threads[][2] = {{8, 8}, {4, 4}, {16, 16}, {16, 8}, {8, 16}};
  static const size_t vw[] = {4, 2, 8, 1};
  static const size_t kw[] = {32, 16, 64, 8};
  static const size_t ki[] = {2, 1, 8};
  static const size_t flags[][2] = {{1, 1}, {0, 0}, {1, 0}, {0, 1}};
  static const int options_of[7] = {5, 5, 4, 4, 3, 4, 3};
  double cur_s = evaluate(S, cur);
  for (int coord = 0; coord < 7; coord++) {
    clt_gemm_params base = *cur;
    for (int o = 0; o < options_of[coord]; o++) {
      clt_gemm_params p = base;
      size_t *v = p.v, *d = p.d;
      switch (coord) {
      case 0: /* tile (Xgemm) or work-group tile (XgemmDirect: square, WGD) */
        if (direct) {
          if (o >= 4) continue;
          d[WGD] = kw[o];
        } else {
          v[MWG] = tiles[o][0];
          v[NWG] = tiles[o][1];
        }
        break;
      case 1:
        if (direct) {
          d[MDIMCD] = d[MDIMAD] = threads[o][0];
          d[NDIMCD] = d[NDIMBD] = threads[o][1];
        } else {
          v[MDIMC] = v[MDIMA] = threads[o][0];
          v[NDIMC] = v[NDIMB] = threads[o][1];
        }
        break;
      case 2:
        (direct ? d : v)[direct ? VWMD : VWM] = vw[o];
        break;
      case 3:
        (direct ? d : v)[direct ? VWND : VWN] = vw[o];
        break;
      case 4:
        if (direct)
          d[KWID] = ki[o];
        else
          v[KWG] = kw[o];
        break;
      case 5:
        if (direct) {
          if (o >= 2) continue;
          d[PADA] = d[PADB] = flags[o][0];
        } else {
          v[SA] = flags[o][0];
          v[SB] = flags[o][1];
        }
        break;
      default:
        if (direct) continue;
        v[KWI] = ki[o];
        break;
      }
      double s = evaluate(S, &p);
      if (s > 0 && (cur_s < 0 || s < cur_s)) {
        *cur = p;
        cur_s = s;
      }
    }
  }
}

clt_status clt_gemm_tune_search(clt_ctx *ctx, const clt_gemm_shape *shapes, int n,
                                int max_candidates, clt_tune_report_fn report, void *user,
                                double *default_s, clt_gemm_params *best, double *best_s) {
  CLT_TRY(clt_gemm_time_shapes(ctx, shapes, n, 3, default_s));
  search S;
  memset(&S, 0, sizeof S);
  S.ctx = ctx;
  S.shapes = shapes;
  S.n = n;
  S.max = max_candidates;
  S.report = report;
  S.user = user;
  S.best_s = -1;
  S.seen = calloc((size_t)(max_candidates > 0 ? max_candidates : 1), sizeof *S.seen);
  if (!S.seen) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory (tune)");
  clt_gemm_params cur;
  clt_gemm_params_default(&cur);
  cur.has_threshold = 1;
  /* Every product through Xgemm; then the split between the tuned Xgemm and CLBlast's
   * XgemmDirect; then, with what budget is left, XgemmDirect at the best split (its
   * candidates compile slowly on PoCL: 15-40 s each). */
  static const size_t thresholds[] = {128, 256, 384, 512, 768, 65536};
  cur.min_indirect = 1;
  coordinate_search(&S, &cur, 0);
  cur = S.best;
  for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
    clt_gemm_params p = cur;
    p.min_indirect = thresholds[i];
    evaluate(&S, &p);
  }
  cur = S.best;
  if (cur.min_indirect > 1) coordinate_search(&S, &cur, 1);
  free(S.seen);
  if (S.best_s < 0) return clt_fail(CLT_ERR_DEVICE, "no SGEMM parameter set ran on this device");
  *best = S.best;
  *best_s = S.best_s;
  return clt_gemm_params_apply(ctx, &S.best);
}
