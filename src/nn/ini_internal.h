/* Shared by the model-file parser (ini.c) and its typed getters (ini_get.c); not used outside
 * src/nn. */
#ifndef CLT_NN_INI_INTERNAL_H
#define CLT_NN_INI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/ini.h"

/* The keys the getters asked a section for, for clt_ini_check_unused()'s "known keys". */
struct clt_ini_known {
  int count, cap;
  char **keys; /* owned copies, in the order the getters asked */
};

/* A printable, bounded copy of s for messages (values may be long or hold odd bytes). */
const char *clt_ini_excerpt(const char *s, char *buf, size_t cap);
/* Joins names with ", " into buf, ending with ", ..." when they do not fit. */
const char *clt_ini_join(const char *const *names, int n, char *buf, size_t cap);
/* The closest of names to word (edit distance), or NULL when none is close. */
const char *clt_ini_closest(const char *word, const char *const *names, int n);
/* Grows the array *p (capacity *cap elements of elem bytes) to hold need; false: out of memory. */
bool clt_ini_grow(void **p, int *cap, int need, size_t elem);

#endif
