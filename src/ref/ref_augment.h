/* Host reference of the training-data augmentation (cl/augment.cl, docs/INTERNALS.md "Data
 * augmentation"): the per-sample draws and the crop-with-padding and flip they drive. Pure
 * index arithmetic, so the device must match it exactly. */
#ifndef CLT_REF_REF_AUGMENT_H
#define CLT_REF_REF_AUGMENT_H

#include <stdint.h>

/* What one sample of one step gets: out(y, x) = in(y + dy, x' + dx) with x' = W - 1 - x when
 * flipped, else x; zero where that falls outside the image. */
typedef struct clt_augment_draw {
  int dy, dx;  /* crop offsets in [-pad, pad] */
  int flipped; /* 0 or 1 */
} clt_augment_draw;

/* The draws of sample position `sample` in the batch of global step `step` (0-based):
 * stream = clt_stream(CLT_STREAM_AUGMENT, step); dy from element 3*sample, dx from 3*sample+1
 * (each clt_hash % (2*pad + 1) - pad), the flip bit from the top bit of element 3*sample+2
 * (and only when flip is on). */
clt_augment_draw clt_ref_augment_draw(uint32_t seed, uint32_t step, int sample, int pad, int flip);

/* out [n, h, w, c] = the augmented in [n, h, w, c] (NHWC, out != in). */
void clt_ref_augment(const float *in, float *out, int n, int h, int w, int c, int pad, int flip,
                     uint32_t seed, uint32_t step);

#endif
