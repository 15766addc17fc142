/* Inverted dropout in training (docs/INTERNALS.md "dropout"). The mask is not
 * stored: keep = clt_uniform(seed, stream, i) >= rate is recomputed, so the same
 * kernel serves forward (in = x, out = y) and backward (in = dy, out = dx).
 * scale = 1 / (1 - rate), computed on the host. first: the index of element 0 in the
 * global batch (a data-parallel shard's offset), so shards draw what one device would. */
__kernel void dropout_apply(__global const float *in, __global float *out, int count, uint first, uint seed,
                            uint stream, float rate, float scale) {
  int i = get_global_id(0);
  if (i >= count) return;
  out[i] = clt_uniform(seed, stream, first + (uint)i) >= rate ? in[i] * scale : 0.0f;
}
