/* The model-file grammar (see ini.h). One pass over a private copy of the text: lines are cut
 * in place, keys and values point into that copy. */
#include "nn/ini.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "nn/ini_internal.h"
#include "runtime/file_check.h"

typedef struct store {
  char *text; /* the cut-up copy of the input */
  char *name;
  clt_ini_entry *entries;      /* every entry of the file; each section holds a slice */
  struct clt_ini_known *known; /* one per section */
} store;

/* ---- small helpers ------------------------------------------------------------------------ */

static bool is_name_char(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-' || ch == '.';
}

static bool is_valid_name(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!is_name_char((unsigned char)*s)) return false;
  return true;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

/* A printable, bounded copy of s for messages (values may be long or hold odd bytes). */
const char *clt_ini_excerpt(const char *s, char *buf, size_t cap) {
  const size_t keep = cap - 4; /* room for "..." and the NUL */
  size_t i = 0;
  for (; s[i] && i < keep; i++) {
    unsigned char ch = (unsigned char)s[i];
    buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
  }
  if (s[i]) {
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--; /* whole UTF-8 characters */
    memcpy(buf + i, "...", 4);
  } else {
    buf[i] = '\0';
  }
  return buf;
}

/* Joins names with ", " into buf, ending with ", ..." when they do not fit. */

const char *clt_ini_join(const char *const *names, int n, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < n; i++) {
    size_t need = strlen(names[i]) + (i ? 2 : 0);
    if (len + need + 6 >= cap) {
      memcpy(buf + len, i ? ", ..." : "...", i ? 6 : 4);
      break;
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
  }
  return buf;
}

/* Edit distance, for "did you mean"; large for long strings. */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 1000;
  int row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int up = row[j];
      int best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* The closest of names to word, or NULL when none is close. */
const char *clt_ini_closest(const char *word, const char *const *names, int n) {
  int limit = strlen(word) <= 3 ? 1 : 2;
  const char *best = NULL;
  int best_d = limit + 1;
  for (int i = 0; i < n; i++) {
    int d = edit_distance(word, names[i]);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best;
}

static clt_status fail_line(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static clt_status fail_line(const char *file, int line, const char *fmt, ...) {
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clt_fail(CLT_ERR_BAD_DATA, "%s:%d: %s", file, line, msg);
}

/* ---- parsing ------------------------------------------------------------------------------ */

typedef struct parser {
  const char *name;
  clt_ini_section *secs;
  int *first; /* index of each section's first entry */
  int nsec, capsec;
  clt_ini_entry *ents;
  int nent, capent;
} parser;

bool clt_ini_grow(void **p, int *cap, int need, size_t elem) {
  if (need <= *cap) return true;
  int ncap = *cap ? *cap * 2 : 16;
  while (ncap < need) ncap *= 2;
  void *q = realloc(*p, (size_t)ncap * elem);
  if (!q) return false;
  *p = q;
  *cap = ncap;
  return true;
}

static clt_status add_section(parser *ps, const char *name, int line) {
  int cap = ps->capsec;
  if (!clt_ini_grow((void **)&ps->secs, &cap, ps->nsec + 1, sizeof *ps->secs)) goto oom;
  cap = ps->capsec;
  if (!clt_ini_grow((void **)&ps->first, &cap, ps->nsec + 1, sizeof *ps->first)) goto oom;
  ps->capsec = cap;
  ps->secs[ps->nsec] = (clt_ini_section){.name = name, .line = line};
  ps->first[ps->nsec] = ps->nent;
  ps->nsec++;
  return CLT_OK;
oom:
  return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s:%d: out of host memory while reading the model",
                  ps->name, line);
}

static clt_status add_entry(parser *ps, const char *key, const char *value, int line) {
  clt_ini_section *sec = &ps->secs[ps->nsec - 1];
  for (int i = ps->first[ps->nsec - 1]; i < ps->nent; i++) {
    if (strcmp(ps->ents[i].key, key) == 0)
      return fail_line(ps->name, line, "[%s] duplicate key '%s' (first set on line %d); keep one",
                       sec->name, key, ps->ents[i].line);
  }
  if (sec->entry_count >= CLT_INI_MAX_KEYS)
    return fail_line(ps->name, line, "[%s] more than %d keys in one section; is this a model file?",
                     sec->name, CLT_INI_MAX_KEYS);
  if (!clt_ini_grow((void **)&ps->ents, &ps->capent, ps->nent + 1, sizeof *ps->ents))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s:%d: out of host memory while reading the model",
                    ps->name, line);
  ps->ents[ps->nent++] = (clt_ini_entry){.key = key, .value = value, .line = line};
  sec->entry_count++;
  return CLT_OK;
}

