/* The standalone [activation] layer (docs/INTERNALS.md "Activations"); act is a
 * CLT_ACT_* code from common.clh, alpha the leaky_relu slope. */

/* y [count] = act(x). */
__kernel void activation_forward(__global const float *x, __global float *y, int count, int act,
                                 float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  y[i] = clt_act(act, x[i], alpha);
}

/* dx [count] (written) = dy * act'(y), the derivative taken from the output y. */
__kernel void activation_backward(__global const float *y, __global const float *dy,
                                  __global float *dx, int count, int act, float alpha) {
  int i = get_global_id(0);
  if (i >= count) return;
  dx[i] = dy[i] * clt_act_grad(act, y[i], alpha);
}
