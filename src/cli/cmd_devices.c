/* cltrain devices [--json] [--check [--device SPEC]]: every platform and device,
 * and with --check, every kernel built on each device, cold and warm. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cli/term.h"
#include "runtime/cl_errors.h"
#include "runtime/gemm.h"
#include "runtime/program.h"
#include "runtime/quirks.h"
#include "runtime/clock.h"

static double gib(uint64_t bytes) {
  return (double)bytes / (1024.0 * 1024.0 * 1024.0);
}

static void print_human(const clt_device_list *list) {
  int color = clt_use_color(stdout);
  const char *bold = color ? CLT_BOLD : "", *dim = color ? CLT_DIM : "",
             *reset = color ? CLT_RESET : "";
  if (list->platform_count == 0) {
    printf("No OpenCL platform found: install a driver (e.g. apt-get install pocl-opencl-icd).\n");
    return;
  }
  for (int p = 0; p < list->platform_count; p++) {
    const clt_platform_info *pi = &list->platforms[p];
    printf("%sPlatform %d: %s%s (%s), %s\n", bold, p, pi->name, reset, pi->vendor, pi->version);
    if (pi->device_count == 0) printf("  %s(no devices)%s\n", dim, reset);
    for (int i = 0; i < list->device_count; i++) {
      const clt_device_info *d = &list->devices[i];
      if (d->platform_index != p) continue;
      printf("  %s%d:%d  %s%s  [%s]\n", bold, d->platform_index, d->device_index, d->name, reset,
             clt_device_kind_name(d->kind));
      printf("        vendor %s, driver %s, %s\n", d->vendor, d->driver_version,
             d->opencl_c_version);
      printf("        %u compute units at %u MHz, %.1f GiB global memory, %.1f GiB max buffer,\n"
             "        %llu KiB local memory, fp16 %s, fp64 %s\n",
             d->compute_units, d->clock_mhz, gib(d->global_mem), gib(d->max_alloc),
             (unsigned long long)(d->local_mem / 1024), d->has_fp16 ? "yes" : "no",
             d->has_fp64 ? "yes" : "no");
    }
  }
}

static cJSON *device_json(const clt_device_info *d) {
  cJSON *o = cJSON_CreateObject();
  char id[32];
  snprintf(id, sizeof id, "%d:%d", d->platform_index, d->device_index);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddNumberToObject(o, "platform", d->platform_index);
  cJSON_AddNumberToObject(o, "device", d->device_index);
  cJSON_AddStringToObject(o, "name", d->name);
  cJSON_AddStringToObject(o, "vendor", d->vendor);
  cJSON_AddStringToObject(o, "type", clt_device_kind_name(d->kind));
  cJSON_AddStringToObject(o, "driver_version", d->driver_version);
  cJSON_AddStringToObject(o, "device_version", d->device_version);
  cJSON_AddStringToObject(o, "opencl_c_version", d->opencl_c_version);
  cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
  cJSON_AddNumberToObject(o, "clock_mhz", d->clock_mhz);
  cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem);
  cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc);
  cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem);
  cJSON_AddBoolToObject(o, "fp16", d->has_fp16);
  cJSON_AddBoolToObject(o, "fp64", d->has_fp64);
  return o;
}

static cJSON *list_json(const clt_device_list *list) {
  cJSON *root = cJSON_CreateObject();
  cJSON *plats = cJSON_AddArrayToObject(root, "platforms");
  for (int p = 0; p < list->platform_count; p++) {
    const clt_platform_info *pi = &list->platforms[p];
    cJSON *po = cJSON_CreateObject();
    cJSON_AddNumberToObject(po, "index", p);
    cJSON_AddStringToObject(po, "name", pi->name);
    cJSON_AddStringToObject(po, "vendor", pi->vendor);
    cJSON_AddStringToObject(po, "version", pi->version);
    cJSON *devs = cJSON_AddArrayToObject(po, "devices");
    for (int i = 0; i < list->device_count; i++)
      if (list->devices[i].platform_index == p)
        cJSON_AddItemToArray(devs, device_json(&list->devices[i]));
    cJSON_AddItemToArray(plats, po);
  }
  return root;
}

/* Creates (and releases) every kernel of a built program: some drivers finish
 * compiling only here. */