/* Parses one line, already cut out, checked for bad bytes and stripped of its comment. */
static clt_status parse_line(parser *ps, char *raw, int line) {
  char buf[64];
  char *s = trim(raw);
  if (!*s) return CLT_OK;
  if (*s == '[') {
    char *close = strchr(s, ']');
    if (!close)
      return fail_line(ps->name, line, "'[' without closing ']'; write a section header as [name]");
    if (close[1] != '\0')
      return fail_line(ps->name, line,
                       "text after ']' in section header: '%s'; put keys on "
                       "their own lines",
                       clt_ini_excerpt(close + 1, buf, sizeof buf));
    *close = '\0';
    char *name = trim(s + 1);
    if (!*name)
      return fail_line(ps->name, line,
                       "empty section name '[]'; write the section type, e.g. [conv]");
    if (!is_valid_name(name))
      return fail_line(ps->name, line,
                       "bad section name [%s]; names are letters, digits, '_', '-' or '.'",
                       clt_ini_excerpt(name, buf, sizeof buf));
    return add_section(ps, name, line);
  }
  char *eq = strchr(s, '=');
  if (!eq)
    return fail_line(ps->name, line, "expected '[section]' or 'key = value', found '%s'",
                     clt_ini_excerpt(s, buf, sizeof buf));
  *eq = '\0';
  char *key = trim(s);
  char *value = trim(eq + 1);
  if (!*key) return fail_line(ps->name, line, "missing key before '='; write 'key = value'");
  if (!is_valid_name(key))
    return fail_line(ps->name, line, "bad key '%s'; keys are letters, digits, '_', '-' or '.'",
                     clt_ini_excerpt(key, buf, sizeof buf));
  if (ps->nsec == 0)
    return fail_line(ps->name, line,
                     "key '%s' before any section; put a section header such as [net] above it",
                     key);
  if (!*value)
    return fail_line(ps->name, line,
                     "[%s] %s: missing value; write '%s = VALUE' or delete the line",
                     ps->secs[ps->nsec - 1].name, key, key);
  return add_entry(ps, key, value, line);
}

static clt_status parse_text(parser *ps, char *text, size_t len) {
  size_t pos = 0;
  int line = 0;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3; /* UTF-8 byte-order mark */
  while (pos < len) {
    line++;
    char *start = text + pos;
    char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r') n--;
    if (n > CLT_INI_MAX_LINE)
      return fail_line(ps->name, line,
                       "line longer than %d characters; is this a model file (plain text)?",
                       CLT_INI_MAX_LINE);
    for (size_t i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)start[i];
      if (ch == 0)
        return fail_line(ps->name, line,
                         "NUL byte at column %zu; a model file is plain text, is this binary data?",
                         i + 1);
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        return fail_line(ps->name, line,
                         "control character 0x%02x at column %zu; a model file is plain text", ch,
                         i + 1);
    }
    start[n] = '\0';
    for (size_t i = 0; i < n; i++) {
      if (start[i] == '#' || start[i] == ';') {
        start[i] = '\0';
        break;
      }
    }
    clt_status st = parse_line(ps, start, line);
    if (st != CLT_OK) return st;
  }
  return CLT_OK;
}

clt_status clt_ini_parse(const char *text, size_t len, const char *name, clt_ini **out) {
  *out = NULL;
  if (!name) name = "<string>";
  if (len > CLT_INI_MAX_BYTES)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %zu bytes, larger than the %u-byte (1 MiB) limit of a model file; is this "
                    "the right file?",
                    name, len, CLT_INI_MAX_BYTES);
  clt_ini *ini = calloc(1, sizeof *ini);
  store *sto = calloc(1, sizeof *sto);
  char *copy = malloc(len + 1);
  char *name_copy = strdup(name);
  parser ps = {.name = name_copy};
  clt_status st = CLT_OK;
  if (ini && sto) ini->priv_ = sto; /* from here clt_ini_free() releases everything */
  if (sto) {
    sto->text = copy;
    sto->name = name_copy;
  }
  if (!ini || !sto || !copy || !name_copy) {
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of host memory while reading the model", name);
    goto fail;
  }
  if (len) memcpy(copy, text, len);
  copy[len] = '\0';
  ini->name = name_copy;

  st = parse_text(&ps, sto->text, len);
  if (st != CLT_OK) goto fail;

  sto->known = calloc((size_t)(ps.nsec > 0 ? ps.nsec : 1), sizeof *sto->known);
  if (!sto->known) {
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of host memory while reading the model", name);
    goto fail;
  }
  sto->entries = ps.ents;
  ps.ents = NULL;
  for (int i = 0; i < ps.nsec; i++) {
    clt_ini_section *sec = &ps.secs[i];
    sec->file = sto->name;
    sec->entries = sto->entries ? sto->entries + ps.first[i] : NULL;
    sec->known = &sto->known[i];
  }
  ini->sections = ps.secs;
  ini->section_count = ps.nsec;
  ps.secs = NULL;
  free(ps.first);
  *out = ini;
  return CLT_OK;

fail:
  free(ps.secs);
  free(ps.first);
  free(ps.ents);
  if (ini && ini->priv_) { /* sto owns copy and name_copy */
    clt_ini_free(ini);
  } else {
    free(copy);
    free(name_copy);
    free(sto);
    free(ini);
  }
  return st;
}

clt_status clt_ini_parse_string(const char *text, const char *name, clt_ini **out) {
  return clt_ini_parse(text, strlen(text), name, out);
}

clt_status clt_ini_load(const char *path, clt_ini **out) {
  *out = NULL;
  unsigned char *text;
  size_t len;
  CLT_TRY(clt_file_read_all(path, "model file", "check the path", CLT_INI_MAX_BYTES,
                            "is this the right file?", &text, &len));
  clt_status st = clt_ini_parse((const char *)text, len, path, out);
  free(text);
  return st;
}

void clt_ini_free(clt_ini *ini) {
  if (!ini) return;
  store *sto = ini->priv_;
  if (sto) {
    if (sto->known) {
      for (int i = 0; i < ini->section_count; i++) {
        for (int k = 0; k < sto->known[i].count; k++) free(sto->known[i].keys[k]);
        free(sto->known[i].keys);
      }
    }
    free(sto->known);
    free(sto->entries);
    free(sto->text);
    free(sto->name);
    free(sto);
  }
  free(ini->sections);
  free(ini);
}
