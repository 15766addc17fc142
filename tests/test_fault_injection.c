/* Fault injection through a short training run (tests/fault/fault_wrap.h): for every i, the
 * i-th host allocation, the i-th OpenCL buffer creation, the i-th enqueue and the i-th other
 * fallible OpenCL call (context, queue, program and kernel creation, builds, waits) of our
 * code fail in turn. Each run must end with a non-zero exit code and one line in
 * clt_last_error() (or, for a fault the code absorbs on purpose, with exactly the parameters
 * of the run without faults), leave no host block, buffer, OpenCL object or file descriptor
 * of ours alive, release nothing twice, never crash or hang, and leave the checkpoints that
 * were on disk before it readable (no PATH.tmp behind).
 *
 * The run is the CLI's own code in this process (src/cli is linked in, main.c aside):
 *   cltrain train tiny.cfg --data IDX --epochs 2 --batch 8 --val-split 0.25 --read-every 2
 *                 --save run.ckpt --save-every 2 --keep-best --log run.csv --json [--stream]
 *   cltrain train --resume run.ckpt --epochs 3 --json            (resident runs only)
 *   cltrain eval run.ckpt --data IDX --json
 * that is: model file, IDX data set (24 training samples, a quarter held out; 10 test
 * samples), device list and a new context (each run: its programs come from a kernel cache
 * in the test's temporary folder, so context set-up is covered too), optimizer, network,
 * GEMM warm-up, 2 epochs with validation, checkpoints every 2 steps and at epoch ends (and
 * the best one), the CSV log, the test-set evaluation; a third epoch resumed from the
 * checkpoint; then the checkpoint read back, put on a new network and evaluated in detail. Model:
 * 8x8x1 -> conv 4 3x3 relu -> maxpool 2 -> dense 10 -> softmax; adam.
 *
 * Everything runs twice: with the data set resident on the device and streamed (--stream).
 * The streamed sweep starts, in each class, after the calls a streamed run shares with the
 * resident one (same calls, same places, same order: until the data paths part), which the
 * resident sweep has failed already.
 * Host allocations are many; CLTRAIN_FAULT_HOST_STRIDE=N tries every N-th one only (default
 * 1: every one). For a quick look: CLTRAIN_FAULT_MAX=N tries calls 1..N of each class only,
 * CLTRAIN_FAULT_FIRST=N starts at call N, CLTRAIN_FAULT_CLASS=C (0 host, 1 buffer, 2 enqueue,
 * 3 other) tries one class only;
 * CLTRAIN_FAULT_VERBOSE=1 prints every failed run's exit code and message.
 * A run taking over 60 s is a hang: SIGALRM ends the program with the case. */
#include <stdarg.h>
#include <stddef.h>
#include <execinfo.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "fault/fault_wrap.h"
#include "runtime/context.h"
#include "runtime/gemm.h"
#include "runtime/memory.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/run_options.h"
#include "train/trainer.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

#define TRAIN_FILE_N 24
#define TEST_N       10
#define SIDE         8
/* Far above a run's 0.2-2 s: under heavy load (parallel tests, sanitizers) a run that builds
 * programs can spend a minute inside PoCL's LLVM; a real hang still ends the test. */
#define HANG_SECONDS 300

static const char model_text[] = "[net]\n"
                                 "input = 8x8x1\n"
                                 "batch = 8\n"
                                 "epochs = 2\n"
                                 "optimizer = adam\n"
                                 "learning_rate = 0.01\n"
                                 "seed = 7\n"
                                 "[conv]\n"
                                 "filters = 4\n"
                                 "size = 3\n"
                                 "activation = relu\n"
                                 "[maxpool]\n"
                                 "size = 2\n"
                                 "[dense]\n"
                                 "units = 10\n"
                                 "[softmax]\n";

/* Paths and device shared by every run. */
static struct {
  char device[32]; /* "P:D" of the test device */
  char model[1024], data[1024], cache[1024], ckpt[1024], best[1100], good[1024], good_best[1024];
  char log[1024], output[1024];
} env;

static volatile sig_atomic_t test_stderr = STDERR_FILENO; /* the test's stderr during a run */

/* ---- the data set and model files -------------------------------------------------------- */

