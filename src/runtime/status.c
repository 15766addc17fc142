/* Status names and the thread-local last-error message. */
#include "cltrain/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[16384];

static const char *const status_names[CLT_STATUS_COUNT] = {
    [CLT_OK] = "ok",
    [CLT_ERR_USAGE] = "usage error",
    [CLT_ERR_BAD_DATA] = "bad data",
    [CLT_ERR_MISSING_INPUT] = "missing input",
    [CLT_ERR_NO_DEVICE] = "no device",
    [CLT_ERR_DEVICE] = "device error",
    [CLT_ERR_BUILD] = "kernel build failed",
    [CLT_ERR_OUT_OF_MEMORY] = "out of memory",
    [CLT_ERR_NON_FINITE] = "non-finite loss",
    [CLT_ERR_IO] = "I/O error",
    [CLT_ERR_INTERNAL] = "internal error",
    [CLT_ERR_UNSUPPORTED] = "unsupported",
};

const char *clt_status_string(clt_status status) {
  if ((int)status < 0 || status >= CLT_STATUS_COUNT) return "unknown status";
  return status_names[status];
}

const char *clt_last_error(void) {
  return last_error;
}

void clt_clear_error(void) {
  last_error[0] = '\0';
}

clt_status clt_fail(clt_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}
