/* PNG and JPEG files decoded into a clt_image (data/pnm.h): [h, w, c] floats in [0, 1], c = 1
 * for grey sources and 3 for everything else (palette and colour; an alpha channel is dropped,
 * 16-bit samples are cut to 8 bits).
 *
 * The decoders are Debian's libraries, not our own: libpng (PNG) and libjpeg-turbo (JPEG).
 * libspng was the other candidate for PNG; libpng is chosen because it is everywhere (every
 * distribution, every CI image), it was already in the project's list, and its transforms
 * (palette and low-bit-depth expansion, alpha strip, 16 to 8 bits) leave us no pixel format
 * code to write. Both libraries report errors by longjmp from a callback we install, never
 * by exit() (libjpeg's default error_exit calls exit()); every failure is a clt_status with
 * the file name and the library's own reason.
 *
 * Memory is bounded from the header: an image whose header claims more than max_pixels pixels
 * (CLT_IMAGE_MAX_PIXELS by default) is refused before any pixel buffer is allocated. */
#ifndef CLT_DATA_IMAGE_DECODE_H
#define CLT_DATA_IMAGE_DECODE_H

#include <stddef.h>

#include "data/pnm.h"

/* 64 Mi pixels: an 8192 x 8192 photograph decodes (768 MiB of floats for RGB while one thread
 * fits it to the model's input); 20,000 x 20,000 (400 M) is refused from its header. */
#define CLT_IMAGE_MAX_PIXELS (64L << 20)

typedef enum clt_image_format {
  CLT_IMAGE_UNKNOWN = 0,
  CLT_IMAGE_PNG,
  CLT_IMAGE_JPEG,
} clt_image_format;

/* The format a file's first bytes announce (PNG signature, JPEG SOI marker), else UNKNOWN. */
clt_image_format clt_image_sniff(const unsigned char *data, size_t size);

/* The format a file name's extension names (.png; .jpg, .jpeg; any case), else UNKNOWN. */
clt_image_format clt_image_format_of_name(const char *name);

/* Decodes size bytes (name for messages). max_pixels <= 0 means CLT_IMAGE_MAX_PIXELS.
 * CLT_ERR_BAD_DATA with the decoder's reason; on failure out->pixels is NULL. */
clt_status clt_png_decode(const unsigned char *data, size_t size, const char *name, long max_pixels,
                          clt_image *out);
clt_status clt_jpeg_decode(const unsigned char *data, size_t size, const char *name,
                           long max_pixels, clt_image *out);

/* By the bytes' signature (not the name): PNG or JPEG; an empty file, or bytes of neither
 * format (text named .jpg), is CLT_ERR_BAD_DATA saying so. */
clt_status clt_image_decode(const unsigned char *data, size_t size, const char *name,
                            long max_pixels, clt_image *out);

/* Reads the whole file at path, then clt_image_decode. CLT_ERR_MISSING_INPUT, CLT_ERR_IO. */
clt_status clt_image_read(const char *path, long max_pixels, clt_image *out);

#endif
