/* Hostile and unlucky paths through the cltrain command (the built binary, run as a child
 * process on the test device), the families of runtime/file_check.h:
 *   - nothing that is not ours is overwritten: --save onto a device node, a FIFO, a folder,
 *     a socket or an existing non-checkpoint, --log onto a checkpoint or onto the --save
 *     file, are refused (exit 64) and leave the target as it was; --overwrite replaces a
 *     regular file; a --log given through a symbolic link stays a link on --resume and the
 *     real file gets the rows; --resume COPY saves to COPY (not to the path inside it);
 *   - nothing hangs: a model file, checkpoint, data file, image or log that is a FIFO with no
 *     writer, and endless streams (/dev/zero, /dev/urandom) as model, checkpoint, image or
 *     log, are refused within seconds (every child runs under an alarm: a regression exits
 *     142 and fails instead of hanging the suite);
 *   - messages: a folder as model or checkpoint says so, permission denied says so (the
 *     child drops to user nobody when the test runs as root, where chmod 000 does not deny),
 *     an unknown option of every command is one line pointing at --help.
 * Data: synthetic IDX files written here (12x12 images, 10 classes). */
#define _DEFAULT_SOURCE /* mknod, setgroups */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

static clt_test_cli cli;

static const char small_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 1\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                  "[dense]\nunits = 10\n[softmax]\n";

#define EXPECT_EXIT(code, ...) CLT_CLI_EXPECT_EXIT(&cli, code, __VA_ARGS__)
#define EXPECT_ERR(want)       CLT_CLI_EXPECT_ERR(&cli, want)

static const char *at(const char *name) {
  return clt_test_tmp_path(name);
}

static void write_text(const char *name, const char *text) {
  clt_test_write_file(at(name), text, strlen(text));
}

static unsigned char *read_whole(const char *name, size_t *n) {
  return clt_test_read_file(at(name), n);
}

/* Fails unless the file name holds exactly the n bytes of want. */
static void expect_same_bytes(const char *name, const unsigned char *want, size_t n) {
  size_t got_n;
  unsigned char *got = read_whole(name, &got_n);
  if (got_n != n || memcmp(got, want, n) != 0) fail_msg("%s was changed", name);
  free(got);
}

static mode_t type_of(const char *name) {
  struct stat sb;
  assert_int_equal(lstat(at(name), &sb), 0);
  return sb.st_mode & S_IFMT;
}

static void make_fifo(const char *name) {
  unlink(at(name));
  assert_int_equal(mkfifo(at(name), 0644), 0);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  clt_test_write_block_idx_set(cli.folder, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0,
                               256);
  clt_test_write_block_idx_set(cli.folder, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 256,
                               64);
  write_text("small.cfg", small_model);
  /* A run that must not hang gets 60 s, however slow the machine; a hang exits 142. */
  clt_test_cltrain_set_timeout(60);
  return 0;
}

/* A checkpoint after one epoch, as name. */
static void train_one_epoch(const char *name) {
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--save", name);
}

/* ---- overwriting what is not ours ----------------------------------------------------------- */

