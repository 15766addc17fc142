/* Inverted dropout in training (docs/INTERNALS.md "dropout"). The mask is not
 * stored: keep = clt_uniform(seed, stream, i) >= rate is recomputed, so the same
 * kernel serves forward (in = x, out = y) and backward (in = dy, out = dx).
 * scale = 1 / (1 - rate), computed on the host. */
__kernel void dropout_apply(__global const float *in, __global float *out, int count, uint seed,
                            uint stream, float rate, float scale) {
  int i = get_global_id(0);
  if (i >= count) return;
  out[i] = clt_uniform(seed, stream, (uint)i) >= rate ? in[i] * scale : 0.0f;
}
