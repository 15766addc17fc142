/* gemm-bench: the engine's SGEMM, CLBlast and OpenBLAS side by side, in one run, on 1024^3,
 * 2048^3 and the GEMM shapes of one fashion_cnn training step at batch 64.
 *
 *   gemm-bench [--device SPEC] [--quick] [--all] [--variant NAME]... [--shape TA TB M N K]
 *              [--reps N] [--each]
 *
 * OpenBLAS (Debian's libopenblas, pthreads) runs with one thread per core; the CPU's
 * practical SGEMM ceiling. OpenBLAS 0.3.21 mis-detects some AVX-512 CPUs, so when the CPU
 * has avx512f and OPENBLAS_CORETYPE is unset the program sets it to SkylakeX and runs itself
 * again (OpenBLAS reads it when it loads). Engine: the device default variant and the best
 * of the start-up candidates (--all: of the `cltrain tune` candidates); CLBlast with its
 * tuned parameters when `cltrain tune --clblast` stored some. Times: best of up to N calls
 * (--reps, default 5; fewer when they take over 0.05 + 0.03 N s) after one untimed call; GFLOP/s =
 * 2 m n k / time. --quick: 1024^3 and 2048^3 only. The OpenBLAS 1024^3 figure is stored in the
 * cache folder (openblas-ceiling.txt) for `cltrain bench`. --each: every candidate's figure too. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/clock.h"
#include "runtime/context.h"
#include "runtime/devices.h"
#include "runtime/gemm_choose.h"
#include "runtime/memory.h"
#include "runtime/program_cache.h"

void openblas_set_num_threads(int num_threads);

typedef struct shape {
  const char *what;
  clt_trans ta, tb;
  size_t m, n, k;
} shape;

static const shape shapes[] = {
    {"square 1024", CLT_N, CLT_N, 1024, 1024, 1024},
    {"square 2048", CLT_N, CLT_N, 2048, 2048, 2048},
    {"1 conv fwd", CLT_N, CLT_T, 43264, 32, 9},
    {"1 conv dW", CLT_T, CLT_N, 32, 9, 43264},
    {"3 conv fwd", CLT_N, CLT_T, 7744, 64, 288},
    {"3 conv dW", CLT_T, CLT_N, 64, 288, 7744},
    {"3 conv dX", CLT_N, CLT_N, 7744, 288, 64},
    {"5 conv fwd", CLT_N, CLT_T, 576, 64, 576},
    {"5 conv dW", CLT_T, CLT_N, 64, 576, 576},
    {"5 conv dX", CLT_N, CLT_N, 576, 576, 64},
    {"6 dense fwd", CLT_N, CLT_T, 64, 64, 576},
    {"6 dense dW", CLT_T, CLT_N, 64, 576, 64},
    {"6 dense dX", CLT_N, CLT_N, 64, 576, 64},
};

static int cpu_has_avx512f(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[8192];
  int found = 0;
  while (f && !found && fgets(line, sizeof line, f))
    if (strncmp(line, "flags", 5) == 0) found = strstr(line, " avx512f") != NULL;
  if (f) fclose(f);
  return found;
}

static int bench_reps = 5;

static double openblas_seconds(const shape *s, float *a, float *b, float *c) {
  double best = 1e30, spent = 0;
  int lda = s->ta == CLT_T ? (int)s->m : (int)s->k, ldb = s->tb == CLT_T ? (int)s->k : (int)s->n;
  for (int r = -1; r < bench_reps && spent < 0.05 + 0.03 * bench_reps; r++) {
    double t0 = clt_now_seconds();
    cblas_sgemm(CblasRowMajor, s->ta == CLT_T ? CblasTrans : CblasNoTrans,
                s->tb == CLT_T ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f,
                a, lda, b, ldb, 0.0f, c, (int)s->n);
    double t = clt_now_seconds() - t0;
    if (r >= 0 && t < best) best = t;
    if (r >= 0) spent += t;
  }
  return best;
}

/* Stores the OpenBLAS 1024^3 figure for `cltrain bench` (its ceiling on CPU devices). */
static void store_ceiling(const clt_ctx *ctx, double gflops, long cores) {
  char dir[1024], path[1200], tmp[1300], when[32];
  if (ctx->cache_dir[0])
    snprintf(dir, sizeof dir, "%s", ctx->cache_dir);
  else if (clt_cache_default_dir(dir, sizeof dir, getenv) != 0)
    return;
  snprintf(path, sizeof path, "%s/openblas-ceiling.txt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  time_t now = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "%.1f measured by gemm-bench %s, %ld threads, OPENBLAS_CORETYPE=%s\n", gflops, when,
          cores, getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
  if (fclose(f) != 0 || rename(tmp, path) != 0) unlink(tmp);
}

int main(int argc, char **argv) {
  const char *spec = "cpu";
  int quick = 0, all = 0, each = 0, nforced = 0;
  clt_gemm_variant forced[16];
  shape own;
  int has_own = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
      spec = argv[++i];
    else if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--all") == 0)
      all = 1;
    else if (strcmp(argv[i], "--each") == 0)
      each = 1;
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
      bench_reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--variant") == 0 && i + 1 < argc && nforced < 16 &&
             clt_gemm_variant_parse(argv[i + 1], &forced[nforced]))
      nforced++, i++;
    else if (strcmp(argv[i], "--shape") == 0 && i + 5 < argc) {
      own.what = "given";
      own.ta = argv[i + 1][0] == 'T' ? CLT_T : CLT_N;
      own.tb = argv[i + 2][0] == 'T' ? CLT_T : CLT_N;
      own.m = strtoul(argv[i + 3], NULL, 10), own.n = strtoul(argv[i + 4], NULL, 10);
      own.k = strtoul(argv[i + 5], NULL, 10);
      has_own = own.m && own.n && own.k;
      i += 5;
    } else {
      fprintf(stderr,
              "usage: gemm-bench [--device SPEC] [--quick] [--all] [--each] [--variant NAME]... "
              "[--shape TA TB M N K]\n");
      return 64;
    }
  }
  if (!getenv("OPENBLAS_CORETYPE") && cpu_has_avx512f()) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv);
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  openblas_set_num_threads((int)(cores > 0 ? cores : 1));

  clt_device_list list;
  int index = 0;
  clt_ctx *ctx = NULL;
  if (clt_device_list_query(&list) != CLT_OK || clt_device_select(&list, spec, &index) != CLT_OK ||
      clt_ctx_create(&list.devices[index], NULL, &ctx) != CLT_OK) {
    fprintf(stderr, "gemm-bench: %s\n", clt_last_error());
    return 69;
  }
  printf("device: %s (%s); OpenBLAS: %ld threads, OPENBLAS_CORETYPE=%s\n", ctx->dev.name,
         ctx->dev.platform_version, cores,
         getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
  printf("%-15s %-3s %20s %9s %9s %9s %-18s %9s %-18s %6s\n", "shape", "op", "m x n x k",
         "OpenBLAS", "CLBlast", "default", "(variant)", "best", "(variant)", "best%");
  clt_gemm_variant cands[64], def, clblast;
  memset(&clblast, 0, sizeof clblast);
  int count = 0;
  if (nforced) {
    memcpy(cands, forced, sizeof forced[0] * (size_t)nforced);
    count = nforced;
  }
  clt_gemm_default_variant(&ctx->dev, &def);
  int nshapes = quick ? 2 : (int)(sizeof shapes / sizeof shapes[0]);
  int rc = 0;
  if (has_own) nshapes = 1;
  for (int i = 0; i < nshapes && rc == 0; i++) {
    const shape *s = has_own ? &own : &shapes[i];
    float *a = calloc(s->m * s->k, sizeof(float)), *b = calloc(s->k * s->n, sizeof(float));
    float *c = calloc(s->m * s->n, sizeof(float));
    for (size_t j = 0; a && j < s->m * s->k; j++) a[j] = (float)((j * 7) % 13) * 0.1f - 0.6f;
    for (size_t j = 0; b && j < s->k * s->n; j++) b[j] = (float)((j * 5) % 11) * 0.1f - 0.5f;
    double flop = 2.0 * (double)s->m * (double)s->n * (double)s->k;
    double t_blas = a && b && c ? openblas_seconds(s, a, b, c) : 0;
    free(a), free(b), free(c);
    if (!nforced) count = clt_gemm_candidates_for(&ctx->dev, all, s->m, s->n, s->k, cands, 64);
    double t_clb = 0, t_def = 0, t_best = 1e30;
    clt_gemm_variant best = def;
    clt_status st =
        clt_gemm_time_variant(ctx, &clblast, s->ta, s->tb, s->m, s->n, s->k, bench_reps, &t_clb);
    if (st == CLT_OK)
      st = clt_gemm_time_variant(ctx, &def, s->ta, s->tb, s->m, s->n, s->k, bench_reps, &t_def);
    for (int v = 0; v < count && st == CLT_OK; v++) {
      if (cands[v].kind == CLT_GEMM_CLBLAST || !clt_gemm_variant_fits(ctx, &cands[v])) continue;
      double t = 0;
      st = clt_gemm_time_variant(ctx, &cands[v], s->ta, s->tb, s->m, s->n, s->k, bench_reps, &t);
      if (st == CLT_OK && each) {
        char vn[48];
        clt_gemm_variant_name(&cands[v], vn, sizeof vn);
        printf("  %-24s %9.1f\n", vn, flop / t * 1e-9);
      }
      if (st == CLT_OK && t < t_best) t_best = t, best = cands[v];
    }
    if (st != CLT_OK) {
      fprintf(stderr, "gemm-bench: %s\n", clt_last_error());
      rc = 70;
      break;
    }
    char dn[48], bn[48], dims[48];
    clt_gemm_variant_name(&def, dn, sizeof dn);
    clt_gemm_variant_name(&best, bn, sizeof bn);
    snprintf(dims, sizeof dims, "%zux%zux%zu", s->m, s->n, s->k);
    double g_blas = flop / t_blas * 1e-9, g_best = flop / t_best * 1e-9;
    printf("%-15s %c%c  %20s %9.1f %9.1f %9.1f %-18s %9.1f %-18s %5.0f%%\n", s->what,
           s->ta == CLT_T ? 'T' : 'N', s->tb == CLT_T ? 'T' : 'N', dims, g_blas,
           flop / t_clb * 1e-9, flop / t_def * 1e-9, dn, g_best, bn, 100.0 * g_best / g_blas);
    fflush(stdout);
    if (i == 0 && !has_own) store_ceiling(ctx, g_blas, cores);
  }
  printf("GFLOP/s; best%%: the best engine variant against OpenBLAS\n");
  clt_ctx_destroy(ctx);
  clt_device_list_free(&list);
  return rc;
}
