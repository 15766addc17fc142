/* The exit codes of the README's table, triggered through the cltrain command (the built
 * binary, run as a child process) on the test device, each with its one-line message:
 *   64 usage (an unknown option), 65 bad data (a truncated IDX file, a nonsense model file),
 *   66 missing input (no model file, no data folder), 69 no device (--device nosuch),
 *   74 I/O (--save into a folder that does not exist, --log under /proc),
 *   80 out of device memory (--batch 100000000: at once, before the first step; also with
 *   the device's memory lowered by $CLTRAIN_DEVICE_MEMORY_BYTES), 82 device (a kernel that
 *   does not build, through --kernel-dir).
 * 81 (non-finite loss) is triggered by test_checkpoint_cli (a huge --lr), not repeated here.
 * 70 (internal error) has no command line that reaches it (it means a bug); the mapping of
 * every status to its code is checked instead.
 * Also --batch auto: under a lowered memory limit it picks a smaller batch, trains, stores
 * the batch in the checkpoint, and a resumed run keeps it.
 * Data: synthetic IDX files written here (12x12 images), so only the --batch 100000000 run
 * on models/fashion_cnn.cfg needs Fashion-MNIST (skipped without it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "data/dataset.h"
#include "runtime/rng.h"
#include "train/checkpoint.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/idx_bytes.h"
#include "util/temp_files.h"
#include "util/test_util.h"

/* clt_exit_code lives in the command's sources (src/cli), not in the library. */
#include "cli/exit_codes.c"
#include "cli/flag_names.c"
#include "cli/mpi_launch.c"

#define SIDE    12
#define N_TRAIN 480

static clt_test_cli cli; /* the folder, the device and the last run's output */

static const char small_model[] = "[net]\ninput = 12x12x1\nbatch = 32\nepochs = 1\n"
                                  "optimizer = adam\nlearning_rate = 0.01\nseed = 3\n"
                                  "[conv]\nfilters = 8\nsize = 3\nactivation = relu\n"
                                  "[maxpool]\nsize = 2\n[dense]\nunits = 10\n[softmax]\n";

static void write_set(const char *dir, const char *images, const char *labels, int first, int n) {
  unsigned char *img = malloc((size_t)n * SIDE * SIDE), *lab = malloc((size_t)n);
  assert_non_null(img);
  assert_non_null(lab);
  for (int s = 0; s < n; s++) {
    lab[s] = (unsigned char)(clt_hash(31, 1, (uint32_t)(first + s)) % 10u);
    for (int i = 0; i < SIDE * SIDE; i++)
      img[(size_t)s * SIDE * SIDE + i] =
          (unsigned char)(255.0f * clt_uniform(32, 2, (uint32_t)((first + s) * SIDE * SIDE + i)));
  }
  clt_test_write_idx_set(dir, images, labels, n, SIDE, SIDE, img, lab);
  free(img);
  free(lab);
}

