/* Training-data augmentation: random crop with zero padding, then horizontal flip, per
 * sample (docs/INTERNALS.md "Data augmentation"; host reference src/ref/ref_augment.c).
 *
 * in, out: [n, h, w, c] (NHWC), out of place. One work-item per output float: dimension 0
 * the position x * c + ch in a row, 1 the row y, 2 the sample s. The draws of sample s:
 * dy = clt_hash(seed, stream, 3s) % (2 pad + 1) - pad, dx likewise from 3s + 1, mirrored
 * when flip is on and the top bit of element 3s + 2 is set; stream = clt_stream of the
 * augmentation stream and the global step, computed on the host.
 * out(y, x) = in(y + dy, (mirrored ? w - 1 - x : x) + dx), 0 outside the image. */
__kernel void augment_crop_flip(__global const float *in, __global float *out, int n, int h,
                                int w, int c, int pad, int flip, uint seed, uint stream,
                                uint first /* sample 0's index in the global batch */) {
  int xc = get_global_id(0);
  int y = get_global_id(1);
  int s = get_global_id(2);
  int row = w * c;
  if (xc >= row || y >= h || s >= n) return;
  uint span = (uint)(2 * pad + 1);
  uint i = 3u * (first + (uint)s);
  int dy = (int)(clt_hash(seed, stream, i) % span) - pad;
  int dx = (int)(clt_hash(seed, stream, i + 1u) % span) - pad;
  int mirrored = flip != 0 && (clt_hash(seed, stream, i + 2u) >> 31) != 0;
  int x = xc / c;
  int ch = xc - x * c;
  int sy = y + dy;
  int sx = (mirrored ? w - 1 - x : x) + dx;
  long sample = (long)s * h * row;
  float v = 0.0f;
  if (sy >= 0 && sy < h && sx >= 0 && sx < w) v = in[sample + (long)sy * row + sx * c + ch];
  out[sample + (long)y * row + xc] = v;
}
