/* clt_device_select on hand-built device lists: no OpenCL needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/devices.h"
#include "runtime/env_settings.h"

#define MAX_PLATFORMS 8
#define MAX_DEVICES   16

typedef struct fake_list {
  clt_platform_info platforms[MAX_PLATFORMS];
  clt_device_info devices[MAX_DEVICES];
  clt_device_list list;
} fake_list;

static void fake_init(fake_list *f) {
  memset(f, 0, sizeof *f);
  f->list.platforms = f->platforms;
  f->list.devices = f->devices;
}

static int fake_platform(fake_list *f, const char *name, const char *vendor) {
  assert_true(f->list.platform_count < MAX_PLATFORMS);
  int p = f->list.platform_count++;
  clt_platform_info *pi = &f->platforms[p];
  pi->index = p;
  snprintf(pi->name, sizeof pi->name, "%s", name);
  snprintf(pi->vendor, sizeof pi->vendor, "%s", vendor);
  snprintf(pi->version, sizeof pi->version, "OpenCL 3.0 fake");
  return p;
}

static void fake_device(fake_list *f, int p, const char *name, clt_device_kind kind) {
  assert_true(f->list.device_count < MAX_DEVICES);
  clt_device_info *d = &f->devices[f->list.device_count++];
  const clt_platform_info *pi = &f->platforms[p];
  d->platform_index = p;
  d->device_index = f->platforms[p].device_count++;
  memcpy(d->platform_name, pi->name, sizeof d->platform_name);
  memcpy(d->platform_vendor, pi->vendor, sizeof d->platform_vendor);
  memcpy(d->platform_version, pi->version, sizeof d->platform_version);
  snprintf(d->name, sizeof d->name, "%s", name);
  snprintf(d->opencl_c_version, sizeof d->opencl_c_version, "OpenCL C 1.2");
  d->kind = kind;
}

/* A machine with most of what cltrain meets in practice:
 *   index 0 = 0:0 NVIDIA GPU
 *   index 1 = 1:0 PoCL CPU
 *   index 2 = 2:0 rusticl llvmpipe (CPU)
 *   platform 3 = Clover, no device
 *   index 3 = 4:0 Oclgrind (reports itself as a GPU)
 *   index 4 = 5:0 Intel CPU, index 5 = 5:1 Intel FPGA emulator (accelerator)
 * with_accelerator 0 leaves out 5:1. */
static void fake_machine(fake_list *f, int with_accelerator) {
  fake_init(f);
  int p = fake_platform(f, "NVIDIA CUDA", "NVIDIA Corporation");
  fake_device(f, p, "NVIDIA GeForce RTX 3080", CLT_DEVICE_GPU);
  p = fake_platform(f, "Portable Computing Language", "The pocl project");
  fake_device(f, p, "pthread-haswell-Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", CLT_DEVICE_CPU);
  p = fake_platform(f, "rusticl", "Mesa/X.org");
  fake_device(f, p, "llvmpipe (LLVM 15.0.6, 256 bits)", CLT_DEVICE_CPU);
  fake_platform(f, "Clover", "Mesa");
  p = fake_platform(f, "Oclgrind", "Oclgrind");
  fake_device(f, p, "Oclgrind Simulator", CLT_DEVICE_GPU);
  p = fake_platform(f, "Intel(R) OpenCL", "Intel(R) Corporation");
  fake_device(f, p, "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", CLT_DEVICE_CPU);
  if (with_accelerator) fake_device(f, p, "Intel(R) FPGA Emulation Device", CLT_DEVICE_ACCELERATOR);
}

static int select_ok(const clt_device_list *list, const char *spec) {
  int index = -1;
  clt_clear_error();
  clt_status st = clt_device_select(list, spec, &index);
  if (st != CLT_OK) fail_msg("spec '%s' failed: %s", spec ? spec : "(null)", clt_last_error());
  assert_true(index >= 0 && index < list->device_count);
  return index;
}

static void select_fails(const clt_device_list *list, const char *spec) {
  int index = -1;
  clt_clear_error();
  clt_status st = clt_device_select(list, spec, &index);
  if (st != CLT_ERR_NO_DEVICE)
    fail_msg("spec '%s': expected CLT_ERR_NO_DEVICE, got %s (index %d)", spec ? spec : "(null)",
             clt_status_string(st), index);
  assert_true(clt_last_error()[0] != '\0');
}

/* Every device appears in the message as "P:D NAME". */
static void assert_lists_devices(const clt_device_list *list, const char *message) {
  for (int i = 0; i < list->device_count; i++) {
    char entry[300];
    snprintf(entry, sizeof entry, "%d:%d %s", list->devices[i].platform_index,
             list->devices[i].device_index, list->devices[i].name);
    if (!strstr(message, entry)) fail_msg("'%s' not listed in: %s", entry, message);
  }
}

static int setup_env(void **state) {
  (void)state;
  unsetenv("CLTRAIN_DEVICE");
  return 0;
}

