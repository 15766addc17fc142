/* The format of an image file by its bytes or its name, and the whole-file read. */
#include "data/image_decode.h"

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
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return clt_fail(CLT_ERR_MISSING_INPUT, "%s: no such file", path);
    return clt_fail(CLT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return clt_fail(CLT_ERR_BAD_DATA, "%s: not a regular file", path);
  }
  /* A compressed image is smaller than its pixels: a file larger than 4 bytes per allowed
   * pixel is not one we would decode. */
  long limit = max_pixels > 0 ? max_pixels : CLT_IMAGE_MAX_PIXELS;
  if ((double)st.st_size > 4.0 * (double)limit + 65536.0) {
    fclose(f);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: %lld bytes, more than an image within the limit of %ld pixels can "
                    "take; scale the image down",
                    path, (long long)st.st_size, limit);
  }
  size_t n = (size_t)st.st_size;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) {
    fclose(f);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes to read it", path, n);
  }
  size_t got = fread(buf, 1, n, f);
  int bad = ferror(f);
  fclose(f);
  clt_status s = bad || got != n ? clt_fail(CLT_ERR_IO, "%s: read %zu of %zu bytes; check the disk",
                                            path, got, n)
                                 : clt_image_decode(buf, n, path, max_pixels, out);
  free(buf);
  return s;
}
