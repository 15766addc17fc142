/* The format of an image file by its bytes or its name, and the whole-file read. */
#include "data/image_decode.h"

#include "runtime/file_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

clt_image_format clt_image_sniff(const unsigned char *d, size_t n) {
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && memcmp(d, png_sig, 8) == 0) return CLT_IMAGE_PNG;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return CLT_IMAGE_JPEG;
  return CLT_IMAGE_UNKNOWN;
}

clt_image_format clt_image_format_of_name(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || strchr(dot, '/')) return CLT_IMAGE_UNKNOWN;
  if (strcasecmp(dot, ".png") == 0) return CLT_IMAGE_PNG;
  if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0) return CLT_IMAGE_JPEG;
  return CLT_IMAGE_UNKNOWN;
}

clt_status clt_image_decode(const unsigned char *data, size_t size, const char *name,
                            long max_pixels, clt_image *out) {
  memset(out, 0, sizeof *out);
  if (size == 0) return clt_fail(CLT_ERR_BAD_DATA, "%s: empty file (0 bytes)", name);
  switch (clt_image_sniff(data, size)) {
  case CLT_IMAGE_PNG:
    return clt_png_decode(data, size, name, max_pixels, out);
  case CLT_IMAGE_JPEG:
    return clt_jpeg_decode(data, size, name, max_pixels, out);
  default:
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: neither a PNG nor a JPEG file (its first bytes are no PNG signature and "
                    "no JPEG start-of-image marker)",
                    name);
  }
}

clt_status clt_image_read(const char *path, long max_pixels, clt_image *out) {
  memset(out, 0, sizeof *out);
  /* A compressed image is smaller than its pixels: a file larger than 4 bytes per allowed
   * pixel is not one we would decode, and is not read past that. */
  long limit = max_pixels > 0 ? max_pixels : CLT_IMAGE_MAX_PIXELS;
  char too_big[160];
  snprintf(too_big, sizeof too_big,
           "more than an image within the limit of %ld pixels can take; scale the image down",
           limit);
  unsigned char *buf = NULL;
  size_t n = 0;
  clt_status s =
      clt_file_read_all(path, "image", NULL, 4 * (uint64_t)limit + 65536, too_big, &buf, &n);
  if (s == CLT_OK) s = clt_image_decode(buf, n, path, max_pixels, out);
  free(buf);
  return s;
}
