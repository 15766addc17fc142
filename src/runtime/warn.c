#include <stdarg.h>
#include <stdio.h>

#include "runtime/context.h"

static void default_warning(const char *message) {
  fprintf(stderr, "cltrain: warning: %s\n", message);
}

static clt_warning_fn warning_fn = default_warning;

void clt_set_warning_handler(clt_warning_fn fn) {
  warning_fn = fn ? fn : default_warning;
}

void clt_warn(const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  warning_fn(buf);
}
