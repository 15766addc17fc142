/* `cltrain check`: the cross-vendor conformance check (docs/PORTABILITY.md).
 *
 * A check is one row of the report: a name ("conv/3x3-s2-same"), the tolerance it is held
 * to, and a function that runs it on one device and compares the device's result with the
 * float64 reference (src/ref). The list of checks is the same on every device; it is built
 * from the layer registry (every layer type gets its rows, or a failing row saying that it
 * has none), the kernel files, the optimizers, the GEMM layouts and the training run.
 *
 * Groups, one file each: check_build.c (every kernel file builds), check_layers.c (every
 * layer's forward and backward), check_optim.c (every optimizer step), check_gemm.c
 * (CLBlast SGEMM in the layouts the engine uses), check_train.c (a small model trained for
 * a fixed number of steps against ref_train), check_augment.c (the training-data
 * augmentation against ref_augment). */
#ifndef CLT_CHECK_CHECK_H
#define CLT_CHECK_CHECK_H

#include <stddef.h>

#include "cltrain/status.h"
#include "runtime/context.h"

typedef enum clt_check_outcome { CLT_CHECK_PASS, CLT_CHECK_FAIL, CLT_CHECK_SKIP } clt_check_outcome;

typedef struct clt_check_result {
  clt_check_outcome outcome;
  double error;     /* the largest error relative to its tolerance's scale (see compare) */
  double tolerance; /* the tolerance of that comparison; error < 0 when nothing was compared */
  char what[64];    /* the output it belongs to: "dx", "loss at step 7" */
  char *detail;     /* FAIL: what went wrong (worst element, build log); SKIP: why. malloc'd */
  double seconds;
} clt_check_result;

/* What a check may use on its device. */
typedef struct clt_check_env {
  clt_ctx *ctx;
  int quick;       /* --quick: tiny shapes */
  size_t group;    /* a typical 1-D work-group size on this device (for the "wg+1" shapes) */
  unsigned quirks; /* runtime/quirks.h flags of the device */
} clt_check_env;

typedef struct clt_check clt_check;
typedef clt_status (*clt_check_fn)(const clt_check_env *env, const clt_check *check,
                                   clt_check_result *r);

struct clt_check {
  char name[80];
  char tolerance[96]; /* how its outputs are compared, for --list and the docs */
  clt_check_fn run;
  const void *arg; /* the case it runs (static data of its group) */
  int index;       /* a number that differs between cases of one group (seeds) */
};

typedef struct clt_check_list {
  int count, capacity;
  clt_check *items;
} clt_check_list;

/* Every check, in report order; quick: the --quick set (tiny shapes). */
clt_status clt_check_list_build(int quick, clt_check_list *list);
void clt_check_list_free(clt_check_list *list);

/* Keeps the checks whose name matches one of patterns: fnmatch(3) patterns ("conv/[13]x*"),
 * an exact name, or a group name ("conv" keeps every "conv/..."). Returns the number kept. */
int clt_check_list_filter(clt_check_list *list, const char *const *patterns, int count);

/* Runs every check of list on ctx into results[list->count] (each one's detail is
 * malloc'd: free with clt_check_result_clear). progress (may be NULL) is called before each. */
typedef void (*clt_check_progress_fn)(const clt_check *check, int index, int count, void *user);
void clt_check_run_all(clt_ctx *ctx, int quick, const clt_check_list *list,
                       clt_check_result *results, clt_check_progress_fn progress, void *user);

/* Marks every row of results as failed with message (a device that cannot be opened). */
void clt_check_fail_all(const clt_check_list *list, clt_check_result *results, const char *message);

void clt_check_result_clear(clt_check_result *r);
const char *clt_check_outcome_name(clt_check_outcome outcome); /* "PASS", "FAIL", "SKIP" */

#endif
