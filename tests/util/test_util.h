/* Shared helpers for the cmocka tests: the test device and contexts on it, host arrays of
 * doubles, and device buffers of floats made from them. Include after <cmocka.h>'s
 * prerequisites. See also expect.h (assertions), temp_files.h (files), layer_harness.h
 * (layers built from model text) and idx_bytes.h (IDX files). */
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

struct CMUnitTest;
/* The main() of a device test program: the test device (also into *ctx unless ctx is NULL),
 * or exit with CLT_SKIP_CODE when there is none; then the cmocka group tests with its group
 * setup and teardown (NULL: none); then the shared context released. Returns the number of
 * failed tests. */
#define CLT_RUN_DEVICE_TESTS(tests, ctx, setup, teardown)                                          \
  clt_test_run_on_device(#tests, tests, sizeof(tests) / sizeof((tests)[0]), ctx, setup, teardown)
int clt_test_run_on_device(const char *name, const struct CMUnitTest *tests, size_t count,
                           clt_ctx **ctx, int (*setup)(void **), int (*teardown)(void **));
/* A new context on the test device with the given kernel folder (NULL: the embedded kernels)
 * and kernel cache folder (NULL: the default); no_cache turns the cache off. Fails the test
 * when it cannot be created. Destroy it with clt_ctx_destroy(). */
clt_ctx *clt_test_ctx_with(const char *kernel_dir, const char *cache_dir, int no_cache);
/* A new kernel folder in the test program's temporary folder (temp_files.h) holding a copy of
 * cl/common.clh, which every kernel file is built after; its path into buf. */
void clt_test_make_kernel_dir(char *buf, size_t size);

/* n zeroed doubles (at least one), freed with free(); fails the test when out of memory. */
double *clt_test_alloc(size_t n);

/* Fills a double array with uniform values in [lo, hi) from a seeded stream. */
void clt_test_fill_uniform(double *a, size_t n, double lo, double hi, uint32_t seed);
/* n new doubles uniform in [lo, hi) from seed, rounded to float precision. */
double *clt_test_random(size_t n, double lo, double hi, uint32_t seed);

/* A device buffer holding a (converted to float). */
cl_mem clt_test_upload(clt_ctx *ctx, const double *a, size_t n);
/* A device buffer of n floats, all zero. */
cl_mem clt_test_zeros(clt_ctx *ctx, size_t n);
/* A device buffer of n floats, all value, written from the host (not filled: Oclgrind 21.10
 * does not see clEnqueueFillBuffer memory as initialised). Junk values show that a kernel
 * writes rather than adds. */
cl_mem clt_test_filled(clt_ctx *ctx, size_t n, double value);
/* Reads n floats back into doubles (blocking). */
void clt_test_download(clt_ctx *ctx, cl_mem mem, double *out, size_t n);

/* Largest |got - want| divided by max(max |want|, floor). Prints the worst
 * index on stderr when above tol; returns the relative error. */
double clt_test_rel_error(const char *what, const double *got, const double *want, size_t n,
                          double floor, double tol);

/* Rounds each value to float precision (so the reference sees the device's inputs). */
void clt_test_round_to_float(double *a, size_t n);

#endif
