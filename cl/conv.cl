/* im2col and col2im for the conv layer (docs/INTERNALS.md "conv").
 * x and dx are [N, H, W, C] (NHWC); col and dcol are [N*OH*OW, K*K*C]: row =
 * output pixel (n, oh, ow), columns in (kh, kw, c) order. pt and pl are the
 * top and left padding; the bottom and right padding need no argument because
 * positions past the input read as 0.
 *
 * Both are 3-D launches with the contiguous index in dimension 0 and the pixel
 * in dimensions 1 and 2, so that the divisions that split a pixel index are
 * done once per pixel, not once per element: on CPU devices (PoCL) dimension 0
 * is the innermost, vectorised loop of a work-group and code that depends only
 * on dimensions 1 and 2 is hoisted out of it; on GPUs neighbouring work-items
 * touch neighbouring floats. */

/* col (written) from x. Work-item (j, ow, t) with j = kw*C + c in [0, K*C),
 * t = n*OH + oh in [0, N*OH), writes the K entries (kh = 0..K-1) of column
 * kh*K*C + j of row t*OW + ow. For a fixed kh the K*C entries j of a row are a
 * contiguous run of x (input columns iw0 .. iw0 + K - 1 of row ih), so j needs
 * no division: it is inside the input exactly when iw0*C + j is in [0, W*C). */
__kernel void im2col(__global const float *x, __global float *col, int NOH, int H, int W, int C,
                     int OH, int OW, int K, int S, int pt, int pl) {
  int j = get_global_id(0);
  int ow = get_global_id(1);
  int t = get_global_id(2);
  int kc = K * C;
  if (j >= kc || ow >= OW || t >= NOH) return;
  int n = t / OH;
  int oh = t - n * OH;
  int ih0 = oh * S - pt;
  int xw = (ow * S - pl) * C + j; /* offset of this entry within an input row */
  int inside_w = xw >= 0 && xw < W * C;
  int src = (n * H + ih0) * W * C + xw; /* x index for kh = 0 (read only when inside) */
  int dst = (t * OW + ow) * K * kc + j;
  for (int kh = 0; kh < K; kh++) {
    int ih = ih0 + kh;
    float v = 0.0f;
    if (inside_w && ih >= 0 && ih < H) v = x[src + kh * W * C];
    col[dst + kh * kc] = v;
  }
}

/* dx (written) from dcol: a gather, one work-item (c, iw, t) per input element
 * (t = n*H + ih), summing every dcol entry (oh, ow, kh, kw) that read it:
 * ih + pt = oh*S + kh and iw + pl = ow*S + kw with 0 <= kh, kw < K. No atomics. */
__kernel void col2im(__global const float *dcol, __global float *dx, int NH, int H, int W, int C,
                     int OH, int OW, int K, int S, int pt, int pl) {
  int c = get_global_id(0);
  int iw = get_global_id(1);
  int t = get_global_id(2);
  if (c >= C || iw >= W || t >= NH) return;
  int n = t / H;
  int ih = t - n * H;
  int ph = ih + pt, pw = iw + pl; /* position in the padded input */
  /* oh runs over [ceil((ph - K + 1) / S), min(ph / S, OH - 1)]; likewise ow. */
  int oh0 = ph < K ? 0 : (ph - K) / S + 1;
  int oh1 = min(ph / S, OH - 1);
  int ow0 = pw < K ? 0 : (pw - K) / S + 1;
  int ow1 = min(pw / S, OW - 1);
  int kc = K * C, kkc = K * kc;
  float s = 0.0f;
  for (int oh = oh0; oh <= oh1; oh++) {
    int base = (n * OH + oh) * OW * kkc + (ph - oh * S) * kc + pw * C + c;
    for (int ow = ow0; ow <= ow1; ow++) s += dcol[base + ow * (kkc - S * C)];
  }
  dx[(t * W + iw) * C + c] = s;
}
