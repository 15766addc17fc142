/* Exit codes of the cltrain command (documented in the README). */
#ifndef CLT_CLI_EXIT_CODES_H
#define CLT_CLI_EXIT_CODES_H

#include "cltrain/status.h"

enum {
  CLT_EXIT_OK = 0,
  CLT_EXIT_USAGE = 64,         /* bad command line */
  CLT_EXIT_BAD_DATA = 65,      /* malformed data, model or checkpoint file */
  CLT_EXIT_NO_INPUT = 66,      /* a file or folder does not exist */
  CLT_EXIT_NO_DEVICE = 69,     /* no OpenCL device, no match, or a device lacking a feature */
  CLT_EXIT_INTERNAL = 70,      /* a bug in cltrain */
  CLT_EXIT_IO = 74,            /* a read or write failed */
  CLT_EXIT_OUT_OF_MEMORY = 80, /* host or device memory exhausted, or the plan does not fit */
  CLT_EXIT_NON_FINITE = 81,    /* the loss became NaN or infinite */
  CLT_EXIT_DEVICE = 82,        /* an OpenCL call or a kernel build failed */
  CLT_EXIT_STOPPED = 83        /* under mpirun: stopped because another rank failed */
};

int clt_exit_code(clt_status status);

/* Prints "cltrain: <last error>" on stderr ("cltrain: rank R on HOST (device NAME): <last
 * error>" under mpirun) and returns the exit code. */
int clt_report_failure(clt_status status);

/* The warning handler of the command (clt_set_warning_handler): "cltrain: warning: " and the
 * message in the CLI's words (cli/flag_names.h) on stderr. */
void clt_cli_warning(const char *message);
/* The same as a session's warning callback (clt_config.warning; user unused). */
void clt_cli_session_warning(const char *message, void *user);

/* A command's exit code for its result: CLT_EXIT_OK, or clt_report_failure(status). */
int clt_exit_status(clt_status status);

#endif
