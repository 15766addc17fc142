/* The weight layout conversions of the ONNX export: cltrain computes in NHWC, ONNX in NCHW
 * (docs/INTERNALS.md "ONNX export"). Pure functions over host floats; out never aliases in. */
#ifndef CLT_EXPORT_ONNX_LAYOUT_H
#define CLT_EXPORT_ONNX_LAYOUT_H

/* Conv weights W [F, K, K, C] (row f in (kh, kw, c) order) to ONNX's [F, C, K, K]. */
void clt_onnx_conv_weights(const float *in, int filters, int size, int channels, float *out);

/* Dense weights W [U, I] whose I = H*W*C columns are in NHWC flatten order ((h, w, c):
 * column (h*W + w)*C + c) to columns in NCHW flatten order ((c, h, w): column (c*H + h)*W + w),
 * which is what ONNX's Flatten of an NCHW tensor feeds the following Gemm. */
void clt_onnx_dense_weights(const float *in, int units, int h, int w, int c, float *out);

#endif
