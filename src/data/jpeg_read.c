/* JPEG decoding with libjpeg-turbo (why: data/image_decode.h). libjpeg's default error
 * manager prints and calls exit(); ours keeps the message and longjmps back to
 * clt_jpeg_decode, which frees what it holds. Corrupt entropy-coded data are warnings to
 * libjpeg (it fills the rest with grey and goes on); here they are errors: a truncated or
 * damaged file must not train as a half-grey image. The harmless warnings (extraneous bytes
 * before a marker, common in camera files; an unknown JFIF revision or Adobe transform; a bad
 * ICC marker) are ignored. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "data/image_decode.h"

/* A progressive JPEG of a few bytes can ask for thousands of scans, each a pass over the
 * whole coefficient buffer: a hang, not a picture. */
#define MAX_SCANS 500

typedef struct jpeg_errors {
  struct jpeg_error_mgr mgr; /* first: libjpeg hands back a pointer to it */
  jmp_buf jump;
  char why[JMSG_LENGTH_MAX];
} jpeg_errors;

static void on_error(j_common_ptr cinfo) {
  jpeg_errors *e = (jpeg_errors *)cinfo->err;
  cinfo->err->format_message(cinfo, e->why);
  longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  switch (cinfo->err->msg_code) {
  case JWRN_JPEG_EOF:
  case JWRN_HIT_MARKER:
  case JWRN_HUFF_BAD_CODE:
  case JWRN_MUST_RESYNC:
  case JWRN_NOT_SEQUENTIAL:
  case JWRN_BOGUS_PROGRESSION:
    on_error(cinfo);
    break;
  default:
    break;
  }
}

static void on_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->progressive_mode && d->input_scan_number > MAX_SCANS) {
    jpeg_errors *e = (jpeg_errors *)cinfo->err;
    snprintf(e->why, sizeof e->why, "more than %d progressive scans", MAX_SCANS);
    longjmp(e->jump, 1);
  }
}

clt_status clt_jpeg_decode(const unsigned char *data, size_t size, const char *name,
                           long max_pixels_arg, clt_image *out) {
  memset(out, 0, sizeof *out);
  volatile long max_pixels = max_pixels_arg > 0 ? max_pixels_arg : CLT_IMAGE_MAX_PIXELS;
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: not a JPEG file (no start-of-image marker)", name);
  struct jpeg_decompress_struct cinfo;
  jpeg_errors err;
  struct jpeg_progress_mgr progress;
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_error;
  err.mgr.emit_message = on_message;
  unsigned char *volatile row = NULL;
  float *volatile pixels = NULL;
  volatile int too_big = 0, created = 0;
  volatile unsigned long w = 0, h = 0;
  if (setjmp(err.jump)) {
    free(row);
    free(pixels);
    if (created) jpeg_destroy_decompress(&cinfo);
    if (too_big)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: the JPEG header says %lux%lu pixels, more than the limit of %ld "
                      "(memory is bounded before decoding: scale the image down)",
                      name, w, h, max_pixels);
    return clt_fail(CLT_ERR_BAD_DATA, "%s: cannot decode the JPEG: %s", name, err.why);
  }
  jpeg_create_decompress(&cinfo);
  created = 1;
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  cinfo.mem->max_memory_to_use = 1L << 30;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  w = cinfo.image_width;
  h = cinfo.image_height;
  if ((double)w * (double)h > (double)max_pixels) {
    too_big = 1;
    longjmp(err.jump, 1);
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    snprintf(err.why, sizeof err.why, "CMYK colour is not supported; convert it to RGB");
    longjmp(err.jump, 1);
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  int c = cinfo.output_components;
  if (c != 1 && c != 3) {
    snprintf(err.why, sizeof err.why, "%d colour components after conversion", c);
    longjmp(err.jump, 1);
  }
  size_t stride = (size_t)cinfo.output_width * c;
  row = malloc(stride);
  pixels = malloc(stride * cinfo.output_height * sizeof(float));
  if (!row || !pixels) {
    snprintf(err.why, sizeof err.why, "out of host memory for the pixels");
    longjmp(err.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row};
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
      snprintf(err.why, sizeof err.why, "no data for row %zu", y);
      longjmp(err.jump, 1);
    }
    float *dst = pixels + y * stride;
    for (size_t i = 0; i < stride; i++) dst[i] = (float)row[i] / 255.0f;
  }
  jpeg_finish_decompress(&cinfo);
  out->h = (int)cinfo.output_height;
  out->w = (int)cinfo.output_width;
  out->c = c;
  out->pixels = pixels;
  free(row);
  jpeg_destroy_decompress(&cinfo);
  return CLT_OK;
}
