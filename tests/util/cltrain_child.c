/* The cltrain binary as a child process (cltrain_child.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cltrain_child.h"
#include "expect.h"
#include "temp_files.h"
#include "test_util.h"

int clt_test_cltrain_missing(void) {
  if (access(CLT_BINARY_DIR "/cltrain", X_OK) == 0) return 0;
  fprintf(stderr, "no %s/cltrain: build it first\n", CLT_BINARY_DIR);
  return 1;
}

void clt_test_device_spec(char *buf, size_t size) {
  clt_ctx *ctx = clt_test_ctx();
  snprintf(buf, size, "%d:%d", ctx->dev.platform_index, ctx->dev.device_index);
}

static unsigned child_timeout_s;

void clt_test_cltrain_set_timeout(unsigned seconds) {
  child_timeout_s = seconds;
}

pid_t clt_test_cltrain_start(const char *folder, const char *device, const char *const *args) {
  const char *argv[48];
  int argc = 0;
  argv[argc++] = CLT_BINARY_DIR "/cltrain";
  for (int i = 0; args[i] && argc < 45; i++) argv[argc++] = args[i];
  argv[argc++] = "--device";
  argv[argc++] = device;
  argv[argc] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (child_timeout_s) alarm(child_timeout_s);
    if (chdir(folder) != 0 || !freopen("out.txt", "w", stdout) || !freopen("err.txt", "w", stderr))
      _exit(127);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

int clt_test_cltrain_wait(pid_t pid) {
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int clt_test_cli_init(clt_test_cli *cli) {
  clt_test_device_spec(cli->device, sizeof cli->device);
  cli->out[0] = cli->err[0] = '\0';
  cli->folder = clt_test_tmpdir_create();
  return cli->folder ? 0 : -1;
}

/* The text of folder/name into buf, cut to size. */
static void read_text_into(const char *folder, const char *name, char *buf, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", folder, name);
  size_t n;
  unsigned char *data = clt_test_read_file(path, &n);
  snprintf(buf, size, "%s", (char *)data);
  free(data);
}

int clt_test_cli_vrun(clt_test_cli *cli, const char *device, const char *first, va_list rest) {
  const char *argv[48];
  int argc = 0;
  for (const char *a = first; a && argc < 44; a = va_arg(rest, const char *)) argv[argc++] = a;
  argv[argc] = NULL;
  int rc = clt_test_cltrain_wait(clt_test_cltrain_start(cli->folder, device, argv));
  read_text_into(cli->folder, "out.txt", cli->out, sizeof cli->out);
  read_text_into(cli->folder, "err.txt", cli->err, sizeof cli->err);
  return rc;
}

int clt_test_cli_run(clt_test_cli *cli, const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  int rc = clt_test_cli_vrun(cli, cli->device, first, ap);
  va_end(ap);
  return rc;
}

int clt_test_cli_run_on(clt_test_cli *cli, const char *device, const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  int rc = clt_test_cli_vrun(cli, device, first, ap);
  va_end(ap);
  return rc;
}

const char *clt_test_cli_out_tail(const clt_test_cli *cli) {
  size_t n = strlen(cli->out);
  return cli->out + (n > 600 ? n - 600 : 0);
}

void clt_test_cli_read_checkpoint(const clt_test_cli *cli, const char *name, clt_checkpoint *ck) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", cli->folder, name);
  OK(clt_checkpoint_read(path, ck));
}
