/* The cltrain binary as a child process (cltrain_child.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cltrain_child.h"
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
