/* `cltrain devices` against `clinfo -l`: the same platforms and devices, in the
 * same order, with PoCL, Mesa (rusticl on llvmpipe; Clover with no device) and
 * Oclgrind installed. Skips (77) only when clinfo or the cltrain binary is missing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/temp_files.h"

#define CLTRAIN          CLT_BINARY_DIR "/cltrain"
#define CLINFO           "/usr/bin/clinfo"
#define SYSTEM_VENDORS   "/etc/OpenCL/vendors"
#define OCLGRIND_ICD_LIB "/usr/lib/oclgrind/liboclgrind-rt-icd.so"

#define MAX_PLATFORMS 16
#define MAX_DEVICES   16

typedef struct listing {
  int platform_count;
  char platform[MAX_PLATFORMS][256];
  int device_count[MAX_PLATFORMS];
  char device[MAX_PLATFORMS][MAX_DEVICES][256];
} listing;

static const char *vendors_dir;
static int expect_oclgrind; /* the Oclgrind ICD library is installed */
static int expect_clover;   /* Mesa's Clover ICD is registered */

/* ---------- helpers ---------- */

/* Runs a shell command; returns its stdout (malloc'd) and exit status. */
static char *run(const char *command, int *exit_code) {
  FILE *p = popen(command, "r");
  if (!p) fail_msg("popen(%s) failed", command);
  size_t cap = 4096, len = 0;
  char *out = malloc(cap);
  assert_non_null(out);
  size_t n;
  while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 1024) {
      cap *= 2;
      char *grown = realloc(out, cap);
      assert_non_null(grown);
      out = grown;
    }
  }
  out[len] = '\0';
  int status = pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

static void trim_right(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
}

/* "Platform #N: NAME" and " +-- Device #N: NAME" / " `-- Device #N: NAME". */
static void parse_clinfo(const char *text, listing *out) {
  memset(out, 0, sizeof *out);
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), line);
    trim_right(buf);
    int index = -1, consumed = 0;
    const char *dev;
    if (sscanf(buf, "Platform #%d: %n", &index, &consumed) == 1 && consumed > 0) {
      assert_int_equal(index, out->platform_count);
      assert_true(out->platform_count < MAX_PLATFORMS);
      snprintf(out->platform[out->platform_count++], 256, "%s", buf + consumed);
    } else if ((dev = strstr(buf, "-- Device #")) != NULL &&
               sscanf(dev, "-- Device #%d: %n", &index, &consumed) == 1 && consumed > 0) {
      assert_true(out->platform_count > 0);
      int p = out->platform_count - 1;
      assert_int_equal(index, out->device_count[p]);
      assert_true(out->device_count[p] < MAX_DEVICES);
      snprintf(out->device[p][out->device_count[p]++], 256, "%s", dev + consumed);
    } else if (buf[0]) {
      fail_msg("unexpected line in clinfo -l output: '%s'", buf);
    }
    line = end ? end + 1 : line + len;
  }
}

static const char *json_string(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(v)) fail_msg("JSON: '%s' is not a string", key);
  return v->valuestring;
}

static double json_number(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(v)) fail_msg("JSON: '%s' is not a number", key);
  return v->valuedouble;
}

static void parse_json(const char *text, listing *out) {
  memset(out, 0, sizeof *out);
  cJSON *root = cJSON_Parse(text);
  if (!root) fail_msg("cltrain devices --json is not JSON:\n%s", text);
  const cJSON *plats = cJSON_GetObjectItemCaseSensitive(root, "platforms");
  assert_true(cJSON_IsArray(plats));
  const cJSON *p;
  cJSON_ArrayForEach(p, plats) {
    int pi = out->platform_count;
    assert_true(pi < MAX_PLATFORMS);
    assert_int_equal((int)json_number(p, "index"), pi);
    snprintf(out->platform[pi], 256, "%s", json_string(p, "name"));
    json_string(p, "vendor");
    json_string(p, "version");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(p, "devices");
    assert_true(cJSON_IsArray(devs));
    const cJSON *d;
    cJSON_ArrayForEach(d, devs) {
      int di = out->device_count[pi];
      assert_true(di < MAX_DEVICES);
      char id[32];
      snprintf(id, sizeof id, "%d:%d", pi, di);
      assert_string_equal(json_string(d, "id"), id);
      assert_int_equal((int)json_number(d, "platform"), pi);
      assert_int_equal((int)json_number(d, "device"), di);
      const char *type = json_string(d, "type");
      assert_true(type[0] != '\0');
      assert_true(json_number(d, "compute_units") >= 1);
      assert_true(json_number(d, "global_mem_bytes") > 0);
      assert_true(strncmp(json_string(d, "opencl_c_version"), "OpenCL C ", 9) == 0);
      assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "fp64")));
      snprintf(out->device[pi][di], 256, "%s", json_string(d, "name"));
      out->device_count[pi]++;
    }
    out->platform_count++;
  }
  cJSON_Delete(root);
}