static clt_status create_kernels(cl_program prog, const char *file) {
  cl_uint n = 0;
  cl_int err = clCreateKernelsInProgram(prog, 0, NULL, &n);
  cl_kernel *ks = err == CL_SUCCESS && n ? calloc(n, sizeof *ks) : NULL;
  if (ks) err = clCreateKernelsInProgram(prog, n, ks, NULL);
  for (cl_uint i = 0; ks && err == CL_SUCCESS && i < n; i++) clReleaseKernel(ks[i]);
  free(ks);
  if (err != CL_SUCCESS)
    return clt_fail(CLT_ERR_BUILD, "creating the kernels of %s failed: %s", file,
                    clt_cl_error_name(err));
  return CLT_OK;
}

/* Builds every kernel file on dev; returns the seconds taken, or -1 on failure. */
static double build_all(const clt_device_info *dev, const clt_device_options *o, int use_cache,
                        int *hits, char *failure, size_t failure_size) {
  clt_ctx_options copt = {o->kernel_dir,   !use_cache,      o->cache_dir,   0,
                          o->no_gemm_tune, o->memory_limit, o->alloc_limit, o->gemm_mode,
                          o->gemm_budget,  o->keep_binaries};
  clt_ctx *ctx = NULL;
  double t0 = clt_now_seconds();
  clt_status st = clt_ctx_open(dev, &copt, &ctx);
  const char *const *files;
  int n = clt_program_files(&files);
  for (int i = 0; i < n && st == CLT_OK; i++) {
    cl_program prog;
    st = clt_program_get(ctx, files[i], "", &prog);
    if (st == CLT_OK) st = create_kernels(prog, files[i]);
  }
  double t = clt_now_seconds() - t0;
  if (ctx) *hits = ctx->cache_hits;
  clt_ctx_destroy(ctx);
  if (st != CLT_OK) {
    snprintf(failure, failure_size, "%s", clt_last_error());
    return -1.0;
  }
  return t;
}

static double warm_gemm(const clt_device_info *dev, const clt_device_options *o) {
  clt_ctx_options copt = {o->kernel_dir,   o->no_kernel_cache, o->cache_dir,   0,
                          o->no_gemm_tune, o->memory_limit,    o->alloc_limit, o->gemm_mode,
                          o->gemm_budget,  o->keep_binaries};
  clt_ctx *ctx = NULL;
  double t0 = clt_now_seconds();
  clt_status st = clt_ctx_open(dev, &copt, &ctx);
  if (st == CLT_OK) st = clt_gemm_warm_up(ctx);
  clt_ctx_destroy(ctx);
  return st == CLT_OK ? clt_now_seconds() - t0 : -1.0;
}

/* --check: per device, a cold build (no cache), a build that fills the cache,
 * and a warm build (all cache hits); CLBlast's GEMM kernels separately. */
