/* Every path a user gives (model files, checkpoints, data files, images, logs, kernel files,
 * cache entries) is checked here before it is opened, for reading or for writing.
 *
 * Reading: the path's type is checked with stat() before any open, so that a FIFO with no
 * writer, a device or a folder is refused with one line saying what it is, and never blocks;
 * the open itself uses O_NONBLOCK (cleared after) and the opened file is checked again, so a
 * file swapped in between cannot block either. Reads of a whole file are bounded: never more
 * than the caller's limit, whatever the file claims.
 *
 * Writing: a target must be a regular file or a new path. A device, FIFO, socket or folder is
 * refused; a symbolic link is followed to the regular file it names, and the file written
 * (and renamed over, for atomic saves) is that real file, so the link survives.
 *
 * Statuses: missing, unreadable (permission) or not a regular file when reading:
 * CLT_ERR_MISSING_INPUT; a write target of the wrong type or a symlink loop or dangling link:
 * CLT_ERR_USAGE; other system errors: CLT_ERR_IO; a file over the limit: CLT_ERR_BAD_DATA. */
#ifndef CLT_RUNTIME_FILE_CHECK_H
#define CLT_RUNTIME_FILE_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cltrain/status.h"

/* "a folder", "a character device", "a named pipe (FIFO)", ... for a stat mode. */
const char *clt_file_type_name(unsigned mode);

/* The failure for errno err met while opening path to read; what names the file in messages
 * ("model file"), hint is what to do when it does not exist (NULL: "check the path"). */
clt_status clt_file_read_error(int err, const char *path, const char *what, const char *hint);

/* CLT_OK when path (after symbolic links) is a regular file; else the failure, recorded. */
clt_status clt_file_check_regular(const char *path, const char *what, const char *hint);

/* Opens the regular file path to read (checked as above); its size into *size (may be NULL).
 * The descriptor is blocking and close-on-exec. */
clt_status clt_file_open_read(const char *path, const char *what, const char *hint, int *fd,
                              uint64_t *size);
/* The same as a stdio stream ("rb"). */
clt_status clt_file_fopen_read(const char *path, const char *what, const char *hint, FILE **f,
                               uint64_t *size);

/* The whole regular file path, at most max_bytes, into a malloc'd buffer with a NUL after the
 * last byte; its length into *size. A longer file is CLT_ERR_BAD_DATA naming the limit (too_big
 * is what to say then; NULL: "is this the right file?"). */
clt_status clt_file_read_all(const char *path, const char *what, const char *hint,
                             uint64_t max_bytes, const char *too_big, unsigned char **data,
                             size_t *size);

/* Up to n first bytes of the regular file path into buf; how many into *got. */
clt_status clt_file_read_head(const char *path, const char *what, void *buf, size_t n, size_t *got);

/* Checks a path to write (what: "checkpoint", "log") and gives the file to write, into real:
 * path itself when it does not exist yet or is a regular file, the regular file a symbolic
 * link names (resolved to an absolute path) when it is one. *exists says whether real exists
 * (may be NULL); a link to a name that does not exist yet gives that name (the file is
 * created there, the link stays). A folder, device, FIFO or socket (directly or through
 * links) or a link loop is CLT_ERR_USAGE; a real path longer than size is CLT_ERR_USAGE. */
clt_status clt_file_write_target(const char *path, const char *what, char *real, size_t size,
                                 int *exists);

/* Creates path anew as an empty regular file for writing (a temporary file beside a target):
 * whatever was there is removed first, and O_EXCL makes sure that a link or pipe put there
 * meanwhile is neither followed nor opened. Returns the descriptor, or -1 with errno. */
int clt_file_create_fresh(const char *path);

/* Opens the checked write target real (clt_file_write_target) as a stdio stream: appended to
 * (append) or emptied. The open cannot block (O_NONBLOCK, then cleared) and the opened file
 * must be a regular file; CLT_ERR_IO or CLT_ERR_USAGE naming path on failure. */
clt_status clt_file_fopen_write(const char *real, const char *path, const char *what, int append,
                                FILE **f);

#endif
