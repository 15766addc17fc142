#include <stdio.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int clt_cmd_train(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cltrain train: not built yet\n");
  return CLT_EXIT_INTERNAL;
}
