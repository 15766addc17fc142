/* cltrain check [--device SPEC|all] [--quick] [--json] [--only NAME] [--list]: the
 * cross-vendor conformance check (src/check). One row per check, one column per device;
 * then one summary line. Exit 0 when nothing failed, else CLT_EXIT_DEVICE (82). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cli/term.h"
#include "runtime/quirks.h"
#include "runtime/clock.h"

#define MAX_ONLY 64

typedef struct run_options {
  clt_device_options dev;
  int quick, json, list;
  const char *only[MAX_ONLY];
  int only_count;
} run_options;

typedef struct device_run {
  const clt_device_info *info;
  char id[32];
  char quirks[512];
  double seconds;
  clt_check_result *results; /* one per check */
} device_run;

/* ---- the command line that repeats one check ---- */

/* Appends s to buf, single-quoted when it holds anything but safe characters. */
static void append_arg(char *buf, size_t size, const char *s) {
  size_t len = strlen(buf);
  int safe = s[0] != '\0';
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.:,@%", *p))
      safe = 0;
  if (safe) {
    snprintf(buf + len, size - len, " %s", s);
    return;
  }
  len += (size_t)snprintf(buf + len, size - len, " '");
  for (const char *p = s; *p && len + 6 < size; p++) {
    if (*p == '\'')
      len += (size_t)snprintf(buf + len, size - len, "'\\''");
    else
      buf[len++] = *p, buf[len] = '\0';
  }
  snprintf(buf + len, size - len, "'");
}

static void repeat_command(const run_options *o, const device_run *d, const clt_check *c, char *buf,
                           size_t size) {
  snprintf(buf, size, "cltrain check --device %s --only", d->id);
  append_arg(buf, size, c->name);
  if (o->quick) append_arg(buf, size, "--quick");
  if (o->dev.kernel_dir) {
    append_arg(buf, size, "--kernel-dir");
    append_arg(buf, size, o->dev.kernel_dir);
  }
  if (o->dev.no_kernel_cache) append_arg(buf, size, "--no-kernel-cache");
}

/* ---- the table ---- */

static void cell_text(const clt_check_result *r, char *buf, size_t size) {
  if (r->outcome == CLT_CHECK_FAIL && r->error >= 0.0 &&
      (r->tolerance > 0.0 ? r->error > r->tolerance : r->error > 0.0))
    snprintf(buf, size, "FAIL %s %.2g > %.2g", r->what, r->error, r->tolerance);
  else
    snprintf(buf, size, "%s", clt_check_outcome_name(r->outcome));
}

static void print_padded(const char *text, int width, const char *color, int use_color) {
  if (use_color && color)
    printf("%s%s%s", color, text, CLT_RESET);
  else
    printf("%s", text);
  for (int i = (int)strlen(text); i < width; i++) putchar(' ');
}

static void print_detail(const char *id, const char *detail) {
  const char *p = detail;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    printf("    %s: %.*s\n", id, len, p);
    p = nl ? nl + 1 : NULL;
  }
}

