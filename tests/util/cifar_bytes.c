#include "util/cifar_bytes.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rng.h"
#include "util/temp_files.h"

const char *const clt_test_cifar_names[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};

int clt_test_cifar_record(uint8_t *rec, uint32_t seed, int index, int classes) {
  int k = (int)(clt_hash(seed, 1, (uint32_t)index) % (uint32_t)classes);
  /* Colour levels per class and channel: distinct triples for the 10 classes. */
  static const int colour[10][3] = {{200, 60, 60},  {60, 200, 60},  {60, 60, 200},   {200, 200, 60},
                                    {200, 60, 200}, {60, 200, 200}, {130, 130, 130}, {220, 130, 40},
                                    {40, 130, 220}, {130, 40, 220}};
  int top = (k / 4) * 8, left = (k % 4) * 8; /* the bright square of class k */
  rec[0] = (uint8_t)k;
  for (int ch = 0; ch < 3; ch++)
    for (int p = 0; p < 1024; p++) {
      int y = p / 32, x = p % 32;
      uint32_t at = ((uint32_t)index * 3u + (uint32_t)ch) * 1024u + (uint32_t)p;
      int v = colour[k][ch] - 48 + (int)(96.0f * clt_uniform(seed, 2, at));
      if (y >= top && y < top + 8 && x >= left && x < left + 8) v += 60;
      rec[1 + ch * 1024 + p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  return k;
}

void clt_test_write_cifar_batch(const char *dir, const char *name, uint32_t seed, int first, int n,
                                int classes) {
  uint8_t *b = malloc((size_t)(n > 0 ? n : 1) * CLT_TEST_CIFAR_RECORD);
  assert_non_null(b);
  for (int i = 0; i < n; i++)
    clt_test_cifar_record(b + (size_t)i * CLT_TEST_CIFAR_RECORD, seed, first + i, classes);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  clt_test_write_file(path, b, (size_t)n * CLT_TEST_CIFAR_RECORD);
  free(b);
}

void clt_test_write_cifar_meta(const char *dir, const char *const *names, int count) {
  char text[2048] = "";
  for (int i = 0; i < count; i++) {
    strncat(text, names[i], sizeof text - strlen(text) - 2);
    strcat(text, "\n");
  }
  strcat(text, "\n");
  clt_test_write_text(dir, "batches.meta.txt", text);
}
