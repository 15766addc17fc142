/* OpenCL error names, their mapping to clt_status, the check macros and the
 * status strings. No OpenCL device needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "runtime/cl_errors.h"

static void test_error_names(void **state) {
  (void)state;
  static const struct {
    cl_int code;
    const char *name;
  } cases[] = {
      {CL_SUCCESS, "CL_SUCCESS"},
      {CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND"},
      {CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
      {CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES"},
      {CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY"},
      {CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE"},
      {CL_INVALID_VALUE, "CL_INVALID_VALUE"},
      {CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT"},
      {CL_INVALID_BINARY, "CL_INVALID_BINARY"},
      {CL_INVALID_BUILD_OPTIONS, "CL_INVALID_BUILD_OPTIONS"},
      {CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME"},
      {CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS"},
      {CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE"},
      {CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE"},
      {CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE"},
      {CL_INVALID_DEVICE_PARTITION_COUNT, "CL_INVALID_DEVICE_PARTITION_COUNT"},
      {-1001, "CL_PLATFORM_NOT_FOUND_KHR"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *got = clt_cl_error_name(cases[i].code);
    assert_non_null(got);
    assert_string_equal(got, cases[i].name);
  }
  /* Every code from 0 down to the last OpenCL 1.2 one has a name of its own. */
  for (cl_int c = 0; c >= CL_INVALID_DEVICE_PARTITION_COUNT; c--) {
    if (c < CL_KERNEL_ARG_INFO_NOT_AVAILABLE && c > CL_INVALID_VALUE) continue; /* unused */
    const char *got = clt_cl_error_name(c);
    if (strncmp(got, "CL_", 3) != 0) fail_msg("code %d has no name: '%s'", (int)c, got);
  }
}

static void test_unknown_codes(void **state) {
  (void)state;
  const cl_int unknown[] = {-9999, 1, 42, -20, -1000, -2147483647 - 1};
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
    const char *got = clt_cl_error_name(unknown[i]);
    assert_non_null(got);
    assert_string_equal(got, "unknown OpenCL error");
  }
}

static void test_status_mapping(void **state) {
  (void)state;
  assert_int_equal(clt_cl_status(CL_SUCCESS), CLT_OK);
  /* Allocation failures. */
  assert_int_equal(clt_cl_status(CL_MEM_OBJECT_ALLOCATION_FAILURE), CLT_ERR_OUT_OF_MEMORY);
  assert_int_equal(clt_cl_status(CL_OUT_OF_RESOURCES), CLT_ERR_OUT_OF_MEMORY);
  assert_int_equal(clt_cl_status(CL_OUT_OF_HOST_MEMORY), CLT_ERR_OUT_OF_MEMORY);
  assert_int_equal(clt_cl_status(CL_INVALID_BUFFER_SIZE), CLT_ERR_OUT_OF_MEMORY);
  /* Build failures. */
  assert_int_equal(clt_cl_status(CL_BUILD_PROGRAM_FAILURE), CLT_ERR_BUILD);
  assert_int_equal(clt_cl_status(CL_COMPILE_PROGRAM_FAILURE), CLT_ERR_BUILD);
  assert_int_equal(clt_cl_status(CL_LINK_PROGRAM_FAILURE), CLT_ERR_BUILD);
  /* No device at all. */
  assert_int_equal(clt_cl_status(CL_DEVICE_NOT_FOUND), CLT_ERR_NO_DEVICE);
  assert_int_equal(clt_cl_status(-1001), CLT_ERR_NO_DEVICE);
  /* Everything else is a device error. */
  const cl_int others[] = {
      CL_INVALID_VALUE,  CL_INVALID_KERNEL_ARGS,   CL_INVALID_MEM_OBJECT, CL_INVALID_KERNEL_NAME,
      CL_INVALID_BINARY, CL_INVALID_COMMAND_QUEUE, CL_MAP_FAILURE,        -9999};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    assert_int_equal(clt_cl_status(others[i]), CLT_ERR_DEVICE);
}

