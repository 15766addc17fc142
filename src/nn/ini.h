/* The model-file grammar: a strict INI-style reader with line numbers and typed getters.
 *
 * Grammar, one construct per line:
 *   [name]          a section header; names are letters, digits, '_', '-', '.'
 *   key = value     an entry of the current section; keys use the same characters,
 *                   the value is the rest of the line, trimmed (it may hold '=', not '#' or ';')
 *   # ... or ; ...  a comment, anywhere on a line: the rest of the line is dropped
 *   blank lines
 * Sections may repeat (a model has many [conv]); keys may not repeat within one section.
 * Text is limited to 1 MiB, lines to 4096 characters; NUL bytes and control characters
 * other than tab (and '\r' before a newline) are rejected. A UTF-8 byte-order mark is skipped.
 *
 * Typed getters look a key up in one section, mark it used and remember it as a known key
 * of that section, so that clt_ini_check_unused() can report a misspelt key with the list of
 * keys the section takes. Errors read "FILE:LINE: [section] key = value: what is wrong; what
 * to do". Getters take a const section: they only update its bookkeeping (the used flags and
 * the known-key list, both held behind pointers).
 *
 * Hand-written because the Debian inih is built without per-key line numbers, allows
 * continuation lines and duplicate keys, and truncates long lines silently. */
#ifndef CLT_NN_INI_H
#define CLT_NN_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"

#define CLT_INI_MAX_BYTES        (1u << 20) /* largest text accepted */
#define CLT_INI_MAX_LINE         4096       /* longest line, in bytes, without the newline */
#define CLT_INI_MAX_KEYS         256        /* most entries in one section */
#define CLT_INI_MAX_SHAPE_EXTENT 65536      /* largest H, W or C of a shape value */

typedef struct clt_ini_entry {
  const char *key;
  const char *value; /* trimmed, never empty */
  int line;          /* 1-based */
  bool used;         /* set by the getters */
} clt_ini_entry;

struct clt_ini_known; /* private: the keys asked for by getters */

typedef struct clt_ini_section {
  const char *file; /* display name of the text, for messages */
  const char *name; /* without the brackets */
  int line;         /* line of the header */
  int entry_count;
  clt_ini_entry *entries; /* in file order */
  struct clt_ini_known *known;
} clt_ini_section;

typedef struct clt_ini {
  const char *name; /* the path, or the display name given to clt_ini_parse() */
  int section_count;
  clt_ini_section *sections; /* in file order */
  void *priv_;               /* private storage */
} clt_ini;

/* Reads and parses a file. Missing file: CLT_ERR_MISSING_INPUT; unreadable: CLT_ERR_IO;
 * malformed or too large: CLT_ERR_BAD_DATA. On success *out is owned by the caller. */
clt_status clt_ini_load(const char *path, clt_ini **out);
/* Parses len bytes of text (which may contain NULs, which are rejected); name is used in
 * messages in place of a path (e.g. "checkpoint.clt:model"), NULL means "<string>". */
clt_status clt_ini_parse(const char *text, size_t len, const char *name, clt_ini **out);
/* As clt_ini_parse() with len = strlen(text). */
clt_status clt_ini_parse_string(const char *text, const char *name, clt_ini **out);
void clt_ini_free(clt_ini *ini);

/* Records key as known and returns whether the section has it (does not mark it used). */
bool clt_ini_has(const clt_ini_section *sec, const char *key);

/* Optional getters: when the key is absent, *out = def and CLT_OK.
 * Required getters (clt_ini_require_*): an absent key is an error naming the section's line.
 * All return CLT_ERR_BAD_DATA on a bad value (and leave *out unchanged), or
 * CLT_ERR_OUT_OF_MEMORY when the known-key list cannot grow. */

/* A whole decimal integer (optional sign) in [min, max]. */
clt_status clt_ini_get_int(const clt_ini_section *sec, const char *key, int def, int min, int max,
                           int *out);
clt_status clt_ini_require_int(const clt_ini_section *sec, const char *key, int min, int max,
                               int *out);
clt_status clt_ini_get_i64(const clt_ini_section *sec, const char *key, int64_t def, int64_t min,
                           int64_t max, int64_t *out);

/* A finite number (strtod, the whole value) in [min, max]; pass -INFINITY / INFINITY for no
 * bound. clt_ini_get_float_ex() takes flags: CLT_INI_ABOVE_MIN makes the lower bound strict
 * (value > min), CLT_INI_BELOW_MAX the upper one (value < max), CLT_INI_REQUIRED makes the key
 * required (def is then unused). */
enum {
  CLT_INI_REQUIRED = 1u << 0,
  CLT_INI_ABOVE_MIN = 1u << 1,
  CLT_INI_BELOW_MAX = 1u << 2,
};
clt_status clt_ini_get_float(const clt_ini_section *sec, const char *key, double def, double min,
                             double max, double *out);
clt_status clt_ini_require_float(const clt_ini_section *sec, const char *key, double min,
                                 double max, double *out);
clt_status clt_ini_get_float_ex(const clt_ini_section *sec, const char *key, double def, double min,
                                double max, unsigned flags, double *out);

/* 0, 1, true, false, yes, no (letters in any case). */
clt_status clt_ini_get_bool(const clt_ini_section *sec, const char *key, bool def, bool *out);
clt_status clt_ini_require_bool(const clt_ini_section *sec, const char *key, bool *out);

/* One of a NULL-terminated list of names (exact match); *out is its index. The error lists the
 * choices. def is an index into choices. */
clt_status clt_ini_get_choice(const clt_ini_section *sec, const char *key, int def,
                              const char *const choices[], int *out);
clt_status clt_ini_require_choice(const clt_ini_section *sec, const char *key,
                                  const char *const choices[], int *out);

/* The raw value; the pointer lives as long as the clt_ini. def may be NULL. */
clt_status clt_ini_get_string(const clt_ini_section *sec, const char *key, const char *def,
                              const char **out);
clt_status clt_ini_require_string(const clt_ini_section *sec, const char *key, const char **out);

/* A shape "HxWxC" such as 28x28x1, each extent from 1 to 65536. Required: a shape has no
 * sensible default (use clt_ini_has() first for an optional one). */
clt_status clt_ini_get_shape_hwc(const clt_ini_section *sec, const char *key, int *h, int *w,
                                 int *c);

/* After all getters of a section: CLT_ERR_BAD_DATA for the first entry no getter consumed,
 * "FILE:LINE: [conv] unknown key 'filter' (did you mean 'filters'?); known keys: filters, ..." */
clt_status clt_ini_check_unused(const clt_ini_section *sec);

/* "FILE:LINE: unknown section [foo]; known sections: net, conv, ..." (known is
 * NULL-terminated); returns CLT_ERR_BAD_DATA. */
clt_status clt_ini_unknown_section(const clt_ini_section *sec, const char *const known[]);

/* For checks the getters cannot make (one key against another). Both return CLT_ERR_BAD_DATA.
 * clt_ini_section_fail: "FILE:LINE: [name] <message>" with the header's line.
 * clt_ini_key_fail: "FILE:LINE: [name] key = value: <message>" with the entry's line, or
 * "FILE:LINE: [name] key: <message>" with the header's line when the key is absent. */
clt_status clt_ini_section_fail(const clt_ini_section *sec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
clt_status clt_ini_key_fail(const clt_ini_section *sec, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
