/* Fuzz harness: the JPEG decoder (clt_jpeg_decode, data/image_decode.h) as image folders and
 * `cltrain predict` use it (the checks: fuzz_image.h). */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_image_one("fuzz_jpeg", clt_jpeg_decode, "fuzz.jpeg", data, size);
}
