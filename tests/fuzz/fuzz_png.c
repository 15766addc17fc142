/* Fuzz harness: the PNG decoder (clt_png_decode, data/image_decode.h) as image folders and
 * `cltrain predict` use it (the checks: fuzz_image.h). */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_image_one("fuzz_png", clt_png_decode, "fuzz.png", data, size);
}
