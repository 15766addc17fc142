/* Which SGEMM runs for a shape: an engine variant (gemm_engine.h) or CLBlast, chosen per
 * device, driver and shape (transposes, m, n, k) by timing.
 *
 * The first call of a shape times a few candidates on scratch operands of that shape (the
 * start-up candidates of the device type) within a per-context budget ($CLTRAIN_GEMM_BUDGET
 * seconds, default 8); past the budget a new shape gets the device default untimed. Every
 * decision is stored in the cache folder, file gemm-choice-KEY.txt, KEY over the device
 * name, driver and platform versions and the engine kernel sources; the file repeats its
 * key on its first line, is written to a temporary file and renamed, and is ignored
 * (decided again) when foreign, stale or unreadable. Later runs reuse the stored
 * decisions, so a resumed run computes with the same kernels as the run it resumes.
 * Engine variants give bitwise identical results (every element sums k in order with
 * fma), so only a CLBlast choice changes bits; an untimed shape is later timed over
 * engine variants only.
 *
 * $CLTRAIN_GEMM: "auto" (default, as above), "default" (the device default for every
 * shape, no timing, nothing read or stored: deterministic), "clblast", or a variant name
 * ("cpu:8x32:k4"; one that cannot run a call falls back to the default). */
#ifndef CLT_RUNTIME_GEMM_CHOOSE_H
#define CLT_RUNTIME_GEMM_CHOOSE_H

#include <stddef.h>

#include "runtime/context.h"
#include "runtime/gemm.h"
#include "runtime/gemm_engine.h"

typedef struct clt_gemm_choice {
  clt_trans ta, tb;
  size_t m, n, k;
  clt_gemm_variant variant;
  int timed;      /* 1: measured against the other candidates; 0: the device default */
  double seconds; /* the winner's time per call when timed */
} clt_gemm_choice;

/* The variant a device starts from with no measurement: PoCL CPU devices the float16
 * register tile (8 x 32 where 16-wide vectors are native, 6 x 16 otherwise), other CPU
 * implementations CLBlast (the float16 tile is PoCL-specific: rusticl's llvmpipe runs it
 * slower than CLBlast), other devices the local-memory tiling sized to the work-group and
 * local-memory limits. */
void clt_gemm_default_variant(const clt_device_info *dev, clt_gemm_variant *v);

/* Candidates for dev: a handful for first-use timing (wide 0) or the `cltrain tune` search
 * (wide 1); both start with the default. CLBlast is a start-up candidate on GPUs only (on
 * PoCL its first compile costs 10-20 s and it measures several times slower); with wide it
 * is always one. Other CPU implementations than PoCL: CLBlast alone at start-up. Returns the
 * count (at most max). */
int clt_gemm_candidates(const clt_device_info *dev, int wide, clt_gemm_variant *out, int max);

/* clt_gemm_candidates plus, on CPUs, forms for the shape: the cache-blocked one for large
 * products, split K (sized to give every core work) for few tiles of C and a long k. At
 * start-up (wide 0) the narrow tile only for few tiles of the default and a long k. */
int clt_gemm_candidates_for(const clt_device_info *dev, int wide, size_t m, size_t n, size_t k,
                            clt_gemm_variant *out, int max);

/* The variants `cltrain check` and the tests cover on dev: the default, the start-up
 * candidates, and odd tiles, packings, blocking (with a K block smaller than small test
 * shapes) and local-memory tilings that fit; CLBlast last. Returns the count. */
int clt_gemm_check_variants(clt_ctx *ctx, clt_gemm_variant *out, int max);

/* The decision for a call of this shape (looked up, or made now by timing). */
clt_status clt_gemm_choose(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n, size_t k,
                           clt_gemm_variant *out);

/* Seconds per call of v on scratch operands of the shape: the best of up to reps timed
 * calls after one untimed call (which compiles). */
clt_status clt_gemm_time_variant(clt_ctx *ctx, const clt_gemm_variant *v, clt_trans ta,
                                 clt_trans tb, size_t m, size_t n, size_t k, int reps,
                                 double *seconds);

typedef void (*clt_gemm_tune_fn)(const clt_gemm_variant *v, double seconds, void *user);

/* Times every candidate on the shape, records and stores the fastest (timed). */
clt_status clt_gemm_tune_shape(clt_ctx *ctx, clt_trans ta, clt_trans tb, size_t m, size_t n,
                               size_t k, const clt_gemm_variant *cands, int count,
                               clt_gemm_tune_fn report, void *user, clt_gemm_choice *best);

/* Makes every following call run v (NULL: back to the chooser). For checks and benches. */
void clt_gemm_force(clt_ctx *ctx, const clt_gemm_variant *v);
/* 1 while clt_gemm_force holds a variant. */
int clt_gemm_is_forced(clt_ctx *ctx);
/* The decision the latest clt_sgemm call ran with (NULL before any). */
const clt_gemm_choice *clt_gemm_last(clt_ctx *ctx);
/* Seconds spent timing candidates in this context, and the shapes timed. */
double clt_gemm_selection_seconds(clt_ctx *ctx, int *shapes);
/* The decisions known to this context (loaded or made). */
int clt_gemm_choices(clt_ctx *ctx, const clt_gemm_choice **out);

/* Called when a shape's timing starts (done 0) and ends (done 1), e.g. for the progress
 * display. NULL: silent. */
typedef void (*clt_gemm_select_fn)(const clt_gemm_choice *c, int done);
void clt_gemm_set_select_hook(clt_gemm_select_fn fn);

/* The store: path of ctx's device (0 on success), its key line, load and save. */
int clt_gemm_choices_path(clt_ctx *ctx, char *buf, size_t size);
void clt_gemm_choices_key(clt_ctx *ctx, char *buf, size_t size);
/* Reads the decisions of a file whose first line is key; returns how many (malloc'd in
 * *out), 0 when absent, foreign or unreadable. */
int clt_gemm_choices_load(const char *path, const char *key, clt_gemm_choice **out);
clt_status clt_gemm_choices_save(const char *path, const char *key, const clt_gemm_choice *c,
                                 int count);

#endif
