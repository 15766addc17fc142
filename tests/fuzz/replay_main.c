/* The normal test suite's side of a fuzz harness: runs its LLVMFuzzerTestOneInput once on every
 * file of its seed corpus and of its regression folder (each crash the fuzzers found, kept
 * after the fix), one cmocka test per file. Built with the harness for every
 * tests/fuzz/fuzz_NAME.c (tests/fuzz/replay.cmake); in the sanitizer build (tools/test.sh)
 * the sanitizers watch each run.
 *   fuzz_replay_NAME NAME CORPUS_FOLDER [REGRESSION_FOLDER]
 * The corpus must hold at least one file; the regression folder may be missing. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer fails an input that makes one allocation over 2 GB (-malloc_limit_mb, by default
 * -rss_limit_mb=2048); so does the replay, or an input that once asked for terabytes would
 * pass here with overcommitted memory. The linker routes cltrain's calls here (--wrap, see
 * replay.cmake). */
#define REPLAY_MALLOC_LIMIT ((size_t)2048 << 20)
void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);

static void over_limit(size_t size) {
  fprintf(stderr, "replay: one allocation of %zu bytes, over the 2 GB limit of the fuzzers\n",
          size);
  abort();
}

void *__wrap_malloc(size_t size) {
  if (size > REPLAY_MALLOC_LIMIT) over_limit(size);
  return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size) {
  if (size && count > REPLAY_MALLOC_LIMIT / size) over_limit(count * size);
  return __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size) {
  if (size > REPLAY_MALLOC_LIMIT) over_limit(size);
  return __real_realloc(p, size);
}

static void replay_one(void **state) {
  const char *path = *state;
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  assert_true(n >= 0);
  /* Exactly n bytes (as libFuzzer gives them), so that the sanitizers see any overread. */
  uint8_t *data = malloc(n ? (size_t)n : 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  assert_int_equal(LLVMFuzzerTestOneInput(data, (size_t)n), 0);
  free(data);
}

/* Appends one test per regular file of folder (sorted); returns the new count. */
static int add_folder(const char *folder, struct CMUnitTest **tests, int count) {
  struct dirent **names;
  int k = scandir(folder, &names, NULL, alphasort);
  if (k < 0) return count;
  for (int i = 0; i < k; i++) {
    if (names[i]->d_name[0] != '.') {
      size_t len = strlen(folder) + strlen(names[i]->d_name) + 2;
      char *path = malloc(len);
      *tests = realloc(*tests, (size_t)(count + 1) * sizeof **tests);
      if (!path || !*tests) abort();
      snprintf(path, len, "%s/%s", folder, names[i]->d_name);
      (*tests)[count++] = (struct CMUnitTest){path, replay_one, NULL, NULL, path};
    }
    free(names[i]);
  }
  free(names);
  return count;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s NAME CORPUS_FOLDER [REGRESSION_FOLDER]\n", argv[0]);
    return 2;
  }
  struct CMUnitTest *tests = NULL;
  int count = add_folder(argv[2], &tests, 0);
  if (count == 0) {
    fprintf(stderr, "%s: no seed inputs in %s: the corpus is missing\n", argv[1], argv[2]);
    return 1;
  }
  if (argc > 3) count = add_folder(argv[3], &tests, count);
  int failed = _cmocka_run_group_tests(argv[1], tests, (size_t)count, NULL, NULL);
  for (int i = 0; i < count; i++) free((void *)tests[i].name);
  free(tests);
  return failed;
}
