/* The checks of user paths (src/runtime/file_check.c) and the write-target rules built on them
 * (checkpoint and log targets, src/train/save_targets.c), without a device:
 *   - reading: a FIFO with no writer is refused at once (the test runs under an alarm), a
 *     folder, device or socket too, errno in words (no such file, a path through a file, a
 *     link loop, a name too long, permission denied); whole-file reads stop at their limit
 *     even for a file that claims to be empty (/proc);
 *   - writing: a regular file or a new path is written in place, a symbolic link (also one
 *     to a name that does not exist yet) is resolved to its file, a folder, device, FIFO,
 *     socket or link loop is refused; a checkpoint target that holds something else, a log
 *     target that is a checkpoint or another file, need overwrite; a checkpoint written
 *     through a link leaves the link; a log reopened on resume through a link leaves it. */
#define _DEFAULT_SOURCE /* symlink, mkfifo */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/file_check.h"
#include "train/checkpoint.h"
#include "train/save_targets.h"
#include "train/train_log.h"
#include "util/expect.h"
#include "util/temp_files.h"

static const char *at(const char *name) {
  return clt_test_tmp_path(name);
}

static void fresh_fifo(const char *name) {
  unlink(at(name));
  assert_int_equal(mkfifo(at(name), 0644), 0);
}

static void fresh_link(const char *target, const char *name) {
  unlink(at(name));
  assert_int_equal(symlink(target, at(name)), 0);
}

static void test_read_refuses_what_is_not_a_file(void **state) {
  (void)state;
  alarm(20); /* a regression blocks on the FIFO: SIGALRM ends the program, a failure */
  fresh_fifo("in.fifo");
  int fd = -1;
  EXPECT_FAIL(clt_file_open_read(at("in.fifo"), "model file", NULL, &fd, NULL),
              CLT_ERR_MISSING_INPUT, "named pipe (FIFO), not a regular model file");
  assert_int_equal(fd, -1);
  unsigned char *data = NULL;
  size_t n;
  EXPECT_FAIL(clt_file_read_all(at("in.fifo"), "checkpoint file", NULL, 1 << 20, NULL, &data, &n),
              CLT_ERR_MISSING_INPUT, "named pipe");
  EXPECT_FAIL(clt_file_read_all("/dev/zero", "checkpoint file", NULL, 1 << 20, NULL, &data, &n),
              CLT_ERR_MISSING_INPUT, "character device");
  EXPECT_FAIL(clt_file_read_all(clt_test_tmpdir(), "model file", NULL, 1 << 20, NULL, &data, &n),
              CLT_ERR_MISSING_INPUT, "is a folder, not a model file");
  assert_null(data);
  /* The train log on resume: a FIFO is refused before it is opened. */
  FILE *log = NULL;
  EXPECT_FAIL(clt_train_log_open(at("in.fifo"), 1, 1, 0, &log), CLT_ERR_USAGE, "named pipe");
  assert_null(log);
  alarm(0);
}

static void test_read_errors_in_words(void **state) {
  (void)state;
  int fd;
  EXPECT_FAIL(clt_file_open_read(at("absent.cfg"), "model file", "try models/", &fd, NULL),
              CLT_ERR_MISSING_INPUT, "no such model file; try models/");
  clt_test_write_file(at("plain"), "x", 1);
  char below[1200];
  snprintf(below, sizeof below, "%s/inside.cfg", at("plain"));
  EXPECT_FAIL(clt_file_open_read(below, "model file", NULL, &fd, NULL), CLT_ERR_MISSING_INPUT,
              "not a folder");
  fresh_link("loop-b", "loop-a");
  fresh_link("loop-a", "loop-b");
  EXPECT_FAIL(clt_file_open_read(at("loop-a"), "model file", NULL, &fd, NULL),
              CLT_ERR_MISSING_INPUT, "link loop");
  char longname[400];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  EXPECT_FAIL(clt_file_open_read(at(longname), "model file", NULL, &fd, NULL),
              CLT_ERR_MISSING_INPUT, "too long");
  /* Permission denied is not "not found" (the errno a non-root user meets; the CLI test
   * meets it for real as user nobody). */
  EXPECT_FAIL(clt_file_read_error(EACCES, "m.cfg", "model file", NULL), CLT_ERR_MISSING_INPUT,
              "permission denied");
  EXPECT_FAIL(clt_file_read_error(EIO, "m.cfg", "model file", NULL), CLT_ERR_IO, "m.cfg");
}