static void print_table(const run_options *o, const clt_check_list *list, device_run *runs,
                        int nruns, int counts[3]) {
  int color = clt_use_color(stdout);
  int name_w = 5;
  for (int i = 0; i < list->count; i++)
    if ((int)strlen(list->items[i].name) > name_w) name_w = (int)strlen(list->items[i].name);
  int *col_w = calloc((size_t)nruns, sizeof *col_w);
  if (!col_w) return;
  for (int d = 0; d < nruns; d++) {
    col_w[d] = (int)strlen(runs[d].id);
    for (int i = 0; i < list->count; i++) {
      char cell[160];
      cell_text(&runs[d].results[i], cell, sizeof cell);
      if ((int)strlen(cell) > col_w[d]) col_w[d] = (int)strlen(cell);
    }
  }
  printf("cltrain check: %d checks on %d device%s (%s sizes)\n", list->count, nruns,
         nruns == 1 ? "" : "s", o->quick ? "--quick" : "default");
  for (int d = 0; d < nruns; d++) {
    const clt_device_info *in = runs[d].info;
    printf("  %s  %s (%s), driver %s, %s%s%s\n", runs[d].id, in->name, in->platform_name,
           in->driver_version, in->opencl_c_version, runs[d].quirks[0] ? "; quirks: " : "",
           runs[d].quirks);
  }
  putchar('\n');
  print_padded("check", name_w + 2, color ? CLT_BOLD : NULL, color);
  for (int d = 0; d < nruns; d++)
    print_padded(runs[d].id, d + 1 < nruns ? col_w[d] + 2 : 0, CLT_BOLD, color);
  putchar('\n');
  for (int i = 0; i < list->count; i++) {
    const clt_check *c = &list->items[i];
    print_padded(c->name, name_w + 2, NULL, color);
    for (int d = 0; d < nruns; d++) {
      const clt_check_result *r = &runs[d].results[i];
      char cell[160];
      cell_text(r, cell, sizeof cell);
      const char *cc = r->outcome == CLT_CHECK_PASS   ? CLT_GREEN
                       : r->outcome == CLT_CHECK_FAIL ? CLT_RED
                                                      : CLT_DIM;
      print_padded(cell, d + 1 < nruns ? col_w[d] + 2 : 0, cc, color);
      counts[r->outcome]++;
    }
    putchar('\n');
    for (int d = 0; d < nruns; d++) {
      const clt_check_result *r = &runs[d].results[i];
      if (r->outcome == CLT_CHECK_PASS) continue;
      print_detail(runs[d].id, r->detail);
      if (r->outcome == CLT_CHECK_FAIL) {
        char cmd[2048];
        repeat_command(o, &runs[d], c, cmd, sizeof cmd);
        printf("    %s: repeat: %s\n", runs[d].id, cmd);
      }
    }
  }
  print_padded("seconds", name_w + 2, NULL, color);
  for (int d = 0; d < nruns; d++) {
    char t[32];
    snprintf(t, sizeof t, "%.1f", runs[d].seconds);
    print_padded(t, d + 1 < nruns ? col_w[d] + 2 : 0, NULL, color);
  }
  printf("\n%d passed, %d failed, %d skipped\n", counts[CLT_CHECK_PASS], counts[CLT_CHECK_FAIL],
         counts[CLT_CHECK_SKIP]);
  free(col_w);
}

static void print_json(const run_options *o, const clt_check_list *list, device_run *runs,
                       int nruns, int counts[3]) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddBoolToObject(root, "quick", o->quick);
  cJSON *devs = cJSON_AddArrayToObject(root, "devices");
  for (int d = 0; d < nruns; d++) {
    const clt_device_info *in = runs[d].info;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", runs[d].id);
    cJSON_AddStringToObject(j, "name", in->name);
    cJSON_AddStringToObject(j, "platform", in->platform_name);
    cJSON_AddStringToObject(j, "vendor", in->vendor);
    cJSON_AddStringToObject(j, "driver_version", in->driver_version);
    cJSON_AddStringToObject(j, "opencl_c_version", in->opencl_c_version);
    cJSON_AddStringToObject(j, "quirks", runs[d].quirks);
    cJSON_AddNumberToObject(j, "seconds", runs[d].seconds);
    cJSON_AddItemToArray(devs, j);
  }
  cJSON *checks = cJSON_AddArrayToObject(root, "checks");
  for (int i = 0; i < list->count; i++) {
    const clt_check *c = &list->items[i];
    cJSON *jc = cJSON_CreateObject();
    cJSON_AddStringToObject(jc, "name", c->name);
    cJSON_AddStringToObject(jc, "tolerance", c->tolerance);
    cJSON *res = cJSON_AddArrayToObject(jc, "results");
    for (int d = 0; d < nruns; d++) {
      const clt_check_result *r = &runs[d].results[i];
      counts[r->outcome]++;
      cJSON *jr = cJSON_CreateObject();
      cJSON_AddStringToObject(jr, "device", runs[d].id);
      cJSON_AddStringToObject(jr, "status", clt_check_outcome_name(r->outcome));
      if (r->error >= 0.0) {
        cJSON_AddStringToObject(jr, "what", r->what);
        cJSON_AddNumberToObject(jr, "error", r->error);
        cJSON_AddNumberToObject(jr, "tolerance", r->tolerance);
      }
      cJSON_AddNumberToObject(jr, "seconds", r->seconds);
      if (r->detail) cJSON_AddStringToObject(jr, "detail", r->detail);
      if (r->outcome == CLT_CHECK_FAIL) {
        char cmd[2048];
        repeat_command(o, &runs[d], c, cmd, sizeof cmd);
        cJSON_AddStringToObject(jr, "repeat", cmd);
      }
      cJSON_AddItemToArray(res, jr);
    }
    cJSON_AddItemToArray(checks, jc);
  }
  cJSON_AddNumberToObject(root, "passed", counts[CLT_CHECK_PASS]);
  cJSON_AddNumberToObject(root, "failed", counts[CLT_CHECK_FAIL]);
  cJSON_AddNumberToObject(root, "skipped", counts[CLT_CHECK_SKIP]);
  char *text = cJSON_Print(root);
  if (text) puts(text);
  free(text);
  cJSON_Delete(root);
}