static void print_listing(const char *what, const listing *l) {
  fprintf(stderr, "%s:\n", what);
  for (int p = 0; p < l->platform_count; p++) {
    fprintf(stderr, "  platform %d: %s\n", p, l->platform[p]);
    for (int d = 0; d < l->device_count[p]; d++)
      fprintf(stderr, "    device %d:%d: %s\n", p, d, l->device[p][d]);
  }
}

/* A vendors folder with the system's ICDs plus Oclgrind's. */
static int group_setup(void **state) {
  (void)state;
  vendors_dir = clt_test_tmpdir_create();
  if (!vendors_dir) return -1;
  /* The vendors the suite runs with: $OCL_ICD_VENDORS when it names a folder (the sanitizer
   * suite leaves Clover out: tools/sanitize.sh), else the system's. */
  const char *system_vendors = getenv("OCL_ICD_VENDORS");
  struct stat vst;
  if (!system_vendors || stat(system_vendors, &vst) != 0 || !S_ISDIR(vst.st_mode))
    system_vendors = SYSTEM_VENDORS;
  DIR *d = opendir(system_vendors);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len < 5 || strcmp(e->d_name + len - 4, ".icd") != 0) continue;
      if (strcmp(e->d_name, "oclgrind.icd") == 0) continue; /* ours below */
      char from[1024], to[1024];
      snprintf(from, sizeof from, "%s/%s", system_vendors, e->d_name);
      snprintf(to, sizeof to, "%s/%s", vendors_dir, e->d_name);
      clt_test_copy_file(from, to);
      if (strcmp(e->d_name, "mesa.icd") == 0) expect_clover = 1;
    }
    closedir(d);
  }
  expect_oclgrind = access(OCLGRIND_ICD_LIB, R_OK) == 0;
  if (expect_oclgrind) {
    char path[1024];
    snprintf(path, sizeof path, "%s/oclgrind.icd", vendors_dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "%s\n", OCLGRIND_ICD_LIB);
    fclose(f);
  } else {
    fprintf(stderr, "note: %s is not installed: not expecting Oclgrind\n", OCLGRIND_ICD_LIB);
  }
  if (!expect_clover) fprintf(stderr, "note: no mesa.icd: not expecting Clover\n");
  setenv("OCL_ICD_VENDORS", vendors_dir, 1);
  setenv("RUSTICL_ENABLE", "llvmpipe", 1);
  unsetenv("NO_COLOR");
  unsetenv("CLTRAIN_DEVICE");
  return 0;
}

/* ---------- tests ---------- */

static void get_listings(listing *clinfo, listing *ours) {
  int rc = -1;
  char *text = run(CLINFO " -l 2>/dev/null", &rc);
  assert_int_equal(rc, 0);
  parse_clinfo(text, clinfo);
  free(text);
  text = run("'" CLTRAIN "' devices --json", &rc);
  if (rc != 0) fail_msg("cltrain devices --json exited %d:\n%s", rc, text);
  parse_json(text, ours);
  free(text);
}

