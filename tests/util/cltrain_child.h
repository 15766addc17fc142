/* The built cltrain binary (CLT_BINARY_DIR/cltrain) run as a child process by the
 * command-line tests, on the test device. */
#ifndef CLT_TEST_CLTRAIN_CHILD_H
#define CLT_TEST_CLTRAIN_CHILD_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "train/checkpoint.h"

/* 0 when the binary is there; else prints "no DIR/cltrain: build it first" on stderr and
 * returns 1 (main's exit code). */
int clt_test_cltrain_missing(void);

/* The test device (test_util.h) as a --device value, "PLATFORM:DEVICE", into buf. */
void clt_test_device_spec(char *buf, size_t size);

/* Starts cltrain with args (NULL-terminated, at most 44) and then "--device DEVICE", in
 * folder, its stdout and stderr in folder/out.txt and folder/err.txt; returns its pid. */
pid_t clt_test_cltrain_start(const char *folder, const char *device, const char *const *args);

/* From now on, children started by clt_test_cltrain_start are killed by SIGALRM (exit code
 * 128 + 14 = 142) after seconds (0: never): a test of something that must not hang fails
 * instead of hanging the suite. The alarm survives exec, so cltrain itself is bounded. */
void clt_test_cltrain_set_timeout(unsigned seconds);

/* Waits for the child pid; returns its exit code, or 128 + the signal that killed it. */
int clt_test_cltrain_wait(pid_t pid);

/* A command-line test's session: the folder cltrain runs in (the program's temporary folder,
 * temp_files.h), the test device as a --device value, and the last run's output. */
typedef struct clt_test_cli {
  const char *folder;
  char device[32];
  char out[1 << 16], err[1 << 16]; /* stdout and stderr of the last run, cut to fit */
} clt_test_cli;

/* Creates the temporary folder and fills cli; 0, or -1 when the folder cannot be made (the
 * return value of a cmocka group setup). */
int clt_test_cli_init(clt_test_cli *cli);

/* Runs cltrain in cli->folder with the arguments (NULL-terminated) and then "--device DEVICE"
 * (cli->device for clt_test_cli_run); returns its exit code (128 + signal when killed), its
 * stdout and stderr in cli->out and cli->err. */
int clt_test_cli_run(clt_test_cli *cli, const char *first, ...);
int clt_test_cli_run_on(clt_test_cli *cli, const char *device, const char *first, ...);
int clt_test_cli_vrun(clt_test_cli *cli, const char *device, const char *first, va_list rest);

/* The last 600 characters of cli->out (all of it when shorter). */
const char *clt_test_cli_out_tail(const clt_test_cli *cli);

/* Reads the checkpoint file name of cli->folder into ck (fails the test when it cannot). */
void clt_test_cli_read_checkpoint(const clt_test_cli *cli, const char *name, clt_checkpoint *ck);

/* Runs cltrain (clt_test_cli_run_on) and fails the test, with stderr and the tail of stdout,
 * unless it exits with code. Macros, so that a failure names the test's line. */
#define CLT_CLI_EXPECT_EXIT_ON(cli, device, code, ...)                                             \
  do {                                                                                             \
    int rc_ = clt_test_cli_run_on(cli, device, __VA_ARGS__, NULL);                                 \
    if (rc_ != (code))                                                                             \
      fail_msg("exit %d, expected %d; stderr: %s; stdout tail: %s", rc_, code, (cli)->err,         \
               clt_test_cli_out_tail(cli));                                                        \
  } while (0)
#define CLT_CLI_EXPECT_EXIT(cli, code, ...)                                                        \
  CLT_CLI_EXPECT_EXIT_ON(cli, (cli)->device, code, __VA_ARGS__)
/* Fails the test unless the last run's stderr holds want. */
#define CLT_CLI_EXPECT_ERR(cli, want)                                                              \
  do {                                                                                             \
    if (!strstr((cli)->err, want)) fail_msg("stderr lacks '%s': %s", want, (cli)->err);            \
  } while (0)

#endif
