/* The model file's typed getters (see ini.h): each records the key as known to its section, so
 * that clt_ini_check_unused() can name the keys a section takes; plus the whole-section checks
 * and messages. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn/ini.h"
#include "nn/ini_internal.h"

/* ---- getters ------------------------------------------------------------------------------ */

static clt_status note_known(const clt_ini_section *sec, const char *key) {
  struct clt_ini_known *k = sec->known;
  for (int i = 0; i < k->count; i++)
    if (strcmp(k->keys[i], key) == 0) return CLT_OK;
  char *copy = strdup(key);
  if (!copy || !clt_ini_grow((void **)&k->keys, &k->cap, k->count + 1, sizeof *k->keys)) {
    free(copy);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s:%d: [%s] out of host memory", sec->file, sec->line,
                    sec->name);
  }
  k->keys[k->count++] = copy;
  return CLT_OK;
}

static clt_ini_entry *find(const clt_ini_section *sec, const char *key) {
  for (int i = 0; i < sec->entry_count; i++)
    if (strcmp(sec->entries[i].key, key) == 0) return &sec->entries[i];
  return NULL;
}

/* Records key as known; *e is its entry (marked used) or NULL when absent. */
static clt_status lookup(const clt_ini_section *sec, const char *key, const clt_ini_entry **e) {
  *e = NULL;
  clt_status st = note_known(sec, key);
  if (st != CLT_OK) return st;
  clt_ini_entry *found = find(sec, key);
  if (found) found->used = true;
  *e = found;
  return CLT_OK;
}

static clt_status missing(const clt_ini_section *sec, const char *key, const char *what) {
  /* A misspelt key ("filter = 32" for "filters") is the likely cause: point at its line. */
  const char *unused[CLT_INI_MAX_KEYS];
  int n = 0;
  for (int i = 0; i < sec->entry_count && n < CLT_INI_MAX_KEYS; i++)
    if (!sec->entries[i].used) unused[n++] = sec->entries[i].key;
  const char *near = clt_ini_closest(key, unused, n);
  const clt_ini_entry *e = near ? find(sec, near) : NULL;
  if (e)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s:%d: [%s] missing key '%s' (%s); did you mean '%s' instead of '%s'?",
                    sec->file, e->line, sec->name, key, what, key, e->key);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] missing key '%s' (%s); add a line '%s = ...'",
                  sec->file, sec->line, sec->name, key, what, key);
}

static clt_status bad_value(const clt_ini_section *sec, const clt_ini_entry *e, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));
static clt_status bad_value(const clt_ini_section *sec, const clt_ini_entry *e, const char *fmt,
                            ...) {
  char msg[1024], val[72];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] %s = %s: %s", sec->file, e->line, sec->name,
                  e->key, clt_ini_excerpt(e->value, val, sizeof val), msg);
}

bool clt_ini_has(const clt_ini_section *sec, const char *key) {
  (void)note_known(sec, key); /* out of memory only shortens the known-key list */
  return find(sec, key) != NULL;
}

/* 0: ok; -1: not a whole decimal integer; -2: outside int64. */
static int parse_i64(const char *s, int64_t *v) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (*p < '0' || *p > '9') return -1;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9') return -1;
  errno = 0;
  long long x = strtoll(s, NULL, 10);
  if (errno == ERANGE) return -2;
  *v = (int64_t)x;
  return 0;
}

static const char *describe_int(int64_t min, int64_t max, bool int32, char *buf, size_t cap) {
  int64_t lo_none = int32 ? INT32_MIN : INT64_MIN, hi_none = int32 ? INT32_MAX : INT64_MAX;
  if (min == lo_none && max == hi_none)
    snprintf(buf, cap, "an integer");
  else if (max == hi_none)
    snprintf(buf, cap, "an integer >= %lld", (long long)min);
  else if (min == lo_none)
    snprintf(buf, cap, "an integer <= %lld", (long long)max);
  else
    snprintf(buf, cap, "an integer from %lld to %lld", (long long)min, (long long)max);
  return buf;
}

static clt_status get_integer(const clt_ini_section *sec, const char *key, bool required,
                              int64_t def, int64_t min, int64_t max, bool int32, int64_t *out) {
  char what[96];
  describe_int(min, max, int32, what, sizeof what);
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) {
    if (required) return missing(sec, key, what);
    *out = def;
    return CLT_OK;
  }
  int64_t v = 0;
  int r = parse_i64(e->value, &v);
  if (r == -1) return bad_value(sec, e, "not a whole number; use %s", what);
  if (r == -2 || v < min || v > max) return bad_value(sec, e, "must be %s", what);
  *out = v;
  return CLT_OK;
}

