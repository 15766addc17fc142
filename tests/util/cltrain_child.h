/* The built cltrain binary (CLT_BINARY_DIR/cltrain) run as a child process by the
 * command-line tests, on the test device. */
#ifndef CLT_TEST_CLTRAIN_CHILD_H
#define CLT_TEST_CLTRAIN_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* 0 when the binary is there; else prints "no DIR/cltrain: build it first" on stderr and
 * returns 1 (main's exit code). */
int clt_test_cltrain_missing(void);

/* The test device (test_util.h) as a --device value, "PLATFORM:DEVICE", into buf. */
void clt_test_device_spec(char *buf, size_t size);

/* Starts cltrain with args (NULL-terminated, at most 44) and then "--device DEVICE", in
 * folder, its stdout and stderr in folder/out.txt and folder/err.txt; returns its pid. */
pid_t clt_test_cltrain_start(const char *folder, const char *device, const char *const *args);

/* Waits for the child pid; returns its exit code, or 128 + the signal that killed it. */
int clt_test_cltrain_wait(pid_t pid);

#endif
