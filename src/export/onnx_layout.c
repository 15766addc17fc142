#include "export/onnx_layout.h"

#include <stddef.h>

void clt_onnx_conv_weights(const float *in, int filters, int size, int channels, float *out) {
  size_t K = (size_t)size, C = (size_t)channels;
  for (size_t f = 0; f < (size_t)filters; f++)
    for (size_t kh = 0; kh < K; kh++)
      for (size_t kw = 0; kw < K; kw++)
        for (size_t c = 0; c < C; c++)
          out[((f * C + c) * K + kh) * K + kw] = in[((f * K + kh) * K + kw) * C + c];
}

void clt_onnx_dense_weights(const float *in, int units, int h, int w, int c, float *out) {
  size_t H = (size_t)h, W = (size_t)w, C = (size_t)c, I = H * W * C;
  for (size_t u = 0; u < (size_t)units; u++)
    for (size_t y = 0; y < H; y++)
      for (size_t x = 0; x < W; x++)
        for (size_t ch = 0; ch < C; ch++)
          out[u * I + (ch * H + y) * W + x] = in[u * I + (y * W + x) * C + ch];
}
