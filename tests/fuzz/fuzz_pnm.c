/* Fuzz harness: the PGM/PPM reader (clt_pnm_parse) and the resampling `cltrain predict` applies
 * to an image before inference (clt_image_fit to a grey 28x28 and a colour 32x32 input). Every
 * pixel read and every pixel fitted must lie in [0, 1]. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/pnm.h"
#include "fuzz_util.h"

#define H "fuzz_pnm"

static void check_fit(const clt_image *img, int h, int w, int c) {
  float *out = malloc((size_t)h * w * c * sizeof *out);
  if (!out) abort();
  clt_status st = clt_image_fit(img, h, w, c, out);
  FUZZ_CHECK(H, st == CLT_OK);
  for (int i = 0; i < h * w * c; i++)
    FUZZ_CHECK(H, isfinite(out[i]) && out[i] >= -1e-5f && out[i] <= 1.0f + 1e-5f);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clt_clear_error();
  clt_image img;
  clt_status st = clt_pnm_parse(data, size, "fuzz.pgm", &img);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, img.pixels == NULL);
    return 0;
  }
  FUZZ_CHECK(H, img.h >= 1 && img.w >= 1 && (img.c == 1 || img.c == 3) && img.pixels);
  size_t count = (size_t)img.h * img.w * img.c;
  for (size_t i = 0; i < count; i++)
    FUZZ_CHECK(H, isfinite(img.pixels[i]) && img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);
  /* Resampling a huge image costs time, not coverage: fit the ones a fuzzer can afford. */
  if (count <= (1u << 16)) {
    check_fit(&img, 28, 28, 1);
    check_fit(&img, 32, 32, 3);
  }
  clt_image_free(&img);
  return 0;
}
