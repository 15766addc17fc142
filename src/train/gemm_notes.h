/* One line per GEMM shape whose kernel is being chosen by timing (runtime/gemm_choose.h),
 * so that a first run says why its first step takes seconds. */
#ifndef CLT_TRAIN_GEMM_NOTES_H
#define CLT_TRAIN_GEMM_NOTES_H

#include <stdio.h>

/* Installs the note printer on out (NULL: silent). One printer per process: the session
 * that warms up last owns it (a library user with several sessions sees the notes of the
 * newest in its message callback). */
void clt_train_gemm_notes(FILE *out);

#endif
