/* cltrain/status.h: the status every cltrain call returns, and the last-error message.
 *
 * Every call of the library returns a clt_status; CLT_OK is 0. On failure the call records
 * one line for clt_last_error() that says what was wrong and what to do; it never exits and
 * never prints. The cltrain command maps statuses to exit codes (README, "Exit codes"). */
#ifndef CLTRAIN_STATUS_H
#define CLTRAIN_STATUS_H

#include "cltrain/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clt_status {
  CLT_OK = 0,
  CLT_ERR_USAGE,         /* bad command line or option value */
  CLT_ERR_BAD_DATA,      /* a data or model file is malformed */
  CLT_ERR_MISSING_INPUT, /* a file or folder does not exist */
  CLT_ERR_NO_DEVICE,     /* no OpenCL device, or the device spec matched none */
  CLT_ERR_DEVICE,        /* an OpenCL call failed */
  CLT_ERR_BUILD,         /* an OpenCL program failed to build */
  CLT_ERR_OUT_OF_MEMORY, /* host or device memory exhausted, or plan too large */
  CLT_ERR_NON_FINITE,    /* the loss became NaN or infinite */
  CLT_ERR_IO,            /* read or write failed */
  CLT_ERR_INTERNAL,      /* a bug: an invariant did not hold */
  CLT_ERR_UNSUPPORTED,   /* the device lacks a needed feature */
  CLT_STATUS_COUNT
} clt_status;

/* Short constant name of a status, e.g. "bad data". Never NULL. */
CLT_API const char *clt_status_string(clt_status status);

/* The message recorded by the last failing call on this thread ("" if none). */
CLT_API const char *clt_last_error(void);

/* Clears the last-error message. */
CLT_API void clt_clear_error(void);

#ifdef __cplusplus
}
#endif

/* The library's own helpers (clt_fail, CLT_TRY): not part of the API. */
#ifdef CLTRAIN_INTERNAL
#include "runtime/fail.h"
#endif
#endif
