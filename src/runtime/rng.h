/* The counter-based random generator shared bit for bit with cl/common.clh
 * (see docs/INTERNALS.md, "Random numbers"). */
#ifndef CLT_RUNTIME_RNG_H
#define CLT_RUNTIME_RNG_H

#include <math.h>
#include <stdint.h>

static inline uint32_t clt_mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

static inline uint32_t clt_stream(uint32_t step, uint32_t layer) {
  return clt_mix32(step * 0x9E3779B9u + clt_mix32(layer + 0x632BE59Bu));
}

static inline uint32_t clt_hash(uint32_t seed, uint32_t stream, uint32_t i) {
  uint32_t h = clt_mix32(seed ^ 0xA511E9B3u);
  h = clt_mix32(h ^ stream);
  return clt_mix32(h + i * 0x9E3779B9u);
}

/* Uniform in [0, 1) with 24 random bits. */
static inline float clt_uniform(uint32_t seed, uint32_t stream, uint32_t i) {
  return (float)(clt_hash(seed, stream, i) >> 8) * (1.0f / 16777216.0f);
}

/* Standard normal by Box-Muller from elements 2i and 2i+1 of the stream. */
static inline double clt_normal(uint32_t seed, uint32_t stream, uint32_t i) {
  double u1 = ((clt_hash(seed, stream, 2 * i) >> 8) + 1.0) / 16777217.0; /* (0, 1] */
  double u2 = (clt_hash(seed, stream, 2 * i + 1) >> 8) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#define CLT_STREAM_INIT     0xFFFFFFFFu
#define CLT_STREAM_SHUFFLE  0xFFFFFFFEu
#define CLT_STREAM_AUGMENT  0xFFFFFFFDu
#define CLT_STREAM_CSV_ROWS 0xFFFFFFFCu /* the within-chunk row shuffle of CSV data */

#endif
