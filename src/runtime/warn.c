#include <stdarg.h>
#include <stdio.h>

#include "runtime/context.h"

static void default_warning(const char *message) {
  fprintf(stderr, "cltrain: warning: %s\n", message);
}

static clt_warning_fn warning_fn = default_warning;

/* A session's own warning callback while one of its calls runs on this thread. */
static _Thread_local clt_warning_route route;

clt_warning_route clt_warning_route_set(clt_warning_route r) {
  clt_warning_route old = route;
  route = r;
  return old;
}

void clt_set_warning_handler(clt_warning_fn fn) {
  warning_fn = fn ? fn : default_warning;
}

void clt_warn(const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (!route.active)
    warning_fn(buf);
  else if (route.fn)
    route.fn(buf, route.user);
}