static int setup(void **state) {
  (void)state;
  if (clt_test_cli_init(&cli)) return -1;
  write_set(cli.folder, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, N_TRAIN);
  write_set(cli.folder, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", N_TRAIN, 100);
  clt_test_write_text(cli.folder, "small.cfg", small_model);
  clt_test_write_text(cli.folder, "nonsense.cfg", "this is not a model\n[[[\n");
  return 0;
}

/* The code, and one "cltrain" line on stderr holding want. */
#define EXPECT_EXIT_ON(dev, code, want, ...)                                                       \
  do {                                                                                             \
    CLT_CLI_EXPECT_EXIT_ON(&cli, dev, code, __VA_ARGS__);                                          \
    CLT_CLI_EXPECT_ERR(&cli, want);                                                                \
    if ((code) != 0) fprintf(stderr, "exit %d: %s", code, cli.err);                                \
  } while (0)
#define EXPECT_EXIT(code, want, ...) EXPECT_EXIT_ON(cli.device, code, want, __VA_ARGS__)

/* ---- tests ------------------------------------------------------------------------------- */

static void test_mapping(void **state) {
  (void)state;
  static const struct {
    clt_status status;
    int code;
  } cases[] = {
      {CLT_OK, 0},
      {CLT_ERR_USAGE, 64},
      {CLT_ERR_BAD_DATA, 65},
      {CLT_ERR_MISSING_INPUT, 66},
      {CLT_ERR_NO_DEVICE, 69},
      {CLT_ERR_UNSUPPORTED, 69},
      {CLT_ERR_INTERNAL, 70},
      {CLT_ERR_IO, 74},
      {CLT_ERR_OUT_OF_MEMORY, 80},
      {CLT_ERR_NON_FINITE, 81},
      {CLT_ERR_DEVICE, 82},
      {CLT_ERR_BUILD, 82},
  };
  size_t n = sizeof cases / sizeof cases[0];
  assert_int_equal(n, CLT_STATUS_COUNT); /* every status once */
  for (size_t i = 0; i < n; i++) assert_int_equal(clt_exit_code(cases[i].status), cases[i].code);
  /* Anything else is an internal error, not a success. */
  assert_int_equal(clt_exit_code(CLT_STATUS_COUNT), 70);
}

static void test_usage_data_missing_device(void **state) {
  (void)state;
  EXPECT_EXIT(64, "--nosuch", "train", "small.cfg", "--data", ".", "--nosuch");
  EXPECT_EXIT(65, "nonsense.cfg:1", "train", "nonsense.cfg", "--data", ".");
  EXPECT_EXIT(66, "missing.cfg", "train", "missing.cfg", "--data", ".");
  EXPECT_EXIT(66, "no-such-folder", "train", "small.cfg", "--data", "no-such-folder");
  EXPECT_EXIT_ON("nosuch", 69, "matches no device", "train", "small.cfg", "--data", ".");

  /* A training file cut short: its header promises 480 images, 1000 bytes follow. */
  char dir[1024];
  clt_test_make_subdir(dir, sizeof dir, "truncated");
  write_set(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 0, N_TRAIN);
  write_set(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 0, 10);
  char path[1100];
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
  assert_int_equal(truncate(path, 16 + 1000), 0);
  EXPECT_EXIT(65, "train-images-idx3-ubyte", "train", "small.cfg", "--data", dir);
}

static void test_io_errors(void **state) {
  (void)state;
  EXPECT_EXIT(74, "no-such-folder/run.ckpt", "train", "small.cfg", "--data", ".", "--save",
              "no-such-folder/run.ckpt");
  EXPECT_EXIT(74, "/proc/cltrain-log.csv", "train", "small.cfg", "--data", ".", "--log",
              "/proc/cltrain-log.csv");
}

/* A kernel folder with copies of cl/ in which optim.cl does not compile. */
static void test_kernel_build_failure(void **state) {
  (void)state;
  char dir[1024];
  clt_test_make_subdir(dir, sizeof dir, "kernels");
  DIR *d = opendir(CLT_SOURCE_DIR "/cl");
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char from[1024], to[1400];
    snprintf(from, sizeof from, "%s/%s", CLT_SOURCE_DIR "/cl", e->d_name);
    snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
    clt_test_copy_file(from, to);
  }
  closedir(d);
  char broken[1400];
  snprintf(broken, sizeof broken, "%s/optim.cl", dir);
  FILE *f = fopen(broken, "a");
  assert_non_null(f);
  fputs("\nthis line is not OpenCL C\n", f);
  fclose(f);
  EXPECT_EXIT(82, "optim.cl", "train", "small.cfg", "--data", ".", "--kernel-dir", dir,
              "--no-kernel-cache");
}