static void test_reads_are_bounded(void **state) {
  (void)state;
  unsigned char bytes[100];
  memset(bytes, 'a', sizeof bytes);
  clt_test_write_file(at("hundred"), bytes, sizeof bytes);
  unsigned char *data;
  size_t n;
  OK(clt_file_read_all(at("hundred"), "file", NULL, 100, NULL, &data, &n));
  assert_int_equal(n, 100);
  assert_int_equal(data[100], '\0');
  free(data);
  EXPECT_FAIL(clt_file_read_all(at("hundred"), "file", NULL, 99, "too big!", &data, &n),
              CLT_ERR_BAD_DATA, "too big!");
  /* A /proc file claims 0 bytes: read to its end, and never past the limit. */
  OK(clt_file_read_all("/proc/self/status", "file", NULL, 1 << 20, NULL, &data, &n));
  assert_true(n > 16);
  assert_non_null(strstr((char *)data, "Name:"));
  free(data);
  EXPECT_FAIL(clt_file_read_all("/proc/self/status", "file", NULL, 16, NULL, &data, &n),
              CLT_ERR_BAD_DATA, "larger than the 16 bytes");
  size_t got;
  char head[4];
  OK(clt_file_read_head(at("hundred"), "file", head, sizeof head, &got));
  assert_int_equal(got, 4);
}

static void test_write_targets(void **state) {
  (void)state;
  char real[PATH_MAX];
  int exists = -1;
  unlink(at("new.ckpt"));
  OK(clt_file_write_target(at("new.ckpt"), "checkpoint", real, sizeof real, &exists));
  assert_string_equal(real, at("new.ckpt"));
  assert_int_equal(exists, 0);
  clt_test_write_file(at("file.ckpt"), "x", 1);
  OK(clt_file_write_target(at("file.ckpt"), "checkpoint", real, sizeof real, &exists));
  assert_int_equal(exists, 1);
  /* a link to a file: its real path; a link to a link to a name not there yet: that name */
  fresh_link("file.ckpt", "to-file.ckpt");
  OK(clt_file_write_target(at("to-file.ckpt"), "checkpoint", real, sizeof real, &exists));
  char want[PATH_MAX];
  assert_non_null(realpath(at("file.ckpt"), want));
  assert_string_equal(real, want);
  unlink(at("later.ckpt"));
  fresh_link("later.ckpt", "hop.ckpt");
  fresh_link("hop.ckpt", "to-later.ckpt");
  OK(clt_file_write_target(at("to-later.ckpt"), "checkpoint", real, sizeof real, &exists));
  assert_string_equal(real, at("later.ckpt"));
  assert_int_equal(exists, 0);
  /* never a folder, device, FIFO, socket or loop, directly or through a link */
  EXPECT_FAIL(clt_file_write_target(clt_test_tmpdir(), "log", real, sizeof real, NULL),
              CLT_ERR_USAGE, "a folder");
  EXPECT_FAIL(clt_file_write_target("/dev/null", "checkpoint", real, sizeof real, NULL),
              CLT_ERR_USAGE, "character device");
  fresh_fifo("out.fifo");
  EXPECT_FAIL(clt_file_write_target(at("out.fifo"), "checkpoint", real, sizeof real, NULL),
              CLT_ERR_USAGE, "named pipe");
  fresh_link("/dev/null", "to-null");
  EXPECT_FAIL(clt_file_write_target(at("to-null"), "log", real, sizeof real, NULL), CLT_ERR_USAGE,
              "through a symbolic link to /dev/null");
  fresh_link("loop-d", "loop-c");
  fresh_link("loop-c", "loop-d");
  EXPECT_FAIL(clt_file_write_target(at("loop-c"), "log", real, sizeof real, NULL), CLT_ERR_USAGE,
              "link loop");
  unlink(at("out.sock"));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", at("out.sock"));
  assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
  EXPECT_FAIL(clt_file_write_target(at("out.sock"), "checkpoint", real, sizeof real, NULL),
              CLT_ERR_USAGE, "socket");
  close(s);
}

/* A checkpoint with one empty model section: enough for the writer. */
static void tiny_checkpoint(clt_checkpoint *ck) {
  memset(ck, 0, sizeof *ck);
  ck->version = CLT_CHECKPOINT_VERSION;
  ck->model_text = "[net]\n";
  ck->model_length = 6;
}

