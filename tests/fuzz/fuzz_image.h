/* The body the image-decoder harnesses share (fuzz_png.c, fuzz_jpeg.c): decode, then the fit
 * to a grey 28x28 and a colour 32x32 input. A failure must be one line with a known status; a
 * success must hold h x w x c pixels in [0, 1]. The pixel limit is lowered to 1 Mi pixels: a
 * huge image costs the fuzzer time, not coverage (the limit itself: test_image_folder). */
#ifndef CLT_FUZZ_IMAGE_H
#define CLT_FUZZ_IMAGE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/image_decode.h"
#include "fuzz_util.h"

typedef clt_status (*fuzz_image_decode_fn)(const unsigned char *data, size_t size, const char *name,
                                           long max_pixels, clt_image *out);

static void fuzz_image_check_fit(const char *h, const clt_image *img, int oh, int ow, int oc) {
  float *out = malloc((size_t)oh * ow * oc * sizeof *out);
  if (!out) abort();
  FUZZ_CHECK(h, clt_image_fit(img, oh, ow, oc, out) == CLT_OK);
  for (int i = 0; i < oh * ow * oc; i++)
    FUZZ_CHECK(h, isfinite(out[i]) && out[i] >= -1e-5f && out[i] <= 1.0f + 1e-5f);
  free(out);
}

static int fuzz_image_one(const char *h, fuzz_image_decode_fn decode, const char *name,
                          const uint8_t *data, size_t size) {
  clt_clear_error();
  clt_image img;
  clt_status st = decode(data, size, name, 1L << 20, &img);
  if (st != CLT_OK) {
    fuzz_check_failure(h, st);
    FUZZ_CHECK(h, img.pixels == NULL);
    return 0;
  }
  FUZZ_CHECK(h, img.h >= 1 && img.w >= 1 && (img.c == 1 || img.c == 3) && img.pixels);
  FUZZ_CHECK(h, (long)img.h * img.w <= (1L << 20));
  size_t count = (size_t)img.h * img.w * img.c;
  for (size_t i = 0; i < count; i++)
    FUZZ_CHECK(h, isfinite(img.pixels[i]) && img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);
  if (count <= (1u << 16)) {
    fuzz_image_check_fit(h, &img, 28, 28, 1);
    fuzz_image_check_fit(h, &img, 32, 32, 3);
  }
  clt_image_free(&img);
  return 0;
}

#endif