clt_status clt_ini_get_int(const clt_ini_section *sec, const char *key, int def, int min, int max,
                           int *out) {
  int64_t v;
  clt_status st = get_integer(sec, key, false, def, min, max, true, &v);
  if (st == CLT_OK) *out = (int)v;
  return st;
}

clt_status clt_ini_require_int(const clt_ini_section *sec, const char *key, int min, int max,
                               int *out) {
  int64_t v;
  clt_status st = get_integer(sec, key, true, 0, min, max, true, &v);
  if (st == CLT_OK) *out = (int)v;
  return st;
}

clt_status clt_ini_get_i64(const clt_ini_section *sec, const char *key, int64_t def, int64_t min,
                           int64_t max, int64_t *out) {
  return get_integer(sec, key, false, def, min, max, false, out);
}

static const char *describe_float(double min, double max, unsigned flags, char *buf, size_t cap) {
  bool lo = isfinite(min), hi = isfinite(max);
  bool lo_open = flags & CLT_INI_ABOVE_MIN, hi_open = flags & CLT_INI_BELOW_MAX;
  if (lo && hi && !lo_open && !hi_open)
    snprintf(buf, cap, "a number from %g to %g", min, max);
  else if (lo && hi)
    snprintf(buf, cap, "a number %s %g and %s %g", lo_open ? ">" : ">=", min,
             hi_open ? "<" : "<=", max);
  else if (lo)
    snprintf(buf, cap, "a number %s %g", lo_open ? ">" : ">=", min);
  else if (hi)
    snprintf(buf, cap, "a number %s %g", hi_open ? "<" : "<=", max);
  else
    snprintf(buf, cap, "a finite number");
  return buf;
}

clt_status clt_ini_get_float_ex(const clt_ini_section *sec, const char *key, double def, double min,
                                double max, unsigned flags, double *out) {
  char what[128];
  describe_float(min, max, flags, what, sizeof what);
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) {
    if (flags & CLT_INI_REQUIRED) return missing(sec, key, what);
    *out = def;
    return CLT_OK;
  }
  char *end = NULL;
  double v = strtod(e->value, &end);
  if (end == e->value || *end != '\0') return bad_value(sec, e, "not a number; use %s", what);
  if (!isfinite(v)) return bad_value(sec, e, "must be finite; use %s", what);
  bool below = (flags & CLT_INI_ABOVE_MIN) ? !(v > min) : !(v >= min);
  bool above = (flags & CLT_INI_BELOW_MAX) ? !(v < max) : !(v <= max);
  if (below || above) return bad_value(sec, e, "must be %s", what);
  *out = v;
  return CLT_OK;
}

clt_status clt_ini_get_float(const clt_ini_section *sec, const char *key, double def, double min,
                             double max, double *out) {
  return clt_ini_get_float_ex(sec, key, def, min, max, 0, out);
}

clt_status clt_ini_require_float(const clt_ini_section *sec, const char *key, double min,
                                 double max, double *out) {
  return clt_ini_get_float_ex(sec, key, 0.0, min, max, CLT_INI_REQUIRED, out);
}

static clt_status get_bool(const clt_ini_section *sec, const char *key, bool required, bool def,
                           bool *out) {
  static const char what[] = "0, 1, true, false, yes or no";
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) {
    if (required) return missing(sec, key, what);
    *out = def;
    return CLT_OK;
  }
  const char *v = e->value;
  if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
    *out = true;
  } else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
    *out = false;
  } else {
    return bad_value(sec, e, "must be %s", what);
  }
  return CLT_OK;
}

clt_status clt_ini_get_bool(const clt_ini_section *sec, const char *key, bool def, bool *out) {
  return get_bool(sec, key, false, def, out);
}

clt_status clt_ini_require_bool(const clt_ini_section *sec, const char *key, bool *out) {
  return get_bool(sec, key, true, false, out);
}

static clt_status get_choice(const clt_ini_section *sec, const char *key, bool required, int def,
                             const char *const choices[], int *out) {
  int n = 0;
  while (choices[n]) n++;
  char list[512], what[560];
  clt_ini_join(choices, n, list, sizeof list);
  snprintf(what, sizeof what, "one of %s", list);
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) {
    if (required) return missing(sec, key, what);
    *out = def;
    return CLT_OK;
  }
  for (int i = 0; i < n; i++) {
    if (strcmp(e->value, choices[i]) == 0) {
      *out = i;
      return CLT_OK;
    }
  }
  const char *near = clt_ini_closest(e->value, choices, n);
  if (near) return bad_value(sec, e, "unknown choice (did you mean '%s'?); use %s", near, what);
  return bad_value(sec, e, "unknown choice; use %s", what);
}

