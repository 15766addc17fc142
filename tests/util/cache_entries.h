/* Entries of a program-cache folder, for the program-cache tests. */
#ifndef CLT_TEST_CACHE_ENTRIES_H
#define CLT_TEST_CACHE_ENTRIES_H

#include <stddef.h>

/* Counts "<key>.bin" entries in dir; any other file (a left-over temporary) fails the test.
 * first_key ([33] or NULL) receives the first entry's key. */
int clt_test_cache_entries(const char *dir, char *first_key);

/* "<dir>/<key>.bin" into buf. */
void clt_test_cache_entry_path(char *buf, size_t size, const char *dir, const char key[33]);

/* n bytes of a reproducible pseudo-random "binary" (malloc'ed; seed picks the bytes). */
unsigned char *clt_test_cache_fake_binary(size_t n, unsigned seed);

/* A copy of the environment variable name (malloc'ed; NULL when unset), and setting it back
 * to such a copy (NULL: unset). The cache-folder tests change HOME and XDG_CACHE_HOME. */
char *clt_test_env_save(const char *name);
void clt_test_env_restore(const char *name, const char *saved);

#endif
