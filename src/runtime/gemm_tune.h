/* Tuned CLBlast SGEMM kernel parameters ("cltrain tune"). CLBlast 1.5.3 has no tuned
 * values for many devices (PoCL CPUs among them) and falls back to generic ones. The
 * tuner times candidate parameter sets of CLBlast's Xgemm kernel (the "indirect" GEMM
 * that every product above CLBlast's size threshold runs) on the GEMM shapes of one
 * training step of a model, and stores the best in the cache folder, keyed by device
 * name, driver version and platform version. clt_ctx_create applies a stored set
 * (CLBlastOverrideParameters) unless $CLTRAIN_GEMM_TUNE is "0". */
#ifndef CLT_RUNTIME_GEMM_TUNE_H
#define CLT_RUNTIME_GEMM_TUNE_H

#include <stddef.h>

#include "runtime/context.h"
#include "runtime/gemm.h"

/* The kernels and parameters of CLBlast 1.5.3's SGEMM: "Xgemm" (the indirect GEMM with
 * helper kernels that pad and transpose), "XgemmDirect" (one kernel, used below a size
 * threshold) and "GemmRoutine" (XGEMM_MIN_INDIRECT_SIZE: products with m x n x k below its
 * cube run direct). */
#define CLT_GEMM_PARAMS        16
#define CLT_GEMM_DIRECT_PARAMS 10
extern const char *const clt_gemm_param_names[CLT_GEMM_PARAMS];
extern const char *const clt_gemm_direct_param_names[CLT_GEMM_DIRECT_PARAMS];

typedef struct clt_gemm_params {
  int has_xgemm, has_direct, has_threshold; /* which of the three are set */
  size_t v[CLT_GEMM_PARAMS];                /* Xgemm, in clt_gemm_param_names' order */
  size_t d[CLT_GEMM_DIRECT_PARAMS];         /* XgemmDirect */
  size_t min_indirect;                      /* GemmRoutine XGEMM_MIN_INDIRECT_SIZE */
} clt_gemm_params;

/* Starting points: Xgemm and XgemmDirect values close to CLBlast's generic defaults (all
 * three set; the threshold 0 means "leave CLBlast's"). */
void clt_gemm_params_default(clt_gemm_params *p);
/* 1 when the set parts satisfy CLBlast's constraints for a device allowing max_wg
 * work-items per group and local_bytes of local memory. */
int clt_gemm_params_valid(const clt_gemm_params *p, size_t max_wg, size_t local_bytes);
/* The set parts, one line each: "Xgemm KWG=32 KWI=2 ...", "XgemmDirect ...",
 * "GemmRoutine XGEMM_MIN_INDIRECT_SIZE=N"; lines end with '\n'. */
void clt_gemm_params_format(const clt_gemm_params *p, char *buf, size_t size);

/* Makes CLBlast use p for SGEMM on ctx's device from the next call on. */
clt_status clt_gemm_params_apply(clt_ctx *ctx, const clt_gemm_params *p);

/* The tuning file of ctx's device: DIR/gemm-tune-KEY.txt, DIR the cache folder
 * (program_cache.h). Returns 0 on success. */
int clt_gemm_tune_path(const clt_ctx *ctx, char *buf, size_t size);
/* Reads a tuning file whose stored key equals key (clt_gemm_tune_key): 1 with *p filled (tuned = 1)
 * or with tuned = 0 when the search found nothing better than CLBlast's defaults; 0 when absent or
 * unreadable (a kernel line must give every parameter of its kernel). */
int clt_gemm_tune_load(const char *path, const char *key, clt_gemm_params *p, int *tuned);
/* Writes it atomically (temporary file, rename); p NULL records "defaults are best". */
clt_status clt_gemm_tune_save(const char *path, const char *key, const clt_gemm_params *p,
                              const char *comment);
/* The key a tuning file of ctx's device stores and proves ("key" line): device name, driver
 * version and platform version. A file whose key differs (copied from another device, or a
 * file name collision) is not used. */
void clt_gemm_tune_key(const clt_ctx *ctx, char *buf, size_t size);
/* Applies the stored parameters of ctx's device, if any ($CLTRAIN_GEMM_TUNE=0: never).
 * Sets ctx->gemm_tuned. Never fails: a bad file is ignored with a warning. */
void clt_gemm_tune_apply_stored(clt_ctx *ctx);

/* One GEMM of a model's step: transposes, sizes and calls per step. */
typedef struct clt_gemm_shape {
  clt_trans ta, tb;
  size_t m, n, k;
  int count;
} clt_gemm_shape;

/* Seconds for one pass over shapes (each run count times) with the parameters in
 * force: the best of reps timed passes after one untimed (compiling) pass. */
clt_status clt_gemm_time_shapes(clt_ctx *ctx, const clt_gemm_shape *shapes, int n, int reps,
                                double *seconds);

typedef void (*clt_tune_report_fn)(int index, const clt_gemm_params *p, double seconds, int valid,
                                   void *user);

/* Searches, at most max_candidates timed sets (each one a kernel compile): CLBlast's own
 * defaults first (default_s, before any override); then every product sent to Xgemm
 * (threshold 1) and a coordinate search over its tile sizes, work-group shape, vector
 * widths, KWG, KWI and local-memory caching; then thresholds that split the shapes between
 * the tuned Xgemm and XgemmDirect; then, when the best split sends some products to
 * XgemmDirect, a coordinate search over its parameters. best: the fastest set and its
 * time. Leaves best applied. */
clt_status clt_gemm_tune_search(clt_ctx *ctx, const clt_gemm_shape *shapes, int n,
                                int max_candidates, clt_tune_report_fn report, void *user,
                                double *default_s, clt_gemm_params *best, double *best_s);

#endif
