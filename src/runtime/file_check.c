/* Checks of user paths before they are opened (file_check.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "runtime/file_check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *clt_file_type_name(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

clt_status clt_file_read_error(int err, const char *path, const char *what, const char *hint) {
  if (!hint) hint = "check the path";
  switch (err) {
  case ENOENT:
    return clt_fail(CLT_ERR_MISSING_INPUT, "%s: no such %s; %s", path, what, hint);
  case ENOTDIR:
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: no such %s (a part of the path before the name is not a folder); %s", path,
                    what, hint);
  case EACCES:
  case EPERM:
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: permission denied: cltrain may not read this %s (or search a folder "
                    "on its path); give read access (chmod u+r, and u+x on the folders) or run "
                    "as a user who may",
                    path, what);
  case EISDIR:
    return clt_fail(CLT_ERR_MISSING_INPUT, "%s: is a folder, not a %s; give the %s's path", path,
                    what, what);
  case ELOOP:
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: too many levels of symbolic links (a link loop); point the link at the "
                    "real %s",
                    path, what);
  case ENAMETOOLONG:
    return clt_fail(CLT_ERR_MISSING_INPUT,
                    "%s: the name is too long for the file system; give a shorter path", path);
  default:
    return clt_fail(CLT_ERR_IO, "%s: cannot open the %s: %s", path, what, strerror(err));
  }
}

/* The refusal of a path to read that is not a regular file. */
static clt_status not_regular(const char *path, unsigned mode, const char *what) {
  if (S_ISDIR(mode))
    return clt_fail(CLT_ERR_MISSING_INPUT, "%s: is a folder, not a %s; give the %s's path", path,
                    what, what);
  return clt_fail(CLT_ERR_MISSING_INPUT,
                  "%s: is %s, not a regular %s; cltrain reads only regular files (a pipe or "
                  "device may block or never end): copy it to a file first",
                  path, clt_file_type_name(mode), what);
}

clt_status clt_file_check_regular(const char *path, const char *what, const char *hint) {
  struct stat sb;
  if (stat(path, &sb) != 0) return clt_file_read_error(errno, path, what, hint);
  if (!S_ISREG(sb.st_mode)) return not_regular(path, sb.st_mode, what);
  return CLT_OK;
}

