#include "cli/model_search.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* dir/NAME(.cfg) into buf; 1 when readable. */
static int try_in(const char *dir, const char *model, char *buf, size_t size) {
  const char *ext = strstr(model, ".cfg") ? "" : ".cfg";
  int n = snprintf(buf, size, "%s%s%s%s", dir, dir[0] ? "/" : "", model, ext);
  return n > 0 && (size_t)n < size && access(buf, R_OK) == 0;
}

/* The folder of the running binary ("" when unknown). */
static void binary_dir(char *dir, size_t size) {
  dir[0] = '\0';
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  *slash = '\0';
  snprintf(dir, size, "%s", exe);
}

void clt_cli_model_path(const char *model, char *buf, size_t size) {
  snprintf(buf, size, "%s", model);
  if (access(model, R_OK) == 0 || strchr(model, '/')) return;
  if (try_in("", model, buf, size) || try_in("models", model, buf, size)) return;
  char bin[PATH_MAX], dir[PATH_MAX + 32];
  binary_dir(bin, sizeof bin);
  if (bin[0]) {
    snprintf(dir, sizeof dir, "%s/../share/cltrain/models", bin);
    if (try_in(dir, model, buf, size)) return;
    snprintf(dir, sizeof dir, "%s/models", bin);
    if (try_in(dir, model, buf, size)) return;
  }
  snprintf(buf, size, "%s", model);
}