static void test_platform_device_index(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  assert_int_equal(select_ok(&f.list, "0:0"), 0);
  assert_int_equal(select_ok(&f.list, "1:0"), 1);
  assert_int_equal(select_ok(&f.list, "2:0"), 2);
  assert_int_equal(select_ok(&f.list, "4:0"), 3);
  assert_int_equal(select_ok(&f.list, "5:0"), 4);
  assert_int_equal(select_ok(&f.list, "5:1"), 5);
}

static void test_platform_device_index_missing(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  const char *missing[] = {"0:1", "3:0" /* Clover has none */, "6:0", "9:9", "999:0"};
  for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
    select_fails(&f.list, missing[i]);
    assert_non_null(strstr(clt_last_error(), missing[i]));
    assert_lists_devices(&f.list, clt_last_error());
  }
}

static void test_malformed_index(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  const char *bad[] = {"0:", "a:1", "1:2:3", ":0", "1:a", "-1:0", "1:-0", "0:0x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    select_fails(&f.list, bad[i]);
    assert_lists_devices(&f.list, clt_last_error());
  }
}

static void test_by_type(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  assert_int_equal(select_ok(&f.list, "gpu"), 0);
  assert_int_equal(select_ok(&f.list, "GPU"), 0);
  assert_int_equal(select_ok(&f.list, "cpu"), 1);
  assert_int_equal(select_ok(&f.list, "Cpu"), 1);
  assert_int_equal(select_ok(&f.list, "accelerator"), 5);
  assert_int_equal(select_ok(&f.list, "ACCELERATOR"), 5);
}

static void test_by_type_none(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 0);
  select_fails(&f.list, "accelerator");
  assert_non_null(strstr(clt_last_error(), "accelerator"));
  assert_lists_devices(&f.list, clt_last_error());

  fake_init(&f);
  int p = fake_platform(&f, "Portable Computing Language", "The pocl project");
  fake_device(&f, p, "pthread-cpu", CLT_DEVICE_CPU);
  select_fails(&f.list, "gpu");
  assert_lists_devices(&f.list, clt_last_error());
  assert_int_equal(select_ok(&f.list, "cpu"), 0);
}

static void test_by_substring(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  /* device name */
  assert_int_equal(select_ok(&f.list, "NVIDIA"), 0);
  assert_int_equal(select_ok(&f.list, "geforce"), 0);
  assert_int_equal(select_ok(&f.list, "llvmpipe"), 2);
  assert_int_equal(select_ok(&f.list, "LLVMPIPE"), 2);
  assert_int_equal(select_ok(&f.list, "simulator"), 3);
  assert_int_equal(select_ok(&f.list, "fpga"), 5);
  /* platform name */
  assert_int_equal(select_ok(&f.list, "rusticl"), 2);
  assert_int_equal(select_ok(&f.list, "RustiCL"), 2);
  assert_int_equal(select_ok(&f.list, "portable computing"), 1);
  assert_int_equal(select_ok(&f.list, "cuda"), 0);
  assert_int_equal(select_ok(&f.list, "oclgrind"), 3);
  assert_int_equal(select_ok(&f.list, "OCLGRIND"), 3);
  /* platform vendor */
  assert_int_equal(select_ok(&f.list, "pocl"), 1);
  assert_int_equal(select_ok(&f.list, "PoCL"), 1);
  assert_int_equal(select_ok(&f.list, "nvidia corporation"), 0);
  /* "Mesa" names two platforms, but Clover has no device: unique. */
  assert_int_equal(select_ok(&f.list, "mesa"), 2);
}

static void test_ambiguous(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  /* "i7-8700" is in the PoCL and the Intel CPU device names; "intel" in three. */
  const char *specs[] = {"i7-8700", "intel", "Intel(R)", "3.20GHz"};
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
    select_fails(&f.list, specs[i]);
    const char *msg = clt_last_error();
    assert_non_null(strstr(msg, "ambiguous"));
    assert_non_null(strstr(msg, specs[i]));
    assert_lists_devices(&f.list, msg);
  }
}

static void test_no_match(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  const char *specs[] = {"nosuchthing", "amd", "radeon", "clover" /* a platform, no devices */};
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
    select_fails(&f.list, specs[i]);
    const char *msg = clt_last_error();
    assert_non_null(strstr(msg, specs[i]));
    assert_null(strstr(msg, "ambiguous"));
    assert_lists_devices(&f.list, msg);
  }
}

