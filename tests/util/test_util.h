/* Shared helpers for the cmocka tests. Include after <cmocka.h>'s prerequisites. */
#ifndef CLT_TEST_UTIL_H
#define CLT_TEST_UTIL_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/context.h"

#define CLT_SKIP_CODE 77

/* The device the device tests run on: $CLTRAIN_TEST_DEVICE, else the first
 * PoCL device, else the first device. Returns NULL when there is none (the
 * test program should then exit with CLT_SKIP_CODE). Cached: one per process. */
clt_ctx *clt_test_ctx(void);
/* As clt_test_ctx(), but exits with CLT_SKIP_CODE (after a message on stderr)
 * when no device is present. Call it at the top of main(). */
clt_ctx *clt_test_ctx_or_skip(void);
void clt_test_ctx_release(void);

/* Fills a double array with uniform values in [lo, hi) from a seeded stream. */
void clt_test_fill_uniform(double *a, size_t n, double lo, double hi, uint32_t seed);

/* A device buffer holding a (converted to float). */
cl_mem clt_test_upload(clt_ctx *ctx, const double *a, size_t n);
/* A device buffer of n floats, all zero. */
cl_mem clt_test_zeros(clt_ctx *ctx, size_t n);
/* Reads n floats back into doubles (blocking). */
void clt_test_download(clt_ctx *ctx, cl_mem mem, double *out, size_t n);

/* Largest |got - want| divided by max(max |want|, floor). Prints the worst
 * index on stderr when above tol; returns the relative error. */
double clt_test_rel_error(const char *what, const double *got, const double *want, size_t n,
                          double floor, double tol);

/* Rounds each value to float precision (so the reference sees the device's inputs). */
void clt_test_round_to_float(double *a, size_t n);

#endif
