/* Device selection by spec: "P:D", a type, or a unique name substring. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/devices.h"

static int contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (n == 0) return 0;
  for (const char *h = hay; *h; h++) {
    size_t i = 0;
    while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
    if (i == n) return 1;
  }
  return 0;
}

void clt_device_list_summary(const clt_device_list *list, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  if (list->device_count == 0) {
    snprintf(buf, size, "(no OpenCL devices: install an OpenCL driver, e.g. pocl-opencl-icd)");
    return;
  }
  for (int i = 0; i < list->device_count && used < size; i++) {
    const clt_device_info *d = &list->devices[i];
    int n = snprintf(buf + used, size - used, "%s%d:%d %s (%s)", i ? ", " : "", d->platform_index,
                     d->device_index, d->name, d->platform_name);
    if (n < 0) break;
    used += (size_t)n;
  }
}

static clt_status no_match(const clt_device_list *list, const char *spec, const char *why) {
  char summary[1536];
  clt_device_list_summary(list, summary, sizeof summary);
  return clt_fail(CLT_ERR_NO_DEVICE, "device '%s' %s; devices: %s", spec, why, summary);
}

static int parse_pd(const char *spec, int *p, int *d) {
  char *end = NULL;
  if (!isdigit((unsigned char)spec[0])) return 0;
  long pl = strtol(spec, &end, 10);
  if (*end != ':' || !isdigit((unsigned char)end[1])) return 0;
  long dl = strtol(end + 1, &end, 10);
  if (*end != '\0' || pl > 1000 || dl > 1000) return 0;
  *p = (int)pl;
  *d = (int)dl;
  return 1;
}

static int kind_from_spec(const char *spec, clt_device_kind *kind) {
  if (strcasecmp(spec, "gpu") == 0)
    *kind = CLT_DEVICE_GPU;
  else if (strcasecmp(spec, "cpu") == 0)
    *kind = CLT_DEVICE_CPU;
  else if (strcasecmp(spec, "accelerator") == 0)
    *kind = CLT_DEVICE_ACCELERATOR;
  else
    return 0;
  return 1;
}

clt_status clt_device_select(const clt_device_list *list, const char *spec, int *index_out) {
  if (!spec || !*spec) {
    if (list->device_count == 0)
      return no_match(list, "(default)", "cannot be chosen: there is no OpenCL device");
    for (int i = 0; i < list->device_count; i++) {
      if (list->devices[i].kind == CLT_DEVICE_GPU) {
        *index_out = i;
        return CLT_OK;
      }
    }
    *index_out = 0;
    return CLT_OK;
  }
  int p, d;
  clt_device_kind kind;
  if (parse_pd(spec, &p, &d)) {
    for (int i = 0; i < list->device_count; i++) {
      if (list->devices[i].platform_index == p && list->devices[i].device_index == d) {
        *index_out = i;
        return CLT_OK;
      }
    }
    return no_match(list, spec, "does not exist");
  }
  if (kind_from_spec(spec, &kind)) {
    for (int i = 0; i < list->device_count; i++) {
      if (list->devices[i].kind == kind) {
        *index_out = i;
        return CLT_OK;
      }
    }
    return no_match(list, spec, "matches no device of that type");
  }
  int found = -1, count = 0;
  for (int i = 0; i < list->device_count; i++) {
    const clt_device_info *dev = &list->devices[i];
    if (contains_nocase(dev->platform_name, spec) || contains_nocase(dev->platform_vendor, spec) ||
        contains_nocase(dev->name, spec)) {
      if (found < 0) found = i;
      count++;
    }
  }
  if (count == 0) return no_match(list, spec, "matches no device");
  if (count > 1) return no_match(list, spec, "is ambiguous: use P:D to pick one");
  *index_out = found;
  return CLT_OK;
}
