/* One line per GEMM shape whose kernel is being chosen by timing (runtime/gemm_choose.h),
 * so that a first run says why its first step takes seconds. */
#ifndef CLT_CLI_GEMM_NOTES_H
#define CLT_CLI_GEMM_NOTES_H

#include <stdio.h>

/* Installs the note printer on out (NULL: silent). */
void clt_cli_gemm_notes(FILE *out);

#endif
