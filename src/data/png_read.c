/* PNG decoding with libpng (why libpng: data/image_decode.h). Errors longjmp back to
 * clt_png_decode through png_jmpbuf; everything allocated before the jump is reachable from
 * the volatile locals and freed there. */
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image_decode.h"

typedef struct png_source {
  const unsigned char *data;
  size_t size, at;
  char why[200]; /* the library's message of the error that jumped */
} png_source;

static void on_error(png_structp png, png_const_charp msg) {
  png_source *src = png_get_error_ptr(png);
  snprintf(src->why, sizeof src->why, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png; /* warnings (an unknown chunk, a bad gamma) do not stop a decode */
  (void)msg;
}

static void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  png_source *src = png_get_io_ptr(png);
  if (n > src->size - src->at) png_error(png, "file truncated (ends in the middle of a chunk)");
  memcpy(out, src->data + src->at, n);
  src->at += n;
}

/* Walks the chunk lengths: a chunk longer than the bytes left is refused here, before libpng
 * allocates for it (it trusts the length: a 94-byte file claiming a 1.6 GB zTXt chunk made
 * libpng 1.6.39 allocate and clear 1.6 GB, found by fuzz_png). 0, or a message. */
static const char *chunks_fit(const unsigned char *d, size_t size, size_t *at) {
  size_t pos = 8;
  while (pos < size) {
    *at = pos;
    if (size - pos < 12) return "file truncated (ends in the middle of a chunk header)";
    uint32_t len = (uint32_t)d[pos] << 24 | (uint32_t)d[pos + 1] << 16 | (uint32_t)d[pos + 2] << 8 |
                   d[pos + 3];
    if (len > size - pos - 12) return "a chunk is longer than the rest of the file (truncated)";
    if (memcmp(d + pos + 4, "IEND", 4) == 0) return NULL;
    pos += 12 + (size_t)len;
  }
  return NULL; /* no IEND: libpng says so */
}

clt_status clt_png_decode(const unsigned char *data, size_t size, const char *name,
                          long max_pixels_arg, clt_image *out) {
  memset(out, 0, sizeof *out);
  volatile long max_pixels = max_pixels_arg > 0 ? max_pixels_arg : CLT_IMAGE_MAX_PIXELS;
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: not a PNG file (no PNG signature)", name);
  size_t at = 0;
  const char *why = chunks_fit(data, size, &at);
  if (why)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: cannot decode the PNG: %s (byte %zu)", name, why, at);
  png_source src = {data, size, 0, ""};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "%s: out of host memory for the PNG decoder", name);
  }
  unsigned char *volatile rows8 = NULL; /* the 8-bit pixels, [h, w, channels] */
  png_bytep *volatile row_ptrs = NULL;
  float *volatile pixels = NULL;
  volatile int too_big = 0;
  volatile png_uint_32 w = 0, h = 0;
  if (setjmp(png_jmpbuf(png))) {
    free(rows8);
    free(row_ptrs);
    free(pixels);
    png_destroy_read_struct(&png, &info, NULL);
    if (too_big)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: the PNG header says %lux%lu pixels, more than the limit of %ld "
                      "(memory is bounded before decoding: scale the image down)",
                      name, (unsigned long)w, (unsigned long)h, max_pixels);
    return clt_fail(CLT_ERR_BAD_DATA, "%s: cannot decode the PNG: %s", name,
                    src.why[0] ? src.why : "libpng error");
  }
  png_set_read_fn(png, &src, read_bytes);
  /* Bounded before libpng allocates: width, height (also checked below against the pixel
   * limit) and one chunk (a zTXt or iCCP bomb). */
  png_set_user_limits(png, 1u << 20, 1u << 20);
  png_set_chunk_malloc_max(png, 8u << 20);
  /* ancillary chunks that cannot change the pixels are not even parsed */
  static const png_byte ignored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0tIME\0pCAL\0sCAL\0hIST\0";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
  png_read_info(png, info);
  w = png_get_image_width(png, info);
  h = png_get_image_height(png, info);
  if ((double)w * (double)h > (double)max_pixels) {
    too_big = 1;
    png_error(png, "too large");
  }
  png_byte color = png_get_color_type(png, info);
  png_set_expand(png); /* palette to RGB, grey below 8 bits to 8, tRNS to alpha */
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int c = (color & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  if (png_get_channels(png, info) != c || png_get_bit_depth(png, info) != 8)
    png_error(png, "unexpected pixel layout after conversion");
  size_t row = (size_t)w * c;
  rows8 = malloc(row * h);
  row_ptrs = malloc(sizeof(png_bytep) * h);
  pixels = malloc(row * h * sizeof(float));
  if (!rows8 || !row_ptrs || !pixels) png_error(png, "out of host memory for the pixels");
  for (png_uint_32 y = 0; y < h; y++) row_ptrs[y] = rows8 + y * row;
  png_read_image(png, row_ptrs);
  png_read_end(png, NULL);
  for (size_t i = 0; i < row * h; i++) pixels[i] = (float)rows8[i] / 255.0f;
  free(rows8);
  free(row_ptrs);
  png_destroy_read_struct(&png, &info, NULL);
  out->h = (int)h;
  out->w = (int)w;
  out->c = c;
  out->pixels = pixels;
  return CLT_OK;
}
