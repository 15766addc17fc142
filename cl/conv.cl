/* im2col and col2im for the conv layer (docs/INTERNALS.md "conv").
 * x and dx are [N, H, W, C] (NHWC); col and dcol are [N*OH*OW, K*K*C]: row =
 * output pixel (n, oh, ow), columns in (kh, kw, c) order. pt and pl are the
 * top and left padding; the bottom and right padding need no argument because
 * positions past the input read as 0. */

/* col (written) from x; one work-item per element of col, count = N*OH*OW*K*K*C. */
__kernel void im2col(__global const float *x, __global float *col, int count, int H, int W, int C,
                     int OH, int OW, int K, int S, int pt, int pl) {
  int i = get_global_id(0);
  if (i >= count) return;
  int kkc = K * K * C;
  int row = i / kkc;
  int j = i - row * kkc;
  int kh = j / (K * C);
  int kw = (j / C) % K;
  int c = j % C;
  int ow = row % OW;
  int t = row / OW;
  int oh = t % OH;
  int n = t / OH;
  int ih = oh * S - pt + kh;
  int iw = ow * S - pl + kw;
  float v = 0.0f;
  if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[((n * H + ih) * W + iw) * C + c];
  col[i] = v;
}

/* dx (written) from dcol: a gather, one work-item per input element
 * (count = N*H*W*C), summing every dcol entry (oh, ow, kh, kw) that read it:
 * ih + pt = oh*S + kh and iw + pl = ow*S + kw. No atomics. */
__kernel void col2im(__global const float *dcol, __global float *dx, int count, int H, int W,
                     int C, int OH, int OW, int K, int S, int pt, int pl) {
  int i = get_global_id(0);
  if (i >= count) return;
  int c = i % C;
  int t = i / C;
  int iw = t % W;
  t /= W;
  int ih = t % H;
  int n = t / H;
  int ph = ih + pt, pw = iw + pl; /* position in the padded input */
  int kc = K * C, kkc = K * kc;
  /* kh runs over [max(0, ph - (OH-1)*S), min(K-1, ph)] with (ph - kh) % S == 0;
   * likewise kw. */
  int kh0 = max(0, ph - (OH - 1) * S);
  kh0 += (ph - kh0) % S;
  int kw0 = max(0, pw - (OW - 1) * S);
  kw0 += (pw - kw0) % S;
  int kh1 = min(K - 1, ph), kw1 = min(K - 1, pw);
  float s = 0.0f;
  for (int kh = kh0; kh <= kh1; kh += S) {
    int row0 = (n * OH + (ph - kh) / S) * OW;
    for (int kw = kw0; kw <= kw1; kw += S)
      s += dcol[(row0 + (pw - kw) / S) * kkc + kh * kc + kw * C + c];
  }
  dx[i] = s;
}
