/* Files for the tests: one temporary folder per test program ($TMPDIR, else /tmp, named after
 * the program and removed at exit), paths and sub-folders in it, and writing, reading, copying
 * and removing files. Every helper fails the test (cmocka) when the file system refuses. */
#ifndef CLT_TEST_TEMP_FILES_H
#define CLT_TEST_TEMP_FILES_H

#include <stddef.h>

/* Creates the program's temporary folder ($TMPDIR/<program>-XXXXXX); returns its path, or NULL
 * (with errno) when it cannot be made. It is removed with everything in it at exit, or earlier
 * by clt_test_tmpdir_remove(). Call it once (outside a test or in a group setup). */
const char *clt_test_tmpdir_create(void);
/* Removes the temporary folder and everything under it. */
void clt_test_tmpdir_remove(void);
/* The temporary folder's path ("" before clt_test_tmpdir_create()). */
const char *clt_test_tmpdir(void);
/* cmocka group setup and teardown around clt_test_tmpdir_create() / _remove(). */
int clt_test_tmpdir_setup(void **state);
int clt_test_tmpdir_teardown(void **state);

/* "<tmpdir>/<name>", in one of four static buffers used in turn. */
const char *clt_test_tmp_path(const char *name);
/* A new, uniquely named folder "<tmpdir>/<what>-XXXXXX"; its path into buf. */
void clt_test_make_subdir(char *buf, size_t size, const char *what);
/* A new file "<tmpdir>/<what>XXXXXX" holding text; its path into buf. */
void clt_test_make_temp_file(char *buf, size_t size, const char *what, const char *text);

/* Writes size bytes to path (created or replaced). */
void clt_test_write_file(const char *path, const void *data, size_t size);
/* Writes text to "<dir>/<name>". */
void clt_test_write_text(const char *dir, const char *name, const char *text);
/* Writes n bytes to the temporary folder's file name, plain or gzip-compressed; returns its
 * path (as clt_test_tmp_path()). */
const char *clt_test_tmp_write(const char *name, const void *data, size_t n);
const char *clt_test_tmp_write_gz(const char *name, const void *data, size_t n);
/* The whole file (malloc'd, with a NUL after the last byte); its length into *size. */
unsigned char *clt_test_read_file(const char *path, size_t *size);
void clt_test_copy_file(const char *from, const char *to);
/* Removes path: a file, or a folder with everything under it. Nothing when it is absent. */
void clt_test_remove_tree(const char *path);

#endif