static void test_cl_fail_message(void **state) {
  (void)state;
  clt_clear_error();
  clt_status st =
      clt_cl_fail(CL_INVALID_KERNEL_ARGS, "clEnqueueNDRangeKernel", "/some/dir/layer_conv.c", 123);
  assert_int_equal(st, CLT_ERR_DEVICE);
  const char *msg = clt_last_error();
  assert_non_null(strstr(msg, "layer_conv.c:123"));
  assert_null(strstr(msg, "/some/dir")); /* the base name only */
  assert_non_null(strstr(msg, "clEnqueueNDRangeKernel"));
  assert_non_null(strstr(msg, "CL_INVALID_KERNEL_ARGS"));
  assert_non_null(strstr(msg, "-52"));

  st = clt_cl_fail(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer", "memory.c", 7);
  assert_int_equal(st, CLT_ERR_OUT_OF_MEMORY);
  msg = clt_last_error();
  assert_non_null(strstr(msg, "memory.c:7"));
  assert_non_null(strstr(msg, "clCreateBuffer"));
  assert_non_null(strstr(msg, "CL_MEM_OBJECT_ALLOCATION_FAILURE"));
  assert_non_null(strstr(msg, "a smaller batch")); /* says what to do */

  st = clt_cl_fail(CL_BUILD_PROGRAM_FAILURE, "clBuildProgram", "program.c", 99);
  assert_int_equal(st, CLT_ERR_BUILD);
  assert_non_null(strstr(clt_last_error(), "program.c:99: clBuildProgram"));

  st = clt_cl_fail(-9999, "clFoo", "x.c", 1);
  assert_int_equal(st, CLT_ERR_DEVICE);
  assert_non_null(strstr(clt_last_error(), "unknown OpenCL error"));
  assert_non_null(strstr(clt_last_error(), "-9999"));
}

/* The macros as library code uses them. */
static int check_line;
static clt_status uses_check(cl_int result) {
  check_line = __LINE__ + 1;
  CLT_CL_CHECK(result == CL_SUCCESS ? CL_SUCCESS : result);
  return CLT_OK;
}

static int check_err_line;
static clt_status uses_check_err(cl_int err) {
  check_err_line = __LINE__ + 1;
  CLT_CL_CHECK_ERR(err, "clCreateKernel");
  return CLT_OK;
}

static int try_calls;
static clt_status uses_try(cl_int err) {
  CLT_TRY(uses_check_err(err));
  try_calls++;
  return CLT_OK;
}

static void test_check_macros(void **state) {
  (void)state;
  char where[64];
  clt_clear_error();
  assert_int_equal(uses_check(CL_SUCCESS), CLT_OK);
  assert_string_equal(clt_last_error(), "");

  assert_int_equal(uses_check(CL_OUT_OF_RESOURCES), CLT_ERR_OUT_OF_MEMORY);
  snprintf(where, sizeof where, "test_cl_errors.c:%d", check_line);
  assert_non_null(strstr(clt_last_error(), where));
  assert_non_null(strstr(clt_last_error(), "result == CL_SUCCESS")); /* the call's text */
  assert_non_null(strstr(clt_last_error(), "CL_OUT_OF_RESOURCES"));

  clt_clear_error();
  assert_int_equal(uses_check_err(CL_SUCCESS), CLT_OK);
  assert_string_equal(clt_last_error(), "");
  assert_int_equal(uses_check_err(CL_INVALID_KERNEL_NAME), CLT_ERR_DEVICE);
  snprintf(where, sizeof where, "test_cl_errors.c:%d: clCreateKernel", check_err_line);
  assert_non_null(strstr(clt_last_error(), where));

  try_calls = 0;
  assert_int_equal(uses_try(CL_SUCCESS), CLT_OK);
  assert_int_equal(try_calls, 1);
  assert_int_equal(uses_try(CL_BUILD_PROGRAM_FAILURE), CLT_ERR_BUILD);
  assert_int_equal(try_calls, 1); /* returned early */
}

static void test_status_strings(void **state) {
  (void)state;
  for (int a = 0; a < CLT_STATUS_COUNT; a++) {
    const char *sa = clt_status_string((clt_status)a);
    assert_non_null(sa);
    if (sa[0] == '\0') fail_msg("status %d has an empty name", a);
    for (int b = 0; b < a; b++)
      if (strcmp(sa, clt_status_string((clt_status)b)) == 0)
        fail_msg("statuses %d and %d share the name '%s'", a, b, sa);
  }
  assert_string_equal(clt_status_string(CLT_OK), "ok");
  /* Out of range: still a string, never NULL. */
  assert_non_null(clt_status_string(CLT_STATUS_COUNT));
  assert_non_null(clt_status_string((clt_status)-1));
  assert_non_null(clt_status_string((clt_status)1000));
}

static void test_last_error(void **state) {
  (void)state;
  clt_clear_error();
  assert_string_equal(clt_last_error(), "");
  assert_int_equal(clt_fail(CLT_ERR_BAD_DATA, "line %d: %s", 12, "bad key"), CLT_ERR_BAD_DATA);
  assert_string_equal(clt_last_error(), "line 12: bad key");
  /* A very long message is truncated, not overrun. */
  static char big[40000];
  memset(big, 'a', sizeof big - 1);
  assert_int_equal(clt_fail(CLT_ERR_IO, "%s", big), CLT_ERR_IO);
  size_t n = strlen(clt_last_error());
  assert_true(n > 1000 && n < sizeof big - 1);
  clt_clear_error();
  assert_string_equal(clt_last_error(), "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_names),    cmocka_unit_test(test_unknown_codes),
      cmocka_unit_test(test_status_mapping), cmocka_unit_test(test_cl_fail_message),
      cmocka_unit_test(test_check_macros),   cmocka_unit_test(test_status_strings),
      cmocka_unit_test(test_last_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
