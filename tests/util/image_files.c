#include "util/image_files.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>

#include "util/temp_files.h"

typedef struct grow {
  uint8_t *data;
  size_t size, cap;
} grow;

static void png_append(png_structp png, png_bytep p, png_size_t n) {
  grow *g = png_get_io_ptr(png);
  if (g->size + n > g->cap) {
    g->cap = 2 * (g->size + n);
    g->data = realloc(g->data, g->cap);
    if (!g->data) fail_msg("out of memory writing a PNG");
  }
  memcpy(g->data + g->size, p, n);
  g->size += n;
}

static void png_flush(png_structp png) {
  (void)png;
}

uint8_t *clt_test_png_bytes(int h, int w, int c, const uint8_t *px, size_t *size) {
  static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                               PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA};
  grow g = {NULL, 0, 0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info || setjmp(png_jmpbuf(png))) fail_msg("libpng failed writing a test PNG");
  png_set_write_fn(png, &g, png_append, png_flush);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, types[c], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(px + (size_t)y * w * c));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  *size = g.size;
  return g.data;
}

uint8_t *clt_test_jpeg_bytes(int h, int w, int c, const uint8_t *px, int q, size_t *size) {
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  unsigned char *buf = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&ci, &buf, &len);
  ci.image_width = (JDIMENSION)w;
  ci.image_height = (JDIMENSION)h;
  ci.input_components = c;
  ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, q, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)ci.next_scanline * w * c);
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  uint8_t *copy = malloc(len);
  if (!copy) fail_msg("out of memory");
  memcpy(copy, buf, len);
  free(buf);
  *size = len;
  return copy;
}

void clt_test_write_png(const char *path, int h, int w, int c, const uint8_t *px) {
  size_t n;
  uint8_t *b = clt_test_png_bytes(h, w, c, px, &n);
  clt_test_write_file(path, b, n);
  free(b);
}

void clt_test_write_jpeg(const char *path, int h, int w, int c, const uint8_t *px, int q) {
  size_t n;
  uint8_t *b = clt_test_jpeg_bytes(h, w, c, px, q, &n);
  clt_test_write_file(path, b, n);
  free(b);
}