static void test_same_as_clinfo(void **state) {
  (void)state;
  listing clinfo, ours;
  get_listings(&clinfo, &ours);
  print_listing("clinfo -l", &clinfo);
  print_listing("cltrain devices --json", &ours);
  assert_true(clinfo.platform_count > 0);
  assert_int_equal(ours.platform_count, clinfo.platform_count);
  int empty = 0, oclgrind = 0, clover = 0;
  for (int p = 0; p < clinfo.platform_count; p++) {
    assert_string_equal(ours.platform[p], clinfo.platform[p]);
    if (ours.device_count[p] != clinfo.device_count[p])
      fail_msg("platform %d (%s): %d devices, clinfo lists %d", p, clinfo.platform[p],
               ours.device_count[p], clinfo.device_count[p]);
    for (int d = 0; d < clinfo.device_count[p]; d++)
      assert_string_equal(ours.device[p][d], clinfo.device[p][d]);
    empty += clinfo.device_count[p] == 0;
    oclgrind += strstr(clinfo.platform[p], "Oclgrind") != NULL && clinfo.device_count[p] > 0;
    clover += strcmp(clinfo.platform[p], "Clover") == 0 && clinfo.device_count[p] == 0;
  }
  if (expect_clover) {
    assert_true(empty >= 1);
    assert_int_equal(clover, 1);
  }
  if (expect_oclgrind) assert_int_equal(oclgrind, 1);
}

static void test_human_output(void **state) {
  (void)state;
  listing clinfo, ours;
  get_listings(&clinfo, &ours);
  int rc = -1;
  /* NO_COLOR is unset, but stdout is a pipe: no colour. */
  char *text = run("'" CLTRAIN "' devices", &rc);
  assert_int_equal(rc, 0);
  if (strchr(text, '\x1b')) fail_msg("escape sequence in piped output:\n%s", text);
  int empty = 0;
  for (int p = 0; p < ours.platform_count; p++) {
    char heading[400];
    snprintf(heading, sizeof heading, "Platform %d: %s", p, ours.platform[p]);
    if (!strstr(text, heading)) fail_msg("'%s' missing from:\n%s", heading, text);
    for (int d = 0; d < ours.device_count[p]; d++) {
      char entry[400];
      snprintf(entry, sizeof entry, "%d:%d  %s", p, d, ours.device[p][d]);
      if (!strstr(text, entry)) fail_msg("'%s' missing from:\n%s", entry, text);
    }
    if (ours.device_count[p] == 0) {
      /* The line after the heading says so. */
      const char *h = strstr(text, heading);
      const char *next = strchr(h, '\n');
      assert_non_null(next);
      assert_true(strncmp(next + 1, "  (no devices)", 14) == 0);
      empty++;
    }
  }
  int count = 0;
  for (const char *s = text; (s = strstr(s, "(no devices)")) != NULL; s++) count++;
  assert_int_equal(count, empty);
  if (expect_clover) assert_non_null(strstr(text, "Clover"));
  free(text);
}

static void test_check_unknown_device(void **state) {
  (void)state;
  listing clinfo, ours;
  get_listings(&clinfo, &ours);
  int rc = -1;
  /* stderr only: stdout is thrown away. */
  char *err = run("'" CLTRAIN "' devices --device nosuchthing --check 2>&1 >/dev/null", &rc);
  assert_int_equal(rc, 69);
  size_t len = strlen(err);
  assert_true(len > 0);
  assert_true(err[len - 1] == '\n');
  if (strchr(err, '\n') != err + len - 1) fail_msg("more than one line on stderr:\n%s", err);
  assert_non_null(strstr(err, "nosuchthing"));
  for (int p = 0; p < ours.platform_count; p++)
    for (int d = 0; d < ours.device_count[p]; d++) {
      char entry[400];
      snprintf(entry, sizeof entry, "%d:%d %s", p, d, ours.device[p][d]);
      if (!strstr(err, entry)) fail_msg("'%s' missing from: %s", entry, err);
    }
  free(err);
}

int main(void) {
  if (access(CLTRAIN, X_OK) != 0 || access(CLINFO, X_OK) != 0) {
    fprintf(stderr, "%s or %s missing: skipping\n", CLTRAIN, CLINFO);
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_as_clinfo),
      cmocka_unit_test(test_human_output),
      cmocka_unit_test(test_check_unknown_device),
  };
  return cmocka_run_group_tests(tests, group_setup, clt_test_tmpdir_teardown);
}