static int check_devices(const clt_device_list *list, const clt_device_options *o, int json) {
  int first = 0, last = list->device_count - 1;
  if (o->device) {
    int index;
    clt_status st = clt_device_select(list, o->device, &index);
    if (st != CLT_OK) return clt_report_failure(st);
    first = last = index;
  }
  const char *const *files;
  int nfiles = clt_program_files(&files);
  int failed = 0, color = clt_use_color(stdout);
  cJSON *root = json ? cJSON_CreateArray() : NULL;
  for (int i = first; i <= last; i++) {
    const clt_device_info *d = &list->devices[i];
    char failure[16384] = "";
    int hits_cold = 0, hits_fill = 0, hits_warm = 0;
    double cold = build_all(d, o, 0, &hits_cold, failure, sizeof failure);
    double fill = -1, warm = -1, gemm = -1;
    if (cold >= 0 && !o->no_kernel_cache) {
      fill = build_all(d, o, 1, &hits_fill, failure, sizeof failure);
      if (fill >= 0) warm = build_all(d, o, 1, &hits_warm, failure, sizeof failure);
    }
    if (cold >= 0) gemm = warm_gemm(d, o);
    int ok = cold >= 0 && gemm >= 0;
    failed += !ok;
    if (json) {
      cJSON *r = cJSON_CreateObject();
      char id[32];
      snprintf(id, sizeof id, "%d:%d", d->platform_index, d->device_index);
      cJSON_AddStringToObject(r, "id", id);
      cJSON_AddStringToObject(r, "name", d->name);
      cJSON_AddBoolToObject(r, "ok", ok);
      cJSON_AddNumberToObject(r, "kernel_files", nfiles);
      cJSON_AddNumberToObject(r, "cold_seconds", cold);
      cJSON_AddNumberToObject(r, "warm_seconds", warm);
      cJSON_AddNumberToObject(r, "warm_cache_hits", hits_warm);
      cJSON_AddNumberToObject(r, "gemm_warm_up_seconds", gemm);
      if (!ok) cJSON_AddStringToObject(r, "error", failure[0] ? failure : clt_last_error());
      cJSON_AddItemToArray(root, r);
      continue;
    }
    printf("%d:%d %s (%s): ", d->platform_index, d->device_index, d->name, d->platform_name);
    if (!ok) {
      printf("%sfailed%s\n%s\n", color ? CLT_RED : "", color ? CLT_RESET : "",
             failure[0] ? failure : clt_last_error());
      continue;
    }
    printf("%sok%s, %d kernel files: cold build %.2f s", color ? CLT_GREEN : "",
           color ? CLT_RESET : "", nfiles, cold);
    if (warm >= 0 && !o->keep_binaries && (clt_device_quirks(d) & CLT_QUIRK_OWN_PROGRAM_CACHE))
      printf(", again %.3f s (from the driver's own kernel cache; no binaries kept)", warm);
    else if (warm >= 0)
      printf(", from the cache %.3f s (%d/%d hits)", warm, hits_warm, nfiles);
    else
      printf(", cache off");
    printf("; CLBlast GEMM ready in %.2f s\n", gemm);
  }
  if (json) {
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
  }
  return failed ? CLT_EXIT_DEVICE : CLT_EXIT_OK;
}

static void help(FILE *out) {
  fprintf(out, "usage: cltrain devices [--json] [--check] [--device SPEC]\n\n"
               "Lists every OpenCL platform and device with its P:D index.\n"
               "  --json               one JSON document on stdout\n"
               "  --check              build every kernel on every device (or --device),\n"
               "                       cold and from the program cache\n" CLT_DEVICE_OPTIONS_HELP);
}

int clt_cmd_devices(int argc, char **argv) {
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"check", no_argument, NULL, 'c'},
                                           {"help", no_argument, NULL, 'h'},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  clt_device_options o = {0};
  int json = 0, check = 0, opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
    if (clt_device_option(&o, opt, optarg)) continue;
    switch (opt) {
    case 'j':
      json = 1;
      break;
    case 'c':
      check = 1;
      break;
    case 'h':
      help(stdout);
      return CLT_EXIT_OK;
    default:
      return clt_cli_bad_option("devices", argv, opt);
    }
  }
  if (optind < argc) return clt_cli_unexpected("devices", argv[optind]);
  clt_cli_device_env(&o, 0); /* --check: every device unless --device says which */
  clt_device_list list;
  clt_status st = clt_device_list_query(&list);
  if (st != CLT_OK) return clt_report_failure(st);
  int rc = CLT_EXIT_OK;
  if (check) {
    if (list.device_count == 0) {
      fprintf(stderr, "cltrain: no OpenCL device to check: install a driver, e.g. "
                      "apt-get install pocl-opencl-icd\n");
      rc = CLT_EXIT_NO_DEVICE;
    } else {
      rc = check_devices(&list, &o, json);
    }
  } else if (json) {
    cJSON *root = list_json(&list);
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
  } else {
    print_human(&list);
  }
  clt_device_list_free(&list);
  return rc;
}
