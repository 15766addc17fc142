/* Status codes and the last-error message of the cltrain library.
 * Library code returns a clt_status and never exits; the CLI maps statuses to
 * exit codes (see src/cli/exit_codes.h). */
#ifndef CLTRAIN_STATUS_H
#define CLTRAIN_STATUS_H

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
const char *clt_status_string(clt_status status);

/* The message recorded by the last failing call on this thread ("" if none). */
const char *clt_last_error(void);

/* Records a message (printf-style) for clt_last_error() and returns status,
 * so that callers can write: return clt_fail(CLT_ERR_BAD_DATA, "...", ...). */
clt_status clt_fail(clt_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the last-error message. */
void clt_clear_error(void);

/* Propagates a failing clt_status from expr. */
#define CLT_TRY(expr)                                                                              \
  do {                                                                                             \
    clt_status clt_st_ = (expr);                                                                   \
    if (clt_st_ != CLT_OK) return clt_st_;                                                         \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
