/* PNG and JPEG files for the image-folder tests, written with libpng and libjpeg-turbo. */
#ifndef CLT_TEST_IMAGE_FILES_H
#define CLT_TEST_IMAGE_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Writes an 8-bit PNG of h x w pixels of c channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)
 * from px [h, w, c]; fails the test when it cannot. */
void clt_test_write_png(const char *path, int h, int w, int c, const uint8_t *px);

/* Writes a JPEG (c 1 or 3, quality q) of px [h, w, c]. */
void clt_test_write_jpeg(const char *path, int h, int w, int c, const uint8_t *px, int q);

/* The bytes of a PNG or JPEG as clt_test_write_png / _jpeg would write them (malloc'd). */
uint8_t *clt_test_png_bytes(int h, int w, int c, const uint8_t *px, size_t *size);
uint8_t *clt_test_jpeg_bytes(int h, int w, int c, const uint8_t *px, int q, size_t *size);

#endif