clt_status clt_ini_get_choice(const clt_ini_section *sec, const char *key, int def,
                              const char *const choices[], int *out) {
  return get_choice(sec, key, false, def, choices, out);
}

clt_status clt_ini_require_choice(const clt_ini_section *sec, const char *key,
                                  const char *const choices[], int *out) {
  return get_choice(sec, key, true, 0, choices, out);
}

static clt_status get_string(const clt_ini_section *sec, const char *key, bool required,
                             const char *def, const char **out) {
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) {
    if (required) return missing(sec, key, "text");
    *out = def;
    return CLT_OK;
  }
  *out = e->value;
  return CLT_OK;
}

clt_status clt_ini_get_string(const clt_ini_section *sec, const char *key, const char *def,
                              const char **out) {
  return get_string(sec, key, false, def, out);
}

clt_status clt_ini_require_string(const clt_ini_section *sec, const char *key, const char **out) {
  return get_string(sec, key, true, NULL, out);
}

clt_status clt_ini_get_shape_hwc(const clt_ini_section *sec, const char *key, int *h, int *w,
                                 int *c) {
  static const char what[] = "HxWxC: height x width x channels, e.g. 28x28x1 for grey images, "
                             "32x32x3 for colour, or one number of features (20 = 1x1x20)";
  const clt_ini_entry *e;
  clt_status st = lookup(sec, key, &e);
  if (st != CLT_OK) return st;
  if (!e) return missing(sec, key, what);
  long v[3];
  const char *p = e->value;
  for (int k = 0; k < 3; k++) {
    if (*p < '0' || *p > '9') return bad_value(sec, e, "must be %s", what);
    long x = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
      x = x * 10 + (*p - '0');
      if (x > CLT_INI_MAX_SHAPE_EXTENT) x = CLT_INI_MAX_SHAPE_EXTENT + 1; /* saturate */
    }
    v[k] = x;
    if (k == 0 && *p == '\0') { /* "input = 20": 20 features, a 1x1x20 sample (CSV tables) */
      v[2] = v[0];
      v[0] = v[1] = 1;
      break;
    }
    if (k < 2) {
      if (*p != 'x') return bad_value(sec, e, "must be %s", what);
      p++;
    }
  }
  if (*p != '\0') return bad_value(sec, e, "must be %s", what);
  for (int k = 0; k < 3; k++) {
    if (v[k] < 1 || v[k] > CLT_INI_MAX_SHAPE_EXTENT)
      return bad_value(sec, e, "each of H, W and C must be from 1 to %d", CLT_INI_MAX_SHAPE_EXTENT);
  }
  *h = (int)v[0];
  *w = (int)v[1];
  *c = (int)v[2];
  return CLT_OK;
}

/* ---- whole-section checks and messages ---------------------------------------------------- */

clt_status clt_ini_check_unused(const clt_ini_section *sec) {
  for (int i = 0; i < sec->entry_count; i++) {
    const clt_ini_entry *e = &sec->entries[i];
    if (e->used) continue;
    const struct clt_ini_known *k = sec->known;
    const char *const *names = (const char *const *)k->keys;
    char list[768], key[72], hint[96] = "";
    clt_ini_excerpt(e->key, key, sizeof key);
    const char *near = clt_ini_closest(e->key, names, k->count);
    if (near) snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
    if (k->count == 0)
      return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] unknown key '%s'; this section takes no keys",
                      sec->file, e->line, sec->name, key);
    return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] unknown key '%s'%s; known keys: %s", sec->file,
                    e->line, sec->name, key, hint,
                    clt_ini_join(names, k->count, list, sizeof list));
  }
  return CLT_OK;
}

clt_status clt_ini_unknown_section(const clt_ini_section *sec, const char *const known[]) {
  int n = 0;
  while (known[n]) n++;
  char list[768], hint[96] = "";
  const char *near = clt_ini_closest(sec->name, known, n);
  if (near) snprintf(hint, sizeof hint, " (did you mean [%s]?)", near);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: unknown section [%s]%s; known sections: %s", sec->file,
                  sec->line, sec->name, hint, clt_ini_join(known, n, list, sizeof list));
}

clt_status clt_ini_section_fail(const clt_ini_section *sec, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] %s", sec->file, sec->line, sec->name, msg);
}

clt_status clt_ini_key_fail(const clt_ini_section *sec, const char *key, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const clt_ini_entry *e = find(sec, key);
  if (e) return bad_value(sec, e, "%s", msg);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: [%s] %s: %s", sec->file, sec->line, sec->name, key,
                  msg);
}
