/* build/<file>: every kernel file builds on the device (plain options: the layers build
 * their specialised variants, -DCONV_K=3 and the like, in their own rows), and every
 * kernel in it can be created (some drivers finish compiling only then). A failure
 * carries the build log, with the device and the options. */
#include <stdio.h>
#include <stdlib.h>

#include "check/check_groups.h"
#include "check/check_internal.h"
#include "runtime/cl_errors.h"
#include "runtime/program.h"

static clt_status run_build(const clt_check_env *env, const clt_check *check, clt_check_result *r) {
  const char *file = check->arg;
  cl_program prog;
  CLT_TRY(clt_program_get(env->ctx, file, "", &prog));
  cl_uint n = 0;
  cl_int err = clCreateKernelsInProgram(prog, 0, NULL, &n);
  if (err == CL_SUCCESS && n == 0) {
    clt_check_failf(r, "%s holds no kernel", file);
    return CLT_OK;
  }
  cl_kernel *ks = err == CL_SUCCESS ? calloc(n, sizeof *ks) : NULL;
  if (err == CL_SUCCESS && !ks) return clt_check_oom();
  if (ks) err = clCreateKernelsInProgram(prog, n, ks, NULL);
  for (cl_uint i = 0; ks && err == CL_SUCCESS && i < n; i++) clReleaseKernel(ks[i]);
  free(ks);
  if (err != CL_SUCCESS)
    return clt_fail(clt_cl_status(err), "creating the kernels of %s failed: %s", file,
                    clt_cl_error_name(err));
  return CLT_OK;
}

clt_status clt_check_add_build(clt_check_list *list, int quick) {
  (void)quick;
  const char *const *files;
  int n = clt_program_files(&files);
  for (int i = 0; i < n; i++) {
    char name[80];
    snprintf(name, sizeof name, "build/%s", files[i]);
    CLT_TRY(clt_check_add(list, name, "builds, every kernel created", run_build, files[i], i));
  }
  return CLT_OK;
}