static void test_save_never_replaces_a_device_fifo_folder_or_socket(void **state) {
  (void)state;
  /* A character device: a node of /dev/null's numbers in the test folder (as root); the test
   * never points an old build at the machine's own /dev/null. */
  unlink(at("null"));
  int have_node = mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) == 0;
  if (have_node) {
    EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "null");
    EXPECT_ERR("character device");
    struct stat sb;
    assert_int_equal(lstat(at("null"), &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    assert_true(sb.st_rdev == makedev(1, 3));
  } else {
    /* Not root: /dev/null itself cannot be replaced by us, and must be refused all the same. */
    EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "/dev/null");
    EXPECT_ERR("character device");
  }
  make_fifo("save.fifo");
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "save.fifo");
  EXPECT_ERR("named pipe");
  assert_int_equal(type_of("save.fifo"), S_IFIFO);

  char dir[1100];
  clt_test_make_subdir(dir, sizeof dir, "save-folder");
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", dir);
  EXPECT_ERR("is a folder");
  struct stat sb;
  assert_int_equal(lstat(dir, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));

  unlink(at("save.sock"));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", at("save.sock"));
  assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "save.sock");
  EXPECT_ERR("socket");
  assert_int_equal(type_of("save.sock"), S_IFSOCK);
  close(s);

  /* The same rule for --log and for --keep-best's file. */
  make_fifo("log.fifo");
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--log", "log.fifo");
  assert_int_equal(type_of("log.fifo"), S_IFIFO);
  make_fifo("k-best.ckpt");
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "k.ckpt", "--keep-best");
  assert_int_equal(type_of("k-best.ckpt"), S_IFIFO);
}

static void test_save_onto_another_file_needs_overwrite(void **state) {
  (void)state;
  static const char notes[] = "not a checkpoint: precious notes\n";
  write_text("notes.txt", notes);
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "notes.txt");
  EXPECT_ERR("--overwrite");
  expect_same_bytes("notes.txt", (const unsigned char *)notes, strlen(notes));
  /* The model file itself, a slip for --save. */
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "small.cfg");
  expect_same_bytes("small.cfg", (const unsigned char *)small_model, strlen(small_model));
  /* With the flag it is replaced by a checkpoint. */
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--save", "notes.txt", "--overwrite");
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "notes.txt", &ck);
  assert_int_equal(ck.pos.epoch, 1);
  clt_checkpoint_free(&ck);
}

static void test_log_never_truncates_a_checkpoint(void **state) {
  (void)state;
  train_one_epoch("keep.ckpt");
  size_t n;
  unsigned char *before = read_whole("keep.ckpt", &n);
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--log", "keep.ckpt");
  EXPECT_ERR("checkpoint, not a log");
  expect_same_bytes("keep.ckpt", before, n);
  /* --save and --log naming one file */
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--save", "same.ckpt", "--log", "same.ckpt");
  EXPECT_ERR("same file");
  /* a log onto a file that is not a log (the model file) */
  EXPECT_EXIT(64, "train", "small.cfg", "--data", ".", "--log", "small.cfg");
  expect_same_bytes("small.cfg", (const unsigned char *)small_model, strlen(small_model));
  /* on --resume too: the log named on the command line is checked before anything runs */
  EXPECT_EXIT(64, "train", "--resume", "keep.ckpt", "--epochs", "2", "--log", "keep.ckpt");
  expect_same_bytes("keep.ckpt", before, n);
  free(before);
}

static void test_log_through_a_symlink_on_resume(void **state) {
  (void)state;
  unlink(at("real-log.csv"));
  unlink(at("link-log.csv"));
  assert_int_equal(symlink("real-log.csv", at("link-log.csv")), 0); /* dangling at first */
  EXPECT_EXIT(0, "train", "small.cfg", "--data", ".", "--save", "linked.ckpt", "--log",
              "link-log.csv");
  EXPECT_EXIT(0, "train", "--resume", "linked.ckpt", "--epochs", "2");
  assert_int_equal(type_of("link-log.csv"), S_IFLNK);
  assert_int_equal(type_of("real-log.csv"), S_IFREG);
  size_t n;
  char *text = (char *)read_whole("real-log.csv", &n);
  int lines = 0;
  for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
  if (lines != 3 || strncmp(text, "epoch,", 6) != 0 || !strstr(text, "\n1,") ||
      !strstr(text, "\n2,"))
    fail_msg("the real log should hold the header and epochs 1 and 2: %s", text);
  free(text);
  /* A checkpoint saved through a link: the link stays, the file it names is the checkpoint. */
  unlink(at("real.ckpt"));
  unlink(at("link.ckpt"));
  assert_int_equal(symlink("real.ckpt", at("link.ckpt")), 0);
  train_one_epoch("link.ckpt");
  train_one_epoch("link.ckpt"); /* the second save replaces the real file, not the link */
  assert_int_equal(type_of("link.ckpt"), S_IFLNK);
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "real.ckpt", &ck);
  clt_checkpoint_free(&ck);
}

