/* Terminal facts for human output: colour only on a terminal and without NO_COLOR. */
#ifndef CLT_CLI_TERM_H
#define CLT_CLI_TERM_H

#include <stdio.h>

/* 1 when f is a terminal and $NO_COLOR is unset or empty. */
int clt_use_color(FILE *f);
/* 1 when f is a terminal (progress lines are redrawn in place only then). */
int clt_is_terminal(FILE *f);

#define CLT_BOLD  "\033[1m"
#define CLT_DIM   "\033[2m"
#define CLT_GREEN "\033[32m"
#define CLT_RED   "\033[31m"
#define CLT_RESET "\033[0m"

#endif
