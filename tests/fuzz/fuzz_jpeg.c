/* Fuzz harness: the JPEG decoder (clt_jpeg_decode, data/image_decode.h) as image folders and
 * `cltrain predict` use it, then the fit to a grey 28x28 and a colour 32x32 input. A failure
 * must be one line with a known status; a success must hold h x w x c pixels in [0, 1]. The
 * pixel limit is lowered to 1 Mi pixels: a huge image costs the fuzzer time, not coverage
 * (the limit itself: test_image_folder). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/image_decode.h"
#include "fuzz_util.h"

#define H "fuzz_jpeg"

static void check_fit(const clt_image *img, int h, int w, int c) {
  float *out = malloc((size_t)h * w * c * sizeof *out);
  if (!out) abort();
  FUZZ_CHECK(H, clt_image_fit(img, h, w, c, out) == CLT_OK);
  for (int i = 0; i < h * w * c; i++)
    FUZZ_CHECK(H, isfinite(out[i]) && out[i] >= -1e-5f && out[i] <= 1.0f + 1e-5f);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clt_clear_error();
  clt_image img;
  clt_status st = clt_jpeg_decode(data, size, "fuzz.jpeg", 1L << 20, &img);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, img.pixels == NULL);
    return 0;
  }
  FUZZ_CHECK(H, img.h >= 1 && img.w >= 1 && (img.c == 1 || img.c == 3) && img.pixels);
  FUZZ_CHECK(H, (long)img.h * img.w <= (1L << 20));
  size_t count = (size_t)img.h * img.w * img.c;
  for (size_t i = 0; i < count; i++)
    FUZZ_CHECK(H, isfinite(img.pixels[i]) && img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);
  if (count <= (1u << 16)) {
    check_fit(&img, 28, 28, 1);
    check_fit(&img, 32, 32, 3);
  }
  clt_image_free(&img);
  return 0;
}
