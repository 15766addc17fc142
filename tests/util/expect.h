/* Assertions shared by the cmocka tests: a call that must succeed (OK), a call that must fail
 * with a given status and message (EXPECT_FAIL), the last error message (EXPECT_MESSAGE_HAS),
 * and arrays of doubles close to expected values (clt_test_expect_near, EXPECT_CLOSE).
 * Failures are reported at the caller's file and line. Include after <cmocka.h>. */
#ifndef CLT_TEST_EXPECT_H
#define CLT_TEST_EXPECT_H

#include <stddef.h>

#include "cltrain/status.h"

/* Fails the test, with the call and the last error message, unless expr returns CLT_OK. */
#define OK(expr)                                                                                   \
  do {                                                                                             \
    clt_status st_ = (expr);                                                                       \
    if (st_ != CLT_OK) clt_expect_ok_at(__FILE__, __LINE__, #expr, st_);                           \
  } while (0)

/* Clears the last error, runs expr and fails the test unless it returns status want with
 * needle in the last error message (NULL: any message). */
#define EXPECT_FAIL(expr, want, needle)                                                            \
  do {                                                                                             \
    clt_clear_error();                                                                             \
    clt_status st_ = (expr);                                                                       \
    clt_expect_status_at(__FILE__, __LINE__, #expr, st_, (want), (needle));                        \
  } while (0)

/* Fails the test unless the last error message contains needle. */
#define EXPECT_MESSAGE_HAS(needle) clt_expect_message_has_at(__FILE__, __LINE__, (needle))

/* Fails the test unless clt_test_rel_error(what, got, want, n, floor, tol) is at most tol:
 * the largest |got - want| over max(max |want|, floor). */
#define EXPECT_CLOSE(what, got, want, n, floor, tol)                                               \
  clt_expect_close_at(__FILE__, __LINE__, (what), (got), (want), (n), (floor), (tol))

/* Fails the test unless |got[i] - want[i]| <= tol * max(1, |want[i]|) for every i < n. */
void clt_test_expect_near(const double *got, const double *want, long n, double tol);

void clt_expect_ok_at(const char *file, int line, const char *call, clt_status st);
void clt_expect_status_at(const char *file, int line, const char *call, clt_status got,
                          clt_status want, const char *needle);
void clt_expect_message_has_at(const char *file, int line, const char *needle);
void clt_expect_close_at(const char *file, int line, const char *what, const double *got,
                         const double *want, size_t n, double floor, double tol);

#endif