static void test_default(void **state) {
  (void)state;
  fake_list f;
  unsetenv("CLTRAIN_DEVICE");
  fake_machine(&f, 1);
  /* The first GPU. */
  assert_int_equal(select_ok(&f.list, NULL), 0);
  assert_int_equal(select_ok(&f.list, ""), 0);

  /* The first GPU even when a CPU comes first. */
  fake_init(&f);
  int p = fake_platform(&f, "Portable Computing Language", "The pocl project");
  fake_device(&f, p, "pthread-cpu", CLT_DEVICE_CPU);
  p = fake_platform(&f, "Oclgrind", "Oclgrind");
  fake_device(&f, p, "Oclgrind Simulator", CLT_DEVICE_GPU);
  p = fake_platform(&f, "AMD Accelerated Parallel Processing", "Advanced Micro Devices, Inc.");
  fake_device(&f, p, "gfx1030", CLT_DEVICE_GPU);
  assert_int_equal(select_ok(&f.list, NULL), 1);

  /* No GPU: the first device. */
  fake_init(&f);
  fake_platform(&f, "Clover", "Mesa");
  p = fake_platform(&f, "rusticl", "Mesa/X.org");
  fake_device(&f, p, "llvmpipe", CLT_DEVICE_CPU);
  p = fake_platform(&f, "Intel(R) OpenCL", "Intel(R) Corporation");
  fake_device(&f, p, "Intel(R) FPGA Emulation Device", CLT_DEVICE_ACCELERATOR);
  assert_int_equal(select_ok(&f.list, NULL), 0);
  assert_int_equal(select_ok(&f.list, ""), 0);
}

/* The spec the CLI passes when no --device is given: $CLTRAIN_DEVICE through the settings
 * reader (the library itself reads no variable). */
static const char *env_spec(void) {
  static clt_env_settings env;
  clt_env_settings_read(&env, getenv);
  clt_device_options o = {0};
  clt_env_settings_fill(&env, &o);
  return o.device;
}

static void test_default_from_env(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  setenv("CLTRAIN_DEVICE", "llvmpipe", 1);
  assert_int_equal(select_ok(&f.list, env_spec()), 2);
  assert_int_equal(select_ok(&f.list, env_spec()), 2);
  /* An explicit spec wins over the environment. */
  assert_int_equal(select_ok(&f.list, "pocl"), 1);
  setenv("CLTRAIN_DEVICE", "5:1", 1);
  assert_int_equal(select_ok(&f.list, env_spec()), 5);
  setenv("CLTRAIN_DEVICE", "cpu", 1);
  assert_int_equal(select_ok(&f.list, env_spec()), 1);
  setenv("CLTRAIN_DEVICE", "nosuchthing", 1);
  select_fails(&f.list, env_spec());
  assert_non_null(strstr(clt_last_error(), "nosuchthing"));
  assert_lists_devices(&f.list, clt_last_error());
  /* Set but empty: as if unset. */
  setenv("CLTRAIN_DEVICE", "", 1);
  assert_int_equal(select_ok(&f.list, env_spec()), 0);
  unsetenv("CLTRAIN_DEVICE");
  assert_int_equal(select_ok(&f.list, env_spec()), 0);
}

static void test_empty_list(void **state) {
  (void)state;
  fake_list f;
  fake_init(&f);
  const char *specs[] = {"gpu", "cpu", "0:0", "pocl"};
  unsetenv("CLTRAIN_DEVICE");
  select_fails(&f.list, NULL);
  select_fails(&f.list, "");
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) select_fails(&f.list, specs[i]);
  /* Platforms but no device at all (only Clover). */
  fake_platform(&f, "Clover", "Mesa");
  select_fails(&f.list, NULL);
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) select_fails(&f.list, specs[i]);
  setenv("CLTRAIN_DEVICE", "gpu", 1);
  select_fails(&f.list, env_spec());
  unsetenv("CLTRAIN_DEVICE");
}

static void test_summary(void **state) {
  (void)state;
  fake_list f;
  fake_machine(&f, 1);
  char buf[2048];
  clt_device_list_summary(&f.list, buf, sizeof buf);
  assert_lists_devices(&f.list, buf);
  assert_non_null(strstr(buf, "(Oclgrind)"));
  /* A small buffer is truncated, not overrun. */
  char small[16];
  memset(small, 'x', sizeof small);
  clt_device_list_summary(&f.list, small, sizeof small);
  assert_true(memchr(small, '\0', sizeof small) != NULL);
  /* The empty list says what to install. */
  fake_init(&f);
  clt_device_list_summary(&f.list, buf, sizeof buf);
  assert_true(strlen(buf) > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_platform_device_index, setup_env),
      cmocka_unit_test_setup(test_platform_device_index_missing, setup_env),
      cmocka_unit_test_setup(test_malformed_index, setup_env),
      cmocka_unit_test_setup(test_by_type, setup_env),
      cmocka_unit_test_setup(test_by_type_none, setup_env),
      cmocka_unit_test_setup(test_by_substring, setup_env),
      cmocka_unit_test_setup(test_ambiguous, setup_env),
      cmocka_unit_test_setup(test_no_match, setup_env),
      cmocka_unit_test_setup(test_default, setup_env),
      cmocka_unit_test_setup(test_default_from_env, setup_env),
      cmocka_unit_test_setup(test_empty_list, setup_env),
      cmocka_unit_test_setup(test_summary, setup_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
