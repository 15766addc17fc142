/* Recording a failure inside the library (cltrain/status.h includes this for the library's
 * own code, under CLTRAIN_INTERNAL). */
#ifndef CLT_RUNTIME_FAIL_H
#define CLT_RUNTIME_FAIL_H

/* Records a message (printf-style) for clt_last_error() and returns status,
 * so that callers can write: return clt_fail(CLT_ERR_BAD_DATA, "...", ...). */
clt_status clt_fail(clt_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Propagates a failing clt_status from expr. */
#define CLT_TRY(expr)                                                                              \
  do {                                                                                             \
    clt_status clt_st_ = (expr);                                                                   \
    if (clt_st_ != CLT_OK) return clt_st_;                                                         \
  } while (0)

#endif