/* ---- running ---- */

typedef struct progress_state {
  const char *id;
  int on;
} progress_state;

static void progress(const clt_check *check, int index, int count, void *user) {
  progress_state *p = user;
  if (!p->on) return;
  fprintf(stderr, "\r\033[K%s: %d/%d %s", p->id, index + 1, count, check->name);
  fflush(stderr);
}

static void run_device(const run_options *o, const clt_check_list *list, device_run *d) {
  clt_ctx_options copt = {
      o->dev.kernel_dir,   o->dev.no_kernel_cache, o->dev.cache_dir,   0,
      o->dev.no_gemm_tune, o->dev.memory_limit,    o->dev.alloc_limit, o->dev.gemm_mode,
      o->dev.gemm_budget,  o->dev.keep_binaries};
  clt_ctx *ctx = NULL;
  double t0 = clt_now_seconds();
  clt_status st = clt_ctx_open(d->info, &copt, &ctx);
  if (st != CLT_OK) {
    char msg[1200];
    snprintf(msg, sizeof msg, "cannot use the device: %s", clt_last_error());
    clt_check_fail_all(list, d->results, msg);
  } else {
    progress_state p = {d->id, clt_is_terminal(stderr)};
    clt_check_run_all(ctx, o->quick, list, d->results, progress, &p);
    if (p.on) fprintf(stderr, "\r\033[K");
  }
  clt_ctx_destroy(ctx);
  d->seconds = clt_now_seconds() - t0;
}

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain check [--device SPEC|all] [--quick] [--json] [--only NAME]... [--list]\n"
          "\n"
          "Runs every kernel, layer (forward and backward), optimizer step, CLBlast GEMM\n"
          "layout and a short training run on the device and compares each with the float64\n"
          "reference, with a tolerance per operation. Prints one row per check and one column\n"
          "per device (PASS, FAIL with the largest relative error and the tolerance, or SKIP\n"
          "with why), then 'N passed, N failed, N skipped'. Exit status 0 when nothing\n"
          "failed, 82 when a check failed.\n"
          "  --device SPEC|all    the device (see below), or every device of every platform\n"
          "  --quick              tiny shapes and fewer cases (for simulators such as Oclgrind)\n"
          "  --json               one JSON document on stdout instead of the table\n"
          "  --only NAME          only the checks named NAME: an exact row name\n"
          "                       (conv/3x3-s2-same), a group (conv) or a pattern ('conv/*');\n"
          "                       repeatable\n"
          "  --list               list the checks with their tolerances and "
          "exit\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_args(int argc, char **argv, run_options *o) {
  static const struct option longopts[] = {{"quick", no_argument, NULL, 'q'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"only", required_argument, NULL, 'o'},
                                           {"list", no_argument, NULL, 'l'},
                                           {"help", no_argument, NULL, 'h'},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case 'q':
      o->quick = 1;
      break;
    case 'j':
      o->json = 1;
      break;
    case 'l':
      o->list = 1;
      break;
    case 'o':
      if (o->only_count == MAX_ONLY) {
        fprintf(stderr, "cltrain check: at most %d --only options\n", MAX_ONLY);
        return CLT_EXIT_USAGE;
      }
      o->only[o->only_count++] = optarg;
      break;
    case 'h':
      help(stdout);
      return -1;
    default:
      return clt_cli_bad_option("check", argv, opt);
    }
  }
  if (optind < argc) return clt_cli_unexpected("check", argv[optind]);
  return CLT_EXIT_OK;
}

