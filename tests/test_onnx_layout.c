/* The NHWC -> NCHW weight conversions of the ONNX export (export/onnx_layout.h), without a
 * device: every element of a hand-made conv weight and of a dense weight that reads a
 * flattened H x W x C tensor lands where ONNX reads it, and a convolution and a dense layer
 * computed the cltrain way (NHWC, original weights) equal the ONNX way (NCHW, converted
 * weights). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "export/onnx_layout.h"

/* Element (a, b, c, d) of a 4-index tensor encoded as a number that names its indices. */
static float code(int a, int b, int c, int d) {
  return (float)(a * 1000 + b * 100 + c * 10 + d);
}

static void conv_weights_every_element(void **state) {
  (void)state;
  enum { F = 3, K = 2, C = 4 };
  float in[F * K * K * C], out[F * C * K * K];
  for (int f = 0; f < F; f++) /* cltrain: W [F, K, K, C] */
    for (int kh = 0; kh < K; kh++)
      for (int kw = 0; kw < K; kw++)
        for (int c = 0; c < C; c++) in[((f * K + kh) * K + kw) * C + c] = code(f, kh, kw, c);
  clt_onnx_conv_weights(in, F, K, C, out);
  for (int f = 0; f < F; f++) /* ONNX: W [F, C, K, K] */
    for (int c = 0; c < C; c++)
      for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++)
          assert_true(out[((f * C + c) * K + kh) * K + kw] == code(f, kh, kw, c));
  /* Hand-checked corners: ONNX element [0, 1, 0, 0] is cltrain's [0, 0, 0, 1], index 1. */
  assert_true(out[1 * K * K] == in[1]);
  assert_true(out[F * C * K * K - 1] == in[F * K * K * C - 1]);
}

static void dense_weights_every_element(void **state) {
  (void)state;
  enum { U = 2, H = 3, W = 2, C = 5, I = H * W * C };
  float in[U * I], out[U * I];
  for (int u = 0; u < U; u++) /* columns in NHWC flatten order (h, w, c) */
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++) in[u * I + (h * W + w) * C + c] = code(u, h, w, c);
  clt_onnx_dense_weights(in, U, H, W, C, out);
  for (int u = 0; u < U; u++) /* columns in NCHW flatten order (c, h, w) */
    for (int c = 0; c < C; c++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++)
          assert_true(out[u * I + (c * H + h) * W + w] == code(u, h, w, c));
  /* Column 1 of ONNX is (c 0, h 0, w 1): cltrain's column (0 * W + 1) * C + 0 = 5. */
  assert_true(out[1] == in[5]);
  assert_true(out[1 * I + H * W] == in[1 * I + 1]); /* (c 1, h 0, w 0) is cltrain column 1 */
}

/* One channel or one pixel: NHWC and NCHW flatten orders agree and nothing moves. */
static void dense_weights_identity_cases(void **state) {
  (void)state;
  float in[24], out[24];
  for (int i = 0; i < 24; i++) in[i] = (float)i;
  clt_onnx_dense_weights(in, 2, 3, 4, 1, out);
  for (int i = 0; i < 24; i++) assert_true(out[i] == in[i]);
  clt_onnx_dense_weights(in, 2, 1, 1, 12, out);
  for (int i = 0; i < 24; i++) assert_true(out[i] == in[i]);
}

static double rnd(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (double)(*s >> 8) / (double)(1u << 24) - 0.5;
}

/* A valid, stride-1 convolution followed by a dense layer over its flattened output, once
 * as cltrain computes it and once as ONNX does with the converted weights. */
static void conv_then_dense_agree(void **state) {
  (void)state;
  enum { H = 5, W = 4, C = 3, F = 2, K = 2, OH = H - K + 1, OW = W - K + 1, U = 3 };
  enum { I = OH * OW * F };
  unsigned s = 12345;
  float x_nhwc[H * W * C], x_nchw[C * H * W], wc[F * K * K * C], wc_onnx[F * C * K * K];
  float wd[U * I], wd_onnx[U * I];
  for (int h = 0; h < H; h++)
    for (int w = 0; w < W; w++)
      for (int c = 0; c < C; c++) {
        float v = (float)rnd(&s);
        x_nhwc[(h * W + w) * C + c] = v;
        x_nchw[(c * H + h) * W + w] = v;
      }
  for (int i = 0; i < F * K * K * C; i++) wc[i] = (float)rnd(&s);
  for (int i = 0; i < U * I; i++) wd[i] = (float)rnd(&s);
  clt_onnx_conv_weights(wc, F, K, C, wc_onnx);
  clt_onnx_dense_weights(wd, U, OH, OW, F, wd_onnx);

  double y_nhwc[OH * OW * F], y_nchw[F * OH * OW];
  for (int oh = 0; oh < OH; oh++)
    for (int ow = 0; ow < OW; ow++)
      for (int f = 0; f < F; f++) {
        double a = 0, b = 0;
        for (int kh = 0; kh < K; kh++)
          for (int kw = 0; kw < K; kw++)
            for (int c = 0; c < C; c++) {
              a += x_nhwc[((oh + kh) * W + ow + kw) * C + c] * wc[((f * K + kh) * K + kw) * C + c];
              b += x_nchw[(c * H + oh + kh) * W + ow + kw] *
                   wc_onnx[((f * C + c) * K + kh) * K + kw];
            }
        y_nhwc[(oh * OW + ow) * F + f] = a;
        y_nchw[(f * OH + oh) * OW + ow] = b;
      }
  for (int u = 0; u < U; u++) {
    double a = 0, b = 0;
    for (int i = 0; i < I; i++) {
      a += y_nhwc[i] * wd[u * I + i];
      b += y_nchw[i] * wd_onnx[u * I + i];
    }
    assert_true(fabs(a - b) <= 1e-12 * (1 + fabs(a)));
    assert_true(fabs(a) > 1e-3); /* a real value, not an empty sum */
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conv_weights_every_element),
      cmocka_unit_test(dense_weights_every_element),
      cmocka_unit_test(dense_weights_identity_cases),
      cmocka_unit_test(conv_then_dense_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
