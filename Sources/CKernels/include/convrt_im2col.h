/// Blocked im2col for the implicit-GEMM convolution: the columns of the im2col matrix are
/// gathered a block at a time (a block of output pixels, all K rows) into a small buffer
/// that stays in cache while the SGEMM consumes it, so the whole matrix never exists.
#ifndef CONVRT_IM2COL_H
#define CONVRT_IM2COL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One image-group of a convolution, lifted to 3-D (a 1-D or 2-D conv has leading extents 1,
/// stride and dilation 1 and padding 0 there). Output sizes must be those the input, kernel,
/// stride, dilation and padding give (PyTorch's formula), so every kept tap is in bounds.
typedef struct {
    size_t channels;                     ///< input channels of the group
    size_t in_d, in_h, in_w;
    size_t out_d, out_h, out_w;
    size_t k_d, k_h, k_w;
    size_t stride_d, stride_h, stride_w;  ///< >= 1
    size_t dilation_d, dilation_h, dilation_w;
    size_t pad_d, pad_h, pad_w;          ///< zero padding before each dim
} convrt_conv_geometry;

/// Writes rows [row0, row0 + rows) and columns [n0, n0 + count) of the group's im2col matrix,
/// `[K x out pixels]` with K = channels x k_d x k_h x k_w and row (c, kd, kh, kw), to `dst`
/// row-major with row stride `ldd` (>= count): `dst[(r - row0) * ldd + t]` is the input value
/// output pixel `n0 + t` reads through row r's tap, or 0 in the padding. `x` is the group's
/// input, `[channels x in_d x in_h x in_w]`. Nothing else of `dst` is written.
void convrt_im2col_block(const convrt_conv_geometry *g, const float *x, size_t n0, size_t count,
                         size_t row0, size_t rows, float *dst, size_t ldd);

#ifdef __cplusplus
}
#endif

#endif