static void test_resume_saves_to_the_resume_file(void **state) {
  (void)state;
  train_one_epoch("run.ckpt");
  clt_test_copy_file(at("run.ckpt"), at("backup.ckpt"));
  size_t n;
  unsigned char *before = read_whole("run.ckpt", &n);
  EXPECT_EXIT(0, "train", "--resume", "backup.ckpt", "--epochs", "2");
  expect_same_bytes("run.ckpt", before, n);
  clt_checkpoint ck;
  clt_test_cli_read_checkpoint(&cli, "backup.ckpt", &ck);
  assert_int_equal(ck.pos.epoch, 2);
  clt_checkpoint_free(&ck);
  /* --save still says otherwise */
  EXPECT_EXIT(0, "train", "--resume", "backup.ckpt", "--epochs", "3", "--save", "third.ckpt");
  clt_test_cli_read_checkpoint(&cli, "third.ckpt", &ck);
  assert_int_equal(ck.pos.epoch, 3);
  clt_checkpoint_free(&ck);
  clt_test_cli_read_checkpoint(&cli, "backup.ckpt", &ck);
  assert_int_equal(ck.pos.epoch, 2);
  clt_checkpoint_free(&ck);
  free(before);
}

/* ---- hangs ---------------------------------------------------------------------------------- */

static void test_fifo_inputs_do_not_block(void **state) {
  (void)state;
  make_fifo("model.fifo");
  EXPECT_EXIT(66, "train", "model.fifo", "--data", ".");
  EXPECT_ERR("named pipe");
  make_fifo("ckpt.fifo");
  EXPECT_EXIT(66, "eval", "ckpt.fifo");
  EXPECT_ERR("named pipe");
  EXPECT_EXIT(66, "train", "--resume", "ckpt.fifo");
  EXPECT_ERR("named pipe");
  /* a data file */
  char dir[1100];
  clt_test_make_subdir(dir, sizeof dir, "fifo-data");
  clt_test_write_block_idx_set(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, 64);
  clt_test_write_block_idx_set(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 0, 64);
  char labels[1200];
  snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", dir);
  unlink(labels);
  assert_int_equal(mkfifo(labels, 0644), 0);
  EXPECT_EXIT(66, "train", "small.cfg", "--data", dir);
  EXPECT_ERR("named pipe");
  /* an image for predict, and a log on resume */
  train_one_epoch("for-fifo.ckpt");
  make_fifo("image.pgm");
  EXPECT_EXIT(66, "predict", "for-fifo.ckpt", "image.pgm");
  EXPECT_ERR("named pipe");
  make_fifo("resume-log.fifo");
  EXPECT_EXIT(64, "train", "--resume", "for-fifo.ckpt", "--epochs", "2", "--log",
              "resume-log.fifo");
  EXPECT_ERR("named pipe");
}

static void test_endless_streams_are_refused(void **state) {
  (void)state;
  EXPECT_EXIT(66, "train", "/dev/zero", "--data", ".");
  EXPECT_ERR("character device");
  EXPECT_EXIT(66, "eval", "/dev/zero");
  EXPECT_ERR("character device");
  EXPECT_EXIT(66, "train", "--resume", "/dev/urandom");
  EXPECT_ERR("character device");
  train_one_epoch("for-stream.ckpt");
  EXPECT_EXIT(66, "predict", "for-stream.ckpt", "/dev/zero");
  EXPECT_EXIT(64, "train", "--resume", "for-stream.ckpt", "--epochs", "2", "--log", "/dev/zero");
  EXPECT_ERR("character device");
}

/* ---- messages ------------------------------------------------------------------------------- */

