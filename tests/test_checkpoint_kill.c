/* kill -9 during checkpoint saves never leaves a broken checkpoint.
 *
 * `cltrain train --save k.ckpt --save-every 1` (a 1.9 MB checkpoint written after every
 * step) runs as a child process; the test waits until a save is under way (the temporary
 * file k.ckpt.tmp exists), waits a random 0-4 ms more, and sends SIGKILL. Each time,
 * k.ckpt must then read back complete and valid (every CRC, every size), and the test
 * asserts that several of the kills landed while a save was in progress (the temporary
 * file was still there after the kill). Finally `cltrain eval` runs on what is left.
 * Data: synthetic IDX files written here (12x12 images). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rng.h"
#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define SIDE  12
#define KILLS 10

static clt_test_cli cli; /* the folder and the device */
static char ckpt[1024], tmp[1040];

/* 144 -> 1024 -> 10 under Adam: 158,730 parameters, 3 x 0.63 MB in each checkpoint. */
static const char model[] = "[net]\ninput = 12x12x1\nbatch = 16\nepochs = 100000\n"
                            "optimizer = adam\nlearning_rate = 0.001\nseed = 9\n"
                            "[dense]\nunits = 1024\nactivation = relu\n[dense]\nunits = 10\n"
                            "[softmax]\n";

static void write_idx(const char *images, const char *labels, int n) {
  size_t px = (size_t)n * SIDE * SIDE;
  unsigned char *img = malloc(px), *lab = malloc((size_t)n);
  assert_non_null(img);
  assert_non_null(lab);
  for (int s = 0; s < n; s++) lab[s] = (unsigned char)(clt_hash(31, 1, (uint32_t)s) % 10u);
  for (size_t i = 0; i < px; i++) img[i] = (unsigned char)(clt_hash(32, 2, (uint32_t)i) >> 24);
  clt_test_write_idx_set(cli.folder, images, labels, n, SIDE, SIDE, img, lab);
  free(img);
  free(lab);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  snprintf(ckpt, sizeof ckpt, "%s/k.ckpt", cli.folder);
  snprintf(tmp, sizeof tmp, "%s.tmp", ckpt);
  write_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 800);
  write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 100);
  clt_test_write_text(cli.folder, "big.cfg", model);
  return 0;
}

static pid_t start(const char *const *args) {
  return clt_test_cltrain_start(cli.folder, cli.device, args);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void pause_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* Polls for path until it exists; fails after limit seconds (or when the child died). */
static void wait_for(const char *path, pid_t pid, double limit) {
  double t0 = now();
  while (access(path, F_OK) != 0) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
      fail_msg("cltrain exited (status %d) before %s appeared; see %s/err.txt", status, path,
               cli.folder);
    if (now() - t0 > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      fail_msg("%s did not appear within %.0f s", path, limit);
    }
    pause_us(20);
  }
}

static void test_kill_during_saves(void **state) {
  (void)state;
  static const char *const args[] = {
      "train",        "big.cfg", "--data",       ".",       "--save", "k.ckpt",
      "--save-every", "1",       "--read-every", "1000000", NULL};
  int in_save = 0;
  long last_step = -1;
  for (int k = 0; k < KILLS; k++) {
    unlink(tmp); /* a stale one from the previous kill */
    pid_t pid = start(args);
    wait_for(ckpt, pid, 120); /* the first cycle: until one save completed */
    unlink(tmp);
    wait_for(tmp, pid, 60); /* a save under way */
    pause_us((long)(clt_hash(77, 0, (uint32_t)k) % 4000u));
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    int landed = access(tmp, F_OK) == 0;
    in_save += landed;
    clt_checkpoint ck;
    clt_status st = clt_checkpoint_read(ckpt, &ck);
    if (st != CLT_OK) fail_msg("after kill %d: %s", k + 1, clt_last_error());
    assert_true(ck.pos.global_step >= 1);
    assert_int_equal(ck.param_floats, 144 * 1024 + 1024 + 1024 * 10 + 10);
    assert_int_equal(ck.optimizer_floats, 2 * ck.param_floats);
    fprintf(stderr, "kill %d: %s; checkpoint of step %ld is valid\n", k + 1,
            landed ? "during a save" : "between saves", ck.pos.global_step);
    last_step = ck.pos.global_step;
    clt_checkpoint_free(&ck);
  }
  fprintf(stderr, "%d of %d kills landed during a save\n", in_save, KILLS);
  assert_true(in_save >= 2);
  assert_true(last_step >= 1);

  /* What is left is usable. */
  static const char *const eval[] = {"eval", "k.ckpt", "--subset", "20", NULL};
  assert_int_equal(clt_test_cltrain_wait(start(eval)), 0);
}

int main(void) {
  clt_test_ctx_or_skip();
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kill_during_saves),
  };
  int rc = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  return rc;
}