/* The devices to run on: every device for "all", else the one the spec selects. */
static int pick_devices(const run_options *o, const clt_device_list *list, int *first, int *last) {
  if (list->device_count == 0) {
    fprintf(stderr, "cltrain: no OpenCL device to check: install a driver, e.g. apt-get install "
                    "pocl-opencl-icd\n");
    return CLT_EXIT_NO_DEVICE;
  }
  if (o->dev.device && strcmp(o->dev.device, "all") == 0) {
    *first = 0;
    *last = list->device_count - 1;
    return CLT_EXIT_OK;
  }
  int index;
  clt_status st = clt_device_select(list, o->dev.device, &index);
  if (st != CLT_OK) return clt_report_failure(st);
  *first = *last = index;
  return CLT_EXIT_OK;
}

int clt_cmd_check(int argc, char **argv) {
  run_options o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(argc, argv, &o);
  if (rc != CLT_EXIT_OK) return rc < 0 ? CLT_EXIT_OK : rc;
  clt_cli_device_env(&o.dev, 1);

  clt_check_list checks;
  clt_status st = clt_check_list_build(o.quick, &checks);
  if (st != CLT_OK) return clt_report_failure(st);
  if (o.only_count && clt_check_list_filter(&checks, o.only, o.only_count) == 0) {
    fprintf(stderr, "cltrain: no check matches --only %s; 'cltrain check --list%s' lists them\n",
            o.only[0], o.quick ? " --quick" : "");
    clt_check_list_free(&checks);
    return CLT_EXIT_USAGE;
  }
  if (o.list) {
    for (int i = 0; i < checks.count; i++)
      printf("%-34s %s\n", checks.items[i].name, checks.items[i].tolerance);
    clt_check_list_free(&checks);
    return CLT_EXIT_OK;
  }

  clt_device_list devices;
  st = clt_device_list_query(&devices);
  if (st != CLT_OK) {
    clt_check_list_free(&checks);
    return clt_report_failure(st);
  }
  int first = 0, last = -1;
  rc = pick_devices(&o, &devices, &first, &last);
  int nruns = last - first + 1;
  device_run *runs = rc == CLT_EXIT_OK ? calloc((size_t)nruns, sizeof *runs) : NULL;
  if (rc == CLT_EXIT_OK && !runs)
    rc = clt_report_failure(clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory"));
  for (int d = 0; rc == CLT_EXIT_OK && d < nruns; d++) {
    device_run *run = &runs[d];
    run->info = &devices.devices[first + d];
    snprintf(run->id, sizeof run->id, "%d:%d", run->info->platform_index, run->info->device_index);
    clt_device_quirks_describe(run->info, run->quirks, sizeof run->quirks);
    run->results = calloc((size_t)(checks.count ? checks.count : 1), sizeof *run->results);
    if (!run->results) {
      rc = clt_report_failure(clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory"));
      break;
    }
    run_device(&o, &checks, run);
  }
  if (rc == CLT_EXIT_OK) {
    int counts[3] = {0, 0, 0};
    if (o.json)
      print_json(&o, &checks, runs, nruns, counts);
    else
      print_table(&o, &checks, runs, nruns, counts);
    rc = counts[CLT_CHECK_FAIL] ? CLT_EXIT_DEVICE : CLT_EXIT_OK;
  }
  for (int d = 0; runs && d < nruns; d++) {
    for (int i = 0; runs[d].results && i < checks.count; i++)
      clt_check_result_clear(&runs[d].results[i]);
    free(runs[d].results);
  }
  free(runs);
  clt_device_list_free(&devices);
  clt_check_list_free(&checks);
  fflush(stdout);
  return rc;
}