clt_status clt_file_open_read(const char *path, const char *what, const char *hint, int *fd,
                              uint64_t *size) {
  *fd = -1;
  /* The type first: opening a FIFO with no writer would block even with a later check. */
  CLT_TRY(clt_file_check_regular(path, what, hint));
  int d = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (d < 0) return clt_file_read_error(errno, path, what, hint);
  struct stat sb;
  if (fstat(d, &sb) != 0) {
    int e = errno;
    close(d);
    return clt_fail(CLT_ERR_IO, "%s: cannot read the %s: %s", path, what, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) { /* swapped between stat and open */
    close(d);
    return not_regular(path, sb.st_mode, what);
  }
  int flags = fcntl(d, F_GETFL);
  if (flags >= 0) fcntl(d, F_SETFL, flags & ~O_NONBLOCK);
  *fd = d;
  if (size) *size = (uint64_t)sb.st_size;
  return CLT_OK;
}

clt_status clt_file_fopen_read(const char *path, const char *what, const char *hint, FILE **f,
                               uint64_t *size) {
  *f = NULL;
  int fd;
  CLT_TRY(clt_file_open_read(path, what, hint, &fd, size));
  *f = fdopen(fd, "rb");
  if (!*f) {
    int e = errno;
    close(fd);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: cannot open the %s: %s", path, what, strerror(e));
  }
  return CLT_OK;
}

/* Reads up to n bytes (fewer only at the end of the file). -1 on a read error. */
static ssize_t read_full(int fd, unsigned char *p, size_t n) {
  size_t at = 0;
  while (at < n) {
    ssize_t r = read(fd, p + at, n - at);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    at += (size_t)r;
  }
  return (ssize_t)at;
}

static clt_status too_big(const char *path, const char *what, uint64_t max, const char *say) {
  return clt_fail(CLT_ERR_BAD_DATA, "%s: larger than the %llu bytes a %s may have; %s", path,
                  (unsigned long long)max, what, say ? say : "is this the right file?");
}

clt_status clt_file_read_all(const char *path, const char *what, const char *hint,
                             uint64_t max_bytes, const char *too_big_say, unsigned char **data,
                             size_t *size) {
  *data = NULL;
  *size = 0;
  int fd;
  uint64_t claimed;
  CLT_TRY(clt_file_open_read(path, what, hint, &fd, &claimed));
  if (claimed > max_bytes || claimed >= SIZE_MAX / 2) {
    close(fd);
    return too_big(path, what, max_bytes, too_big_say);
  }
  /* The claimed size plus one byte, to see a file that grew (or a /proc file that claims 0):
   * then the buffer grows, never past max_bytes + 1. */
  size_t cap = (size_t)claimed + 1, len = 0;
  unsigned char *p = malloc(cap + 1);
  clt_status st = CLT_OK;
  for (;;) {
    if (!p) {
      st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s (%zu bytes)", path, cap);
      break;
    }
    ssize_t r = read_full(fd, p + len, cap - len);
    if (r < 0) {
      st = clt_fail(CLT_ERR_IO, "%s: cannot read the %s: %s", path, what, strerror(errno));
      break;
    }
    len += (size_t)r;
    if (len > max_bytes) {
      st = too_big(path, what, max_bytes, too_big_say);
      break;
    }
    if (len < cap) break; /* the end of the file */
    size_t grown = cap * 2 > max_bytes + 1 ? (size_t)max_bytes + 1 : cap * 2;
    unsigned char *q = realloc(p, grown + 1);
    if (!q) free(p);
    p = q;
    cap = grown;
  }
  close(fd);
  if (st != CLT_OK) {
    free(p);
    return st;
  }
  p[len] = '\0';
  *data = p;
  *size = len;
  return CLT_OK;
}

clt_status clt_file_read_head(const char *path, const char *what, void *buf, size_t n,
                              size_t *got) {
  *got = 0;
  int fd;
  CLT_TRY(clt_file_open_read(path, what, NULL, &fd, NULL));
  ssize_t r = read_full(fd, buf, n);
  int e = errno;
  close(fd);
  if (r < 0) return clt_fail(CLT_ERR_IO, "%s: cannot read the %s: %s", path, what, strerror(e));
  *got = (size_t)r;
  return CLT_OK;
}

static clt_status refuse_target(const char *path, const char *real, unsigned mode,
                                const char *what) {
  char via[PATH_MAX + 32] = "";
  if (real) snprintf(via, sizeof via, " (through a symbolic link to %s)", real);
  return clt_fail(CLT_ERR_USAGE,
                  "%s%s is %s; cltrain writes a %s only to a regular file or a new path, and "
                  "never replaces anything else: give a file name",
                  path, via, clt_file_type_name(mode), what);
}

static clt_status copy_real(const char *from, char *real, size_t size) {
  if (strlen(from) >= size)
    return clt_fail(CLT_ERR_USAGE, "%s: the path is too long; give a shorter one", from);
  memcpy(real, from, strlen(from) + 1);
  return CLT_OK;
}

/* The new file a chain of symbolic links that ends in a missing name points at (the file to
 * create: the links stay). */
static clt_status dangling_target(const char *path, char *real, size_t size) {
  char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
  if (strlen(path) >= sizeof cur)
    return clt_fail(CLT_ERR_USAGE, "%s: the path is too long; give a shorter one", path);
  strcpy(cur, path);
  for (int hops = 0; hops < 40; hops++) {
    ssize_t n = readlink(cur, target, sizeof target - 1);
    if (n < 0) break;
    target[n] = '\0';
    const char *slash = strrchr(cur, '/');
    int k = target[0] == '/' || !slash
                ? snprintf(next, sizeof next, "%s", target)
                : snprintf(next, sizeof next, "%.*s/%s", (int)(slash - cur), cur, target);
    if (k < 0 || (size_t)k >= sizeof next) break;
    struct stat lb;
    if (lstat(next, &lb) != 0) {
      if (errno != ENOENT) break;
      return copy_real(next, real, size); /* created by the write, through the links */
    }
    if (!S_ISLNK(lb.st_mode)) break; /* appeared meanwhile: give up rather than guess */
    strcpy(cur, next);
  }
  return clt_fail(CLT_ERR_USAGE,
                  "%s: a symbolic link that cannot be followed to a file; point it at a file or "
                  "give another path",
                  path);
}

clt_status clt_file_write_target(const char *path, const char *what, char *real, size_t size,
                                 int *exists) {
  int dummy;
  if (!exists) exists = &dummy;
  *exists = 0;
  struct stat lb;
  if (lstat(path, &lb) != 0) {
    int e = errno;
    if (e == ENOENT)
      return copy_real(path, real, size); /* a new file; its folder is checked
                                             when it is created */
    if (e == EACCES || e == EPERM)
      return clt_fail(CLT_ERR_IO,
                      "%s: permission denied: cltrain may not reach this path to write the %s; "
                      "choose a writable folder",
                      path, what);
    if (e == ENOTDIR)
      return clt_fail(CLT_ERR_IO,
                      "%s: a part of the path before the name is not a folder; give a path in "
                      "an existing folder",
                      path);
    return clt_fail(CLT_ERR_IO, "%s: cannot write the %s: %s", path, what, strerror(e));
  }
  if (S_ISREG(lb.st_mode)) {
    *exists = 1;
    return copy_real(path, real, size);
  }
  if (!S_ISLNK(lb.st_mode)) return refuse_target(path, NULL, lb.st_mode, what);
  struct stat sb;
  if (stat(path, &sb) != 0) {
    int e = errno;
    if (e == ELOOP)
      return clt_fail(CLT_ERR_USAGE,
                      "%s: too many levels of symbolic links (a link loop); point the link at "
                      "a real file or give another path",
                      path);
    if (e == ENOENT) return dangling_target(path, real, size);
    return clt_fail(CLT_ERR_IO, "%s: cannot follow the symbolic link: %s", path, strerror(e));
  }
  char resolved[PATH_MAX];
  if (!realpath(path, resolved))
    return clt_fail(CLT_ERR_IO, "%s: cannot resolve the symbolic link: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return refuse_target(path, resolved, sb.st_mode, what);
  *exists = 1;
  return copy_real(resolved, real, size);
}

int clt_file_create_fresh(const char *path) {
  if (unlink(path) != 0 && errno != ENOENT) return -1;
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

clt_status clt_file_fopen_write(const char *real, const char *path, const char *what, int append,
                                FILE **f) {
  *f = NULL;
  int fd = open(
      real, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (append ? O_APPEND : 0), 0644);
  if (fd < 0)
    return clt_fail(CLT_ERR_IO,
                    "cannot open %s %s: %s; check that the folder exists and is writable", what,
                    path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return clt_fail(CLT_ERR_IO, "cannot open %s %s: %s", what, path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) { /* swapped in after the check */
    close(fd);
    return refuse_target(path, NULL, sb.st_mode, what);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (!append && ftruncate(fd, 0) != 0) {
    int e = errno;
    close(fd);
    return clt_fail(CLT_ERR_IO, "cannot empty %s %s: %s", what, path, strerror(e));
  }
  *f = fdopen(fd, append ? "a" : "w");
  if (!*f) {
    int e = errno;
    close(fd);
    return clt_fail(CLT_ERR_IO, "cannot open %s %s: %s", what, path, strerror(e));
  }
  return CLT_OK;
}
