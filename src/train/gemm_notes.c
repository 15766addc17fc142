#include "train/gemm_notes.h"

#include "runtime/clock.h"
#include "runtime/gemm_choose.h"

static FILE *notes_out;
static int notes_header;
static double notes_start;

static void note(const clt_gemm_choice *c, int done) {
  if (!notes_out) return;
  if (!done) {
    if (!notes_header)
      fprintf(notes_out, "Choosing GEMM kernels for this device (timed once, then stored):\n");
    notes_header = 1;
    notes_start = clt_now_seconds();
    return;
  }
  char name[48];
  clt_gemm_variant_name(&c->variant, name, sizeof name);
  fprintf(notes_out, "  %c%c %zux%zux%zu: %s, %.2f ms per call (%.2f s to choose)\n",
          c->ta == CLT_T ? 'T' : 'N', c->tb == CLT_T ? 'T' : 'N', c->m, c->n, c->k, name,
          c->seconds * 1e3, clt_now_seconds() - notes_start);
  fflush(notes_out);
}

void clt_train_gemm_notes(FILE *out) {
  notes_out = out;
  notes_header = 0;
  clt_gemm_set_select_hook(out ? note : NULL);
}
