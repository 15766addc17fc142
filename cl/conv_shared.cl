/* Kernels of the conv algorithms that do not depend on a layer's shape: one program (no
 * options) serves every layer, so a first run compiles them once, not once per layer (PoCL
 * compiles each kernel of each program at its first launch). */

/* wt [KKC, F] (written) = W [F, KKC] transposed (conv_direct.cl, conv_implicit.cl: the
 * filters of one tap are one vector load). 1-D over F*KKC. */
__kernel void conv_weights_transpose(__global const float *w, __global float *wt, int filters,
                                     int kkc) {
  int i = get_global_id(0);
  if (i >= filters * kkc) return;
  int f = i / kkc;
  int tap = i - f * kkc;
  wt[tap * filters + f] = w[i];
}

/* dW [F, KKC] += the sums over the chunks of part [chunks, KKC, F], in chunk order (the
 * implicit weight gradient's partial sums). 1-D over KKC*F. */
__kernel void conv_implicit_reduce(__global const float *part, __global float *dw, int chunks,
                                   int filters, int kkc) {
  int i = get_global_id(0);
  if (i >= kkc * filters) return;
  float s = 0.0f;
  for (int k = 0; k < chunks; k++) s += part[(size_t)k * kkc * filters + i];
  int tap = i / filters;
  int f = i - tap * filters;
  dw[f * kkc + tap] += s;
}