/* Class k: a bright pixel pair at its own place over a dim gradient. */
static void write_idx(const char *images, const char *labels, int n, int first) {
  unsigned char *px = calloc((size_t)n * SIDE * SIDE, 1), *lb = calloc((size_t)n, 1);
  assert_non_null(px);
  assert_non_null(lb);
  for (int s = 0; s < n; s++) {
    int k = (first + s) % 10;
    lb[s] = (unsigned char)k;
    unsigned char *img = px + (size_t)s * SIDE * SIDE;
    for (int i = 0; i < SIDE * SIDE; i++) img[i] = (unsigned char)((i * 3 + s) % 40);
    img[k] = img[k + SIDE] = 250;
  }
  clt_test_write_idx_set(env.data, images, labels, n, SIDE, SIDE, px, lb);
  free(px);
  free(lb);
}

/* ---- one training run, through the CLI's own code ---------------------------------------- */

/* The commands run in this process (src/cli is linked into the test, main.c aside), their
 * output into a file: `cltrain train` as a user runs it, a third epoch with --resume (resident
 * runs), then `cltrain eval` on the checkpoint. Returns the first non-zero exit code (0: all
 * succeeded). */
static int train_run(int stream) {
  char *train_argv[] = {"train",   env.model, "--data",       env.data,   "--epochs",     "2",
                        "--batch", "8",       "--val-split",  "0.25",     "--read-every", "2",
                        "--save",  env.ckpt,  "--save-every", "2",        "--keep-best",  "--log",
                        env.log,   "--json",  "--device",     env.device, "--stream",     NULL};
  int train_argc = (int)(sizeof train_argv / sizeof *train_argv) - (stream ? 1 : 2);
  char *resume_argv[] = {"train",  "--resume", env.ckpt,   "--epochs", "3",
                         "--json", "--device", env.device, NULL};
  int resume_argc = (int)(sizeof resume_argv / sizeof *resume_argv) - 1;
  char *eval_argv[] = {"eval",   env.ckpt,   "--data",   env.data,
                       "--json", "--device", env.device, NULL};
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  test_stderr = saved_err;
  int out = open(env.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(saved_out >= 0 && saved_err >= 0 && out >= 0);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  close(out);
  int rc = clt_cmd_train(train_argc, train_argv);
  if (rc == 0 && !stream) rc = clt_cmd_train(resume_argc, resume_argv);
  if (rc == 0) rc = clt_cmd_eval((int)(sizeof eval_argv / sizeof *eval_argv) - 1, eval_argv);
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  test_stderr = STDERR_FILENO;
  close(saved_out);
  close(saved_err);
  return rc;
}

/* A checkpoint's trained tensors, to compare runs bit for bit. */
typedef struct tensors {
  float *params, *optimizer;
  size_t param_floats, optimizer_floats;
} tensors;

static int read_tensors(const char *path, tensors *t) {
  clt_checkpoint ck;
  memset(t, 0, sizeof *t);
  if (clt_checkpoint_read(path, &ck) != CLT_OK) return -1;
  t->params = ck.params;
  t->optimizer = ck.optimizer;
  t->param_floats = ck.param_floats;
  t->optimizer_floats = ck.optimizer_floats;
  ck.params = ck.optimizer = NULL;
  clt_checkpoint_free(&ck);
  return 0;
}

static int same_tensors(const tensors *a, const tensors *b) {
  return a->param_floats == b->param_floats && a->optimizer_floats == b->optimizer_floats &&
         memcmp(a->params, b->params, a->param_floats * sizeof(float)) == 0 &&
         memcmp(a->optimizer, b->optimizer, a->optimizer_floats * sizeof(float)) == 0;
}

static void free_tensors(tensors *t) {
  free(t->params);
  free(t->optimizer);
  memset(t, 0, sizeof *t);
}

/* ---- the sweep ---------------------------------------------------------------------------- */

static volatile sig_atomic_t current_class = -1;
static volatile long current_call;
static volatile sig_atomic_t current_stream;

static void on_alarm(int sig) {
  (void)sig;
  char msg[160];
  int n =
      snprintf(msg, sizeof msg, "HANG: a run with %s call %ld failed (stream %d) took over %d s\n",
               current_class >= 0 ? fault_class_name((fault_class)current_class) : "no",
               current_call, (int)current_stream, HANG_SECONDS);
  if (write(test_stderr, msg, (size_t)n) < 0) _exit(2);
  /* Where the main thread waits, for the report (backtrace was warmed up in setup). */
  void *frames[48];
  backtrace_symbols_fd(frames, backtrace(frames, 48), test_stderr);
  _exit(1);
}

static int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static tensors clean[2]; /* per stream: the checkpoint of the run without faults */

static int check_checkpoint(const char *path, const char *where) {
  char tmp[1200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int problems = 0;
  if (access(tmp, F_OK) == 0) {
    fprintf(stderr, "PROBLEM: %s: %s left behind\n", where, tmp);
    problems++;
    unlink(tmp);
  }
  clt_checkpoint ck;
  if (clt_checkpoint_read(path, &ck) != CLT_OK) {
    fprintf(stderr, "PROBLEM: %s: %s no longer reads: %s\n", where, path, clt_last_error());
    problems++;
  }
  clt_checkpoint_free(&ck);
  return problems;
}

/* Runs once with call n of class c failing (n = 0: none) and checks what it left. Returns
 * the number of problems found (each printed on stderr). A fault that fires either fails the
 * run (exit code not 0, one line in clt_last_error(), which the CLI prints) or is absorbed
 * on purpose (the kernel cache's fallback to a build from source, a cleanup's wait, the hint
 * list of the model parser): then the run must end exactly as the clean one did. */
static long env_long(const char *name, long fallback) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : fallback;
}

static int run_case(fault_class c, long n, int stream, int *absorbed, int *fired) {
  static int verbose = -1; /* CLTRAIN_FAULT_VERBOSE=1: every failure's exit code and message */
  if (verbose < 0) verbose = env_long("CLTRAIN_FAULT_VERBOSE", 0) > 0;
  current_class = n ? (int)c : -1;
  current_call = n;
  current_stream = stream;
  if (n) {
    clt_test_copy_file(env.good, env.ckpt);
    clt_test_copy_file(env.good_best, env.best);
  }
  clt_clear_error();
  int fds_before = open_fds();
  fault_record_start();
  fault_arm(c, n);
  alarm(HANG_SECONDS);
  int rc = train_run(stream);
  alarm(0);
  fault_record_stop();
  int fds_after = open_fds();
  *fired = fault_fired();
  int problems = 0;
  char where[1200];
  snprintf(where, sizeof where, "%s call %ld (stream %d; site %s+0x%lx)", fault_class_name(c), n,
           stream, fault_site_binary(), fault_site_offset());
  const char *msg = clt_last_error();
  if (!n) {
    if (rc != 0) {
      fprintf(stderr, "PROBLEM: the clean run failed (exit %d): %s\n", rc, msg);
      problems++;
    }
  } else if (!*fired) {
    fprintf(stderr, "PROBLEM: %s: never reached (exit %d)\n", where, rc);
    problems++;
  } else if (rc == 0) {
    tensors got;
    if (read_tensors(env.ckpt, &got) != 0 || !same_tensors(&got, &clean[stream])) {
      fprintf(stderr,
              "PROBLEM: %s: the run succeeded but trained other values than the clean "
              "run: a failure was ignored\n",
              where);
      problems++;
    }
    free_tensors(&got);
    fprintf(stderr, "absorbed: %s\n", where);
    (*absorbed)++;
  } else if (verbose) {
    fprintf(stderr, "%s: exit %d: %s\n", where, rc, msg);
  }
  if (n && *fired && rc != 0 && (!msg[0] || strchr(msg, '\n'))) {
    fprintf(stderr, "PROBLEM: %s: exit %d with message '%s' (want one non-empty line)\n", where, rc,
            msg);
    problems++;
  }
  if (fault_live_host_blocks() || fault_live_buffers() || fault_live_cl_objects() ||
      fault_bad_releases()) {
    fprintf(stderr,
            "PROBLEM: %s: after the run %ld host blocks, %ld buffers and %ld other OpenCL "
            "objects still live, %ld double releases (exit %d: %s)\n",
            where, fault_live_host_blocks(), fault_live_buffers(), fault_live_cl_objects(),
            fault_bad_releases(), rc, msg);
    problems++;
  }
  if (fds_after != fds_before) {
    fprintf(stderr, "PROBLEM: %s: %d file descriptors open before the run, %d after\n", where,
            fds_before, fds_after);
    problems++;
  }
  problems += check_checkpoint(env.ckpt, where);
  problems += check_checkpoint(env.best, where);
  return problems;
}

/* The streamed run makes the same calls from the same places as the resident one until its
 * data path parts from it: those first calls were failed in the resident sweep already, with
 * the same history before them. The count of each class's calls before the first difference
 * goes into shared (zeros for the resident run, which keeps its trace for the streamed one). */
static void same_calls_as_resident(int stream, long shared[FAULT_CLASSES]) {
  static fault_call *resident;
  static long resident_count;
  long count;
  const fault_call *trace = fault_trace(&count);
  memset(shared, 0, FAULT_CLASSES * sizeof *shared);
  if (!stream) {
    free(resident);
    resident = malloc((size_t)(count ? count : 1) * sizeof *resident);
    assert_non_null(resident);
    memcpy(resident, trace, (size_t)count * sizeof *resident);
    resident_count = count;
    return;
  }
  for (long i = 0; i < count && i < resident_count && i < FAULT_TRACE_MAX - 1; i++) {
    if (trace[i].c != resident[i].c || trace[i].site != resident[i].site) break;
    shared[trace[i].c]++;
  }
}

static void sweep(int stream) {
  int absorbed = 0, fired = 0, problems = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  /* The clean run: the counts per class, and the checkpoint every armed run starts from. */
  problems += run_case(FAULT_HOST_ALLOC, 0, stream, &absorbed, &fired);
  free_tensors(&clean[stream]);
  assert_int_equal(read_tensors(env.ckpt, &clean[stream]), 0);
  long total[FAULT_CLASSES];
  for (int c = 0; c < FAULT_CLASSES; c++) total[c] = fault_calls((fault_class)c);
  assert_int_equal(problems, 0);
  clt_test_copy_file(env.ckpt, env.good);
  clt_test_copy_file(env.best, env.good_best);
  for (int c = 0; c < FAULT_CLASSES; c++) assert_true(total[c] > 0);
  long shared[FAULT_CLASSES];
  same_calls_as_resident(stream, shared);
  long stride[FAULT_CLASSES] = {env_long("CLTRAIN_FAULT_HOST_STRIDE", 1), 1, 1, 1};
  if (stride[FAULT_HOST_ALLOC] < 1) stride[FAULT_HOST_ALLOC] = 1;
  fprintf(stderr,
          "stream %d: a clean run makes %ld host allocations, %ld buffer creations, %ld "
          "enqueues, %ld other OpenCL calls\n",
          stream, total[0], total[1], total[2], total[3]);
  long last = env_long("CLTRAIN_FAULT_MAX", 0);    /* > 0: only calls 1..last of each class */
  long only = env_long("CLTRAIN_FAULT_CLASS", -1); /* >= 0: only this class */
  long first = env_long("CLTRAIN_FAULT_FIRST", 1); /* the first call tried in each class */
  long runs = 0;
  for (int c = 0; c < FAULT_CLASSES; c++) {
    if (last > 0 && total[c] > last) total[c] = last;
    if (only >= 0 && c != only) continue;
    int class_absorbed = 0;
    long class_runs = 0;
    for (long n = first > shared[c] ? first : shared[c] + 1; n <= total[c]; n += stride[c]) {
      int hit = 0;
      problems += run_case((fault_class)c, n, stream, &class_absorbed, &hit);
      fired += hit;
      class_runs++;
    }
    runs += class_runs;
    absorbed += class_absorbed;
    fprintf(stderr,
            "stream %d: %s: %ld failures injected (from call %ld, stride %ld), %d absorbed\n",
            stream, fault_class_name((fault_class)c), class_runs,
            first > shared[c] ? first : shared[c] + 1, stride[c], class_absorbed);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  fprintf(stderr, "stream %d: %ld runs, %d faults reached, %d problems, %.1f s\n", stream, runs,
          fired, problems, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
  assert_int_equal(problems, 0);
}

/* The wrappers see the library's own calls (its objects are linked into this program, so
 * --wrap applies to them), count them, fail the armed one and see what is left alive. */
static void test_wrappers_reach_library(void **state) {
  (void)state;
  clt_ctx *ctx = clt_test_ctx();
  cl_mem mem = NULL;
  fault_record_start();
  assert_int_equal(clt_buffer_create(ctx, 64, &mem), CLT_OK);
  assert_int_equal(fault_calls(FAULT_BUFFER), 1);
  assert_int_equal(fault_live_buffers(), 1);
  assert_int_equal(clt_buffer_zero(ctx, mem, 0, 64), CLT_OK);
  assert_int_equal(fault_calls(FAULT_ENQUEUE), 1);
  fault_arm(FAULT_ENQUEUE, 2);
  assert_int_not_equal(clt_buffer_zero(ctx, mem, 0, 64), CLT_OK);
  assert_true(fault_fired());
  assert_true(clt_last_error()[0] != '\0');
  clt_buffer_release(&mem);
  assert_int_equal(fault_live_buffers(), 0);
  assert_int_equal(fault_bad_releases(), 0);

  fault_arm(FAULT_HOST_ALLOC, fault_calls(FAULT_HOST_ALLOC) + 1);
  clt_model *model = NULL;
  assert_int_equal(clt_model_parse(model_text, strlen(model_text), "tiny", &model),
                   CLT_ERR_OUT_OF_MEMORY);
  assert_true(fault_fired());
  assert_null(model);
  assert_int_equal(fault_live_host_blocks(), 0);
  fault_arm(FAULT_HOST_ALLOC, 0);
  assert_int_equal(clt_model_parse(model_text, strlen(model_text), "tiny", &model), CLT_OK);
  assert_true(fault_live_host_blocks() > 0); /* a block left alive is seen */
  clt_model_free(model);
  assert_int_equal(fault_live_host_blocks(), 0);
  fault_record_stop();
}

static void test_faults_resident(void **state) {
  (void)state;
  sweep(0);
}

static void test_faults_streamed(void **state) {
  (void)state;
  sweep(1);
}

static int setup(void **state) {
  if (clt_test_tmpdir_setup(state) != 0) return -1;
  snprintf(env.model, sizeof env.model, "%s", clt_test_tmp_path("tiny.cfg"));
  clt_test_write_file(env.model, model_text, strlen(model_text));
  clt_test_make_subdir(env.data, sizeof env.data, "idx");
  clt_test_make_subdir(env.cache, sizeof env.cache, "cache");
  setenv("XDG_CACHE_HOME", env.cache, 1); /* the kernel cache of these runs alone */
  /* Program binaries kept on PoCL too: the runs load them (the load path's faults are covered)
   * instead of building ~1,700 contexts' programs from source. */
  setenv("CLTRAIN_KERNEL_CACHE", "binaries", 1);
  snprintf(env.ckpt, sizeof env.ckpt, "%s", clt_test_tmp_path("run.ckpt"));
  snprintf(env.best, sizeof env.best, "%s", clt_test_tmp_path("run-best.ckpt"));
  snprintf(env.good, sizeof env.good, "%s", clt_test_tmp_path("good.ckpt"));
  snprintf(env.good_best, sizeof env.good_best, "%s", clt_test_tmp_path("good-best.ckpt"));
  snprintf(env.log, sizeof env.log, "%s", clt_test_tmp_path("run.csv"));
  snprintf(env.output, sizeof env.output, "%s", clt_test_tmp_path("output.txt"));
  write_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", TRAIN_FILE_N, 0);
  write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", TEST_N, 3);
  /* A first run fills the kernel cache, so that every later run takes the same path. */
  int rc = train_run(0);
  if (rc != 0) {
    fprintf(stderr, "the clean training run fails (exit %d): %s\n", rc, clt_last_error());
    return -1;
  }
  void *warm[1];
  backtrace(warm, 1); /* loads libgcc now: the alarm handler must not */
  signal(SIGALRM, on_alarm);
  return 0;
}

int main(void) {
  /* A PoCL kernel cache of this test's own (set before PoCL starts): its ~1,700 contexts each
   * build programs, and runs of this test that stalled inside PoCL's LLVM build were seen only
   * while other processes shared the cache under heavy load. */
  char pocl_cache[] = "/tmp/cltrain-fault-pocl-XXXXXX";
  if (!getenv("POCL_CACHE_DIR") && mkdtemp(pocl_cache)) setenv("POCL_CACHE_DIR", pocl_cache, 1);
  clt_ctx *ctx = clt_test_ctx_or_skip();
  snprintf(env.device, sizeof env.device, "%d:%d", ctx->dev.platform_index, ctx->dev.device_index);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrappers_reach_library),
      cmocka_unit_test(test_faults_resident),
      cmocka_unit_test(test_faults_streamed),
  };
  int failed = cmocka_run_group_tests(tests, setup, clt_test_tmpdir_teardown);
  clt_test_ctx_release();
  if (strcmp(getenv("POCL_CACHE_DIR") ? getenv("POCL_CACHE_DIR") : "", pocl_cache) == 0)
    clt_test_remove_tree(pocl_cache);
  return failed;
}
