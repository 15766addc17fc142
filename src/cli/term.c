#include "cli/term.h"

#include <stdlib.h>
#include <unistd.h>

int clt_is_terminal(FILE *f) {
  return isatty(fileno(f));
}

int clt_use_color(FILE *f) {
  const char *no = getenv("NO_COLOR");
  return clt_is_terminal(f) && !(no && *no);
}