static void test_folder_as_model_or_checkpoint(void **state) {
  (void)state;
  char dir[1100];
  clt_test_make_subdir(dir, sizeof dir, "model-folder");
  EXPECT_EXIT(66, "train", dir, "--data", ".");
  EXPECT_ERR("is a folder, not a model file");
  EXPECT_EXIT(66, "eval", dir);
  EXPECT_ERR("is a folder, not a checkpoint file");
  EXPECT_EXIT(66, "train", "--resume", dir);
  EXPECT_ERR("is a folder");
}

/* Runs cltrain with args in the test folder as user nobody when root (else as is), its
 * stderr into cli.err; returns its exit code. The folder is opened for nobody to reach. */
static int run_unprivileged(const char *const *args) {
  assert_int_equal(chmod(cli.folder, 0755), 0);
  char err_path[1100];
  snprintf(err_path, sizeof err_path, "%s/err-nobody.txt", cli.folder);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(60);
    int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0 || chdir(cli.folder) != 0) _exit(120);
    if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
      _exit(121); /* cannot drop privileges: fails the test (not a skip) */
    const char *argv[16];
    int argc = 0;
    argv[argc++] = CLT_BINARY_DIR "/cltrain";
    for (int i = 0; args[i] && argc < 15; i++) argv[argc++] = args[i];
    argv[argc] = NULL;
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int rc = clt_test_cltrain_wait(pid);
  size_t n;
  unsigned char *err = clt_test_read_file(err_path, &n);
  snprintf(cli.err, sizeof cli.err, "%s", (char *)err);
  free(err);
  return rc;
}

static void test_permission_denied_says_so(void **state) {
  (void)state;
  write_text("secret.cfg", small_model);
  assert_int_equal(chmod(at("secret.cfg"), 0), 0);
  const char *train[] = {"train", "secret.cfg", "--data", ".", NULL};
  int rc = run_unprivileged(train);
  if (rc != 66) fail_msg("exit %d, expected 66; stderr: %s", rc, cli.err);
  EXPECT_ERR("permission denied");
  train_one_epoch("secret.ckpt");
  assert_int_equal(chmod(at("secret.ckpt"), 0), 0);
  const char *eval[] = {"eval", "secret.ckpt", NULL};
  rc = run_unprivileged(eval);
  if (rc != 66) fail_msg("exit %d, expected 66; stderr: %s", rc, cli.err);
  EXPECT_ERR("permission denied");
  assert_int_equal(chmod(cli.folder, 0700), 0);
}

static void test_unknown_option_is_one_line(void **state) {
  (void)state;
  static const char *const commands[] = {"train", "eval", "predict", "check",
                                         "bench", "tune", "devices"};
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    EXPECT_EXIT(64, commands[i], "--no-such-option");
    char want[160];
    snprintf(want, sizeof want,
             "cltrain %s: unknown option '--no-such-option'; see 'cltrain %s --help'\n",
             commands[i], commands[i]);
    if (strcmp(cli.err, want) != 0)
      fail_msg("cltrain %s --no-such-option: stderr should be one line, '%s', not: %s", commands[i],
               want, cli.err);
    assert_string_equal(cli.out, "");
  }
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_option_is_one_line),
      cmocka_unit_test(test_folder_as_model_or_checkpoint),
      cmocka_unit_test(test_endless_streams_are_refused),
      cmocka_unit_test(test_fifo_inputs_do_not_block),
      cmocka_unit_test(test_permission_denied_says_so),
      cmocka_unit_test(test_save_never_replaces_a_device_fifo_folder_or_socket),
      cmocka_unit_test(test_save_onto_another_file_needs_overwrite),
      cmocka_unit_test(test_log_never_truncates_a_checkpoint),
      cmocka_unit_test(test_log_through_a_symlink_on_resume),
      cmocka_unit_test(test_resume_saves_to_the_resume_file),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
