/* Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c): the checks every reader of outside data
 * must pass on any input, and a scratch file for readers that take a path.
 *
 * A harness defines int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size), returns 0,
 * and calls fuzz_fail (abort) when an invariant breaks; crashes and sanitizer reports are
 * found by the sanitizers themselves. The same source is linked with libFuzzer (tools/fuzz.sh)
 * and with tests/fuzz/replay_main.c (the ctest fuzz_replay_NAME on the corpus and the
 * regression inputs). */
#ifndef CLT_FUZZ_UTIL_H
#define CLT_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cltrain/status.h"

/* Reports a broken invariant and aborts: libFuzzer saves the input as a crash. */
static inline void fuzz_fail(const char *harness, const char *what) {
  fprintf(stderr, "%s: invariant broken: %s (last error: \"%s\")\n", harness, what,
          clt_last_error());
  abort();
}

#define FUZZ_CHECK(harness, cond)                                                                  \
  do {                                                                                             \
    if (!(cond)) fuzz_fail(harness, #cond);                                                        \
  } while (0)

/* What every failing reader call owes the user: a known status and one clear line. */
static inline void fuzz_check_failure(const char *harness, clt_status st) {
  FUZZ_CHECK(harness, st > CLT_OK && st < CLT_STATUS_COUNT);
  const char *msg = clt_last_error();
  FUZZ_CHECK(harness, msg[0] != '\0');
  FUZZ_CHECK(harness, strchr(msg, '\n') == NULL);
}

/* Sums of data a harness reads only to let the sanitizers check its extent go here. */
static volatile float fuzz_sink_float __attribute__((unused));
static volatile unsigned fuzz_sink_unsigned __attribute__((unused));

/* A file only this process uses, in RAM where /dev/shm exists, removed at exit. */
static char fuzz_scratch_path_[256];
static inline void fuzz_scratch_remove_(void) {
  if (fuzz_scratch_path_[0]) unlink(fuzz_scratch_path_);
}

/* Writes size bytes into the scratch file and returns its path. */
static inline const char *fuzz_scratch_file(const char *suffix, const void *data, size_t size) {
  if (!fuzz_scratch_path_[0]) {
    struct stat sb;
    const char *dir =
        stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
            ? "/dev/shm"
            : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(fuzz_scratch_path_, sizeof fuzz_scratch_path_, "%s/cltrain-fuzz-%ld%s", dir,
             (long)getpid(), suffix);
    atexit(fuzz_scratch_remove_);
  }
  FILE *f = fopen(fuzz_scratch_path_, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(fuzz_scratch_path_);
    abort();
  }
  return fuzz_scratch_path_;
}

#endif
