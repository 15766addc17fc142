/* Reference augmentation: random crop with zero padding, then horizontal flip (ref_augment.h). */
#include "ref/ref_augment.h"

#include "runtime/rng.h"

clt_augment_draw clt_ref_augment_draw(uint32_t seed, uint32_t step, int sample, int pad, int flip) {
  uint32_t stream = clt_stream(CLT_STREAM_AUGMENT, step);
  uint32_t span = 2u * (uint32_t)pad + 1u;
  uint32_t i = 3u * (uint32_t)sample;
  clt_augment_draw d;
  d.dy = (int)(clt_hash(seed, stream, i) % span) - pad;
  d.dx = (int)(clt_hash(seed, stream, i + 1u) % span) - pad;
  d.flipped = flip && (clt_hash(seed, stream, i + 2u) >> 31) != 0;
  return d;
}

void clt_ref_augment(const float *in, float *out, int n, int h, int w, int c, int pad, int flip,
                     uint32_t seed, uint32_t step) {
  for (int s = 0; s < n; s++) {
    clt_augment_draw d = clt_ref_augment_draw(seed, step, s, pad, flip);
    const float *src = in + (long)s * h * w * c; /* [h, w, c] */
    float *dst = out + (long)s * h * w * c;      /* [h, w, c] */
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int sy = y + d.dy;
        int sx = (d.flipped ? w - 1 - x : x) + d.dx;
        int inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (int ch = 0; ch < c; ch++)
          dst[((long)y * w + x) * c + ch] = inside ? src[((long)sy * w + sx) * c + ch] : 0.0f;
      }
    }
  }
}
