#include "data/pnm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/file_check.h"

#define MAX_SIDE 65536
/* A bound on any read of an image file (16 GiB, as before: its own size is read). */
#define CLT_PNM_MAX_FILE_BYTES ((uint64_t)1 << 34)

/* Skips whitespace and # comments; returns the next header number or -1. */
static long header_number(const unsigned char *d, size_t n, size_t *at) {
  for (;;) {
    while (*at < n && (d[*at] == ' ' || d[*at] == '\t' || d[*at] == '\n' || d[*at] == '\r' ||
                       d[*at] == '\v' || d[*at] == '\f'))
      (*at)++;
    if (*at < n && d[*at] == '#') {
      while (*at < n && d[*at] != '\n') (*at)++;
      continue;
    }
    break;
  }
  if (*at >= n || d[*at] < '0' || d[*at] > '9') return -1;
  long v = 0;
  while (*at < n && d[*at] >= '0' && d[*at] <= '9') {
    v = v * 10 + (d[*at] - '0');
    if (v > 1000000000L) return -1;
    (*at)++;
  }
  return v;
}

clt_status clt_pnm_parse(const unsigned char *d, size_t n, const char *name, clt_image *out) {
  memset(out, 0, sizeof *out);
  if (n < 2 || d[0] != 'P' || !strchr("2356", d[1]) || d[1] == '\0')
    return clt_fail(CLT_ERR_BAD_DATA, "%s is not a PGM/PPM image (P2, P3, P5 or P6)", name);
  int kind = d[1] - '0', plain = kind == 2 || kind == 3;
  int c = kind == 3 || kind == 6 ? 3 : 1;
  size_t at = 2;
  long w = header_number(d, n, &at), h = header_number(d, n, &at),
       maxval = header_number(d, n, &at);
  if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || maxval < 1 || maxval > 65535)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: bad PGM/PPM header (width %ld, height %ld, maxval %ld); sides must be 1 "
                    "to %d and maxval 1 to 65535",
                    name, w, h, maxval, MAX_SIDE);
  size_t count = (size_t)w * (size_t)h * (size_t)c;
  /* Check the length before allocating: a 20-byte header can promise 48 GB of pixels. A plain
   * sample is at least a digit and a separator; a raw one 1 or 2 bytes after one whitespace. */
  size_t left = n - at, need = plain ? 2 * count - 1 : 1 + count * (maxval > 255 ? 2 : 1);
  if (left < need)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: truncated: the header says %ldx%ld with %d channel(s), %zu samples, but "
                    "only %zu bytes follow it",
                    name, w, h, c, count, left);
  float *px = malloc(count * sizeof *px);
  if (!px) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s", name);
  if (plain) {
    for (size_t i = 0; i < count; i++) {
      long v = header_number(d, n, &at);
      if (v < 0 || v > maxval) {
        free(px);
        return clt_fail(CLT_ERR_BAD_DATA, "%s: sample %zu of %zu is %s", name, i + 1, count,
                        v < 0 ? "missing or not a number (truncated file?)" : "above maxval");
      }
      px[i] = (float)v / (float)maxval;
    }
  } else {
    /* Exactly one whitespace byte after maxval, then the samples. */
    if (at >= n) {
      free(px);
      return clt_fail(CLT_ERR_BAD_DATA, "%s: truncated after the header", name);
    }
    at++;
    size_t bytes = maxval > 255 ? 2 : 1;
    if (n - at < count * bytes) {
      free(px);
      return clt_fail(CLT_ERR_BAD_DATA, "%s: truncated: %zu pixel bytes, %zu expected", name,
                      n - at, count * bytes);
    }
    for (size_t i = 0; i < count; i++) {
      long v = bytes == 2 ? (long)d[at + 2 * i] << 8 | d[at + 2 * i + 1] : (long)d[at + i];
      if (v > maxval) v = maxval;
      px[i] = (float)v / (float)maxval;
    }
  }
  out->h = (int)h;
  out->w = (int)w;
  out->c = c;
  out->pixels = px;
  return CLT_OK;
}

clt_status clt_pnm_read(const char *path, clt_image *out) {
  memset(out, 0, sizeof *out);
  unsigned char *d;
  size_t n;
  CLT_TRY(clt_file_read_all(path, "file", NULL, CLT_PNM_MAX_FILE_BYTES,
                            "is it really a PGM or PPM image?", &d, &n));
  clt_status st = clt_pnm_parse(d, n, path, out);
  free(d);
  return st;
}

void clt_image_free(clt_image *img) {
  if (!img) return;
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

/* Weights of source pixels for output index o along an axis of in -> out samples: area
 * coverage when shrinking, linear interpolation when growing. Fills idx/wt (at most cap)
 * and returns the count. */
static int axis_taps(int o, int in, int out, int cap, int *idx, double *wt) {
  int k = 0;
  if (in == out) {
    idx[0] = o;
    wt[0] = 1.0;
    return 1;
  }
  double scale = (double)in / out;
  if (scale > 1.0) {
    double a = o * scale, b = (o + 1) * scale;
    for (int i = (int)floor(a); i < (int)ceil(b) && i < in && k < cap; i++) {
      double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
      if (hi > lo) {
        idx[k] = i;
        wt[k++] = (hi - lo) / scale;
      }
    }
    return k;
  }
  double x = (o + 0.5) * scale - 0.5;
  if (x < 0) x = 0;
  if (x > in - 1) x = in - 1;
  int i0 = (int)floor(x), i1 = i0 + 1 < in ? i0 + 1 : i0;
  double f = x - i0;
  idx[0] = i0;
  wt[0] = 1.0 - f;
  idx[1] = i1;
  wt[1] = f;
  return 2;
}

clt_status clt_image_fit(const clt_image *img, int h, int w, int c, float *out) {
  if ((img->c != 1 && img->c != 3) || (c != 1 && c != 3))
    return clt_fail(CLT_ERR_USAGE, "cannot convert %d channels to %d", img->c, c);
  int cap_y = img->h / h + 3, cap_x = img->w / w + 3;
  int *iy = malloc((size_t)cap_y * sizeof *iy), *ix = malloc((size_t)cap_x * sizeof *ix);
  double *wy = malloc((size_t)cap_y * sizeof *wy), *wx = malloc((size_t)cap_x * sizeof *wx);
  if (!iy || !ix || !wy || !wx) {
    free(iy);
    free(ix);
    free(wy);
    free(wx);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory resizing an image");
  }
  for (int y = 0; y < h; y++) {
    int ny = axis_taps(y, img->h, h, cap_y, iy, wy);
    for (int x = 0; x < w; x++) {
      int nx = axis_taps(x, img->w, w, cap_x, ix, wx);
      double rgb[3] = {0, 0, 0};
      for (int a = 0; a < ny; a++)
        for (int b = 0; b < nx; b++) {
          const float *p = img->pixels + ((size_t)iy[a] * img->w + ix[b]) * img->c;
          for (int k = 0; k < img->c; k++) rgb[k] += wy[a] * wx[b] * p[k];
        }
      float *o = out + ((size_t)y * w + x) * c;
      if (c == img->c)
        for (int k = 0; k < c; k++) o[k] = (float)rgb[k];
      else if (c == 1)
        o[0] = (float)(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
      else
        o[0] = o[1] = o[2] = (float)rgb[0];
    }
  }
  free(iy);
  free(ix);
  free(wy);
  free(wx);
  return CLT_OK;
}
