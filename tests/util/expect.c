/* The assertions of expect.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"

#include <math.h>
#include <string.h>

#include "test_util.h"

void clt_expect_ok_at(const char *file, int line, const char *call, clt_status st) {
  print_error("ERROR: %s: %s (%s)\n", call, clt_last_error(), clt_status_string(st));
  _fail(file, line);
}

void clt_expect_status_at(const char *file, int line, const char *call, clt_status got,
                          clt_status want, const char *needle) {
  const char *msg = clt_last_error();
  if (got != want) {
    print_error("ERROR: %s: got %s (%s), want %s\n", call, clt_status_string(got), msg,
                clt_status_string(want));
    _fail(file, line);
  }
  if (needle && !strstr(msg, needle)) {
    print_error("ERROR: %s: message lacks '%s': %s\n", call, needle, msg);
    _fail(file, line);
  }
}

void clt_expect_message_has_at(const char *file, int line, const char *needle) {
  const char *msg = clt_last_error();
  if (!strstr(msg, needle)) {
    print_error("ERROR: expected '%s' in the message: %s\n", needle, msg);
    _fail(file, line);
  }
}

void clt_expect_close_at(const char *file, int line, const char *what, const double *got,
                         const double *want, size_t n, double floor, double tol) {
  double rel = clt_test_rel_error(what, got, want, n, floor, tol);
  if (!(rel <= tol)) {
    print_error("ERROR: %s: relative error %g above %g\n", what, rel, tol);
    _fail(file, line);
  }
}

void clt_test_expect_near(const double *got, const double *want, long n, double tol) {
  for (long i = 0; i < n; i++) {
    if (!(fabs(got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])))) {
      print_error("element %ld: got %.17g, want %.17g\n", i, got[i], want[i]);
      fail();
    }
  }
}
