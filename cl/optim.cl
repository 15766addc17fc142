/* Optimizer steps over a flat parameter vector (docs/INTERNALS.md "Optimizers").
 * One work-item per parameter float. Factors that depend only on the step (1 - beta,
 * the bias corrections 1 - beta^t, lr * wd) are computed on the host in double and
 * passed as floats. */

/* w -= lr * (g + wd * w) */
__kernel void sgd_step(__global float *w, __global const float *g, uint n, float lr, float wd) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  float wi = w[i];
  float gp = g[i] + wd * wi;
  w[i] = wi - lr * gp;
}

/* v = mu * v + g'; w -= lr * (nesterov ? g' + mu * v : v), g' = g + wd * w. v [n]. */
__kernel void sgd_momentum_step(__global float *w, __global const float *g, __global float *v,
                                uint n, float lr, float mu, float wd, int nesterov) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  float wi = w[i];
  float gp = g[i] + wd * wi;
  float vi = mu * v[i] + gp;
  v[i] = vi;
  w[i] = wi - lr * (nesterov ? gp + mu * vi : vi);
}

/* m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; w -= lr * (m / c1) / (sqrt(v / c2) + eps)
 * with g' = g + wd * w (L2), c1 = 1 - b1^t, c2 = 1 - b2^t. state [2n]: m then v. */
__kernel void adam_step(__global float *w, __global const float *g, __global float *state, uint n,
                        float lr, float b1, float one_minus_b1, float b2, float one_minus_b2,
                        float c1, float c2, float eps, float wd) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  float wi = w[i];
  float gp = g[i] + wd * wi;
  float m = b1 * state[i] + one_minus_b1 * gp;
  float v = b2 * state[n + i] + one_minus_b2 * gp * gp;
  state[i] = m;
  state[n + i] = v;
  w[i] = wi - lr * (m / c1) / (sqrt(v / c2) + eps);
}

/* AdamW: w -= lr * wd * w first (decay = lr * wd), then the Adam update with g' = g. */
__kernel void adamw_step(__global float *w, __global const float *g, __global float *state, uint n,
                         float lr, float b1, float one_minus_b1, float b2, float one_minus_b2,
                         float c1, float c2, float eps, float decay) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  float wi = w[i];
  wi -= decay * wi;
  float gp = g[i];
  float m = b1 * state[i] + one_minus_b1 * gp;
  float v = b2 * state[n + i] + one_minus_b2 * gp * gp;
  state[i] = m;
  state[n + i] = v;
  w[i] = wi - lr * (m / c1) / (sqrt(v / c2) + eps);
}