static void test_checkpoint_and_log_kinds(void **state) {
  (void)state;
  clt_checkpoint ck;
  tiny_checkpoint(&ck);
  /* Writing through a link replaces the file it names; the link stays. */
  unlink(at("kept.ckpt"));
  fresh_link("kept.ckpt", "kept-link.ckpt");
  OK(clt_checkpoint_write(at("kept-link.ckpt"), &ck));
  OK(clt_checkpoint_write(at("kept-link.ckpt"), &ck));
  struct stat sb;
  assert_int_equal(lstat(at("kept-link.ckpt"), &sb), 0);
  assert_true(S_ISLNK(sb.st_mode));
  size_t n;
  unsigned char *bytes = clt_test_read_file(at("kept.ckpt"), &n);
  assert_true(clt_checkpoint_has_magic(bytes, n));
  free(bytes);
  /* A FIFO is not replaced by a save. */
  fresh_fifo("save.fifo");
  EXPECT_FAIL(clt_checkpoint_write(at("save.fifo"), &ck), CLT_ERR_USAGE, "named pipe");
  assert_int_equal(lstat(at("save.fifo"), &sb), 0);
  assert_true(S_ISFIFO(sb.st_mode));

  /* --save onto: a checkpoint, an empty file or a new path is fine; anything else needs
   * --overwrite. */
  OK(clt_checkpoint_target_check(at("kept.ckpt"), 0));
  clt_test_write_file(at("empty"), "", 0);
  OK(clt_checkpoint_target_check(at("empty"), 0));
  clt_test_write_file(at("notes.txt"), "notes\n", 6);
  EXPECT_FAIL(clt_checkpoint_target_check(at("notes.txt"), 0), CLT_ERR_USAGE, "allow overwriting");
  OK(clt_checkpoint_target_check(at("notes.txt"), 1));

  /* --log onto: a log, an empty file or a new path is fine; a checkpoint or another file
   * needs --overwrite. */
  char real[PATH_MAX];
  EXPECT_FAIL(clt_train_log_target(at("kept.ckpt"), 0, real, sizeof real), CLT_ERR_USAGE,
              "checkpoint, not a log");
  EXPECT_FAIL(clt_train_log_target(at("notes.txt"), 0, real, sizeof real), CLT_ERR_USAGE,
              "not a cltrain log");
  OK(clt_train_log_target(at("notes.txt"), 1, real, sizeof real));
  OK(clt_train_log_target(at("empty"), 0, real, sizeof real));
  static const char log_text[] = CLT_TRAIN_LOG_HEADER "\n1,8,1,1,,,0.1,1,1\n2,16,1,1,,,0.1,1,1\n";
  clt_test_write_file(at("real.csv"), log_text, strlen(log_text));
  OK(clt_train_log_target(at("real.csv"), 0, real, sizeof real));
  EXPECT_FAIL(clt_save_targets_check(at("run.ckpt"), 0, at("run.ckpt"), 1), CLT_ERR_USAGE,
              "same file");

  /* Reopened on resume through a link: epoch 2 dropped, the link stays a link. */
  fresh_link("real.csv", "link.csv");
  FILE *log;
  OK(clt_train_log_open(at("link.csv"), 1, 1, 0, &log));
  fclose(log);
  assert_int_equal(lstat(at("link.csv"), &sb), 0);
  assert_true(S_ISLNK(sb.st_mode));
  char *text = (char *)clt_test_read_file(at("real.csv"), &n);
  assert_non_null(strstr(text, "\n1,8,"));
  assert_null(strstr(text, "\n2,16,"));
  free(text);
  /* The checkpoint is not touched by a refused log. */
  bytes = clt_test_read_file(at("kept.ckpt"), &n);
  EXPECT_FAIL(clt_train_log_open(at("kept.ckpt"), 0, 0, 0, &log), CLT_ERR_USAGE, "checkpoint");
  size_t n2;
  unsigned char *after = clt_test_read_file(at("kept.ckpt"), &n2);
  assert_int_equal(n, n2);
  assert_memory_equal(bytes, after, n);
  free(bytes);
  free(after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_refuses_what_is_not_a_file),
      cmocka_unit_test(test_read_errors_in_words),
      cmocka_unit_test(test_reads_are_bounded),
      cmocka_unit_test(test_write_targets),
      cmocka_unit_test(test_checkpoint_and_log_kinds),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
