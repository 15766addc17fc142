/* Netpbm images for `cltrain predict`: PGM (P2 plain, P5 raw) and PPM (P3 plain, P6 raw),
 * 8- or 16-bit (maxval 1..65535), comments allowed in the header; pixels scaled to [0, 1]
 * by maxval. Hand-written: the formats are a few lines each and no library is needed. */
#ifndef CLT_DATA_PNM_H
#define CLT_DATA_PNM_H

#include <stddef.h>

#include "cltrain/status.h"

typedef struct clt_image {
  int h, w, c;   /* c: 1 (PGM) or 3 (PPM) */
  float *pixels; /* [h, w, c] in [0, 1], owned */
} clt_image;

/* Reads path. CLT_ERR_MISSING_INPUT, CLT_ERR_IO, or CLT_ERR_BAD_DATA naming what is wrong. */
clt_status clt_pnm_read(const char *path, clt_image *out);
/* Parses the bytes of a file (name for messages). */
clt_status clt_pnm_parse(const unsigned char *data, size_t size, const char *name, clt_image *out);
void clt_image_free(clt_image *img);

/* Resamples img to [h, w, c] into out: area average where a dimension shrinks, bilinear
 * (pixel centres aligned) where it grows, a copy where it stays; colour (3) to grey (1) by
 * 0.299 R + 0.587 G + 0.114 B, grey to colour by repetition. img->c and c must be 1 or 3. */
clt_status clt_image_fit(const clt_image *img, int h, int w, int c, float *out);

#endif