static void test_out_of_device_memory(void **state) {
  (void)state;
  /* 1 MiB of device memory, as the planner sees it: the batch (cut to the 432 training
   * images) needs more; nothing is trained. */
  setenv("CLTRAIN_DEVICE_MEMORY_BYTES", "1M", 1);
  EXPECT_EXIT(80, "has 1.0 MiB", "train", "small.cfg", "--data", ".", "--batch", "100000000");
  unsetenv("CLTRAIN_DEVICE_MEMORY_BYTES");
  assert_non_null(strstr(cli.err, "(--batch 100000000 cut to the training set's size) needs"));
  assert_non_null(strstr(cli.err, "use --batch "));
  assert_null(strstr(cli.out, "Epoch 1/"));

  /* The real thing: Fashion-MNIST and the tutorial CNN, on the device's own limits. */
  if (access(CLT_DEFAULT_DATA_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
    fprintf(stderr, "no Fashion-MNIST in %s: the fashion_cnn run is skipped\n",
            CLT_DEFAULT_DATA_DIR);
    return;
  }
  EXPECT_EXIT(80, "use --batch ", "train", CLT_SOURCE_DIR "/models/fashion_cnn.cfg", "--batch",
              "100000000");
  assert_non_null(strstr(cli.err, "batch 54000 (--batch 100000000 cut"));
  assert_null(strstr(cli.out, "Epoch 1/"));
}

/* The N of "batch auto: N" in text. */
static int auto_choice(const char *text) {
  const char *p = strstr(text, "batch auto: ");
  if (!p) fail_msg("no 'batch auto:' line in: %s", text);
  return atoi(p + strlen("batch auto: "));
}

static void test_batch_auto(void **state) {
  (void)state;
  EXPECT_EXIT(0, "", "train", "small.cfg", "--data", ".", "--batch", "auto", "--epochs", "1");
  int full = auto_choice(cli.out);
  /* On a CPU device (PoCL) the fastest of 16..256 (256: the largest power of two within the
   * 432 training images), each measured; elsewhere the largest, 256. */
  int cpu = strstr(cli.out, "measured on this CPU device") != NULL;
  assert_true(full >= 16 && full <= 256 && (full & (full - 1)) == 0);
  if (cpu)
    assert_non_null(strstr(cli.out, "(the fastest of 16..256 measured"));
  else
    assert_int_equal(full, 256);
  /* With 3 MiB (2.4 usable) a smaller batch is chosen, trained and stored. */
  setenv("CLTRAIN_DEVICE_MEMORY_BYTES", "3M", 1);
  EXPECT_EXIT(0, "", "train", "small.cfg", "--data", ".", "--batch", "auto", "--epochs", "1",
              "--save", "auto.ckpt");
  unsetenv("CLTRAIN_DEVICE_MEMORY_BYTES");
  int small = auto_choice(cli.out);
  fprintf(stderr, "batch auto: %d on the device, %d in 3 MiB\n", full, small);
  assert_true(small >= 16 && small < 256);
  if (cpu) { /* only the batches that fit were measured */
    const char *range = strstr(cli.out, "(the fastest of 16..");
    assert_non_null(range);
    int largest = atoi(range + strlen("(the fastest of 16.."));
    assert_true(largest < 256 && small <= largest);
  }
  assert_non_null(strstr(cli.out, "Test: loss"));
  char p[1024];
  snprintf(p, sizeof p, "%s/auto.ckpt", cli.folder);
  clt_checkpoint ck;
  OK(clt_checkpoint_read(p, &ck));
  assert_int_equal(ck.batch, small);
  clt_checkpoint_free(&ck);
  /* Resumed with --batch auto on the full device: the checkpoint's batch stays. */
  EXPECT_EXIT(0, "", "train", "--resume", "auto.ckpt", "--epochs", "2", "--batch", "auto");
  assert_int_equal(auto_choice(cli.out), small);
  assert_non_null(strstr(cli.out, "Test: loss"));
}

int main(void) {
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mapping),
      cmocka_unit_test(test_usage_data_missing_device),
      cmocka_unit_test(test_io_errors),
      cmocka_unit_test(test_kernel_build_failure),
      cmocka_unit_test(test_out_of_device_memory),
      cmocka_unit_test(test_batch_auto),
  };
  return CLT_RUN_DEVICE_TESTS(tests, NULL, setup, clt_test_tmpdir_teardown);
}
