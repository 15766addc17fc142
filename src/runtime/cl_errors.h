/* Names of OpenCL error codes and the check macros that record where a call failed. */
#ifndef CLT_RUNTIME_CL_ERRORS_H
#define CLT_RUNTIME_CL_ERRORS_H

#include <CL/cl.h>

#include "cltrain/status.h"

/* "CL_OUT_OF_RESOURCES" etc.; "CL_UNKNOWN_ERROR(-9999)"-style text is not
 * returned: unknown codes give "unknown OpenCL error". */
const char *clt_cl_error_name(cl_int err);

/* Maps an OpenCL error to a status: allocation failures to CLT_ERR_OUT_OF_MEMORY,
 * build failures to CLT_ERR_BUILD, everything else to CLT_ERR_DEVICE. */
clt_status clt_cl_status(cl_int err);

/* Records "FILE:LINE: CALL failed: CL_NAME (code)" and returns the mapped status. */
clt_status clt_cl_fail(cl_int err, const char *call, const char *file, int line);

/* Evaluates an OpenCL call returning cl_int; on failure records where and returns. */
#define CLT_CL_CHECK(call)                                                                         \
  do {                                                                                             \
    cl_int clt_err_ = (call);                                                                      \
    if (clt_err_ != CL_SUCCESS) return clt_cl_fail(clt_err_, #call, __FILE__, __LINE__);           \
  } while (0)

/* For calls that report through an out-parameter: CLT_CL_CHECK_ERR(err, "clCreateBuffer"). */
#define CLT_CL_CHECK_ERR(err, what)                                                                \
  do {                                                                                             \
    if ((err) != CL_SUCCESS) return clt_cl_fail((err), (what), __FILE__, __LINE__);                \
  } while (0)

#endif
