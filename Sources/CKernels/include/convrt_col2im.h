/// col2im and im2col over a 3-D sliding window (1-D and 2-D use leading unit dims), for
/// ConvTranspose (GEMM + col2im), Fold (col2im) and Unfold (im2col).
///
/// Grid position `g` and kernel tap `a` meet image position `g*stride - pad + a*dilation`
/// per dim. A "columns" matrix has one row per tap (taps row-major over (kd, kh, kw)), each
/// row holding one value per grid position (row-major over the grid). For ConvTranspose the
/// grid is the input and the image the output; for Fold/Unfold the grid is the blocks.
#ifndef CONVRT_COL2IM_H
#define CONVRT_COL2IM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The window, per dim (d, h, w). All sizes >= 0; kernel, stride, dilation >= 1.
typedef struct {
    ptrdiff_t grid[3];
    ptrdiff_t image[3];
    ptrdiff_t kernel[3];
    ptrdiff_t stride[3];
    ptrdiff_t dilation[3];
    ptrdiff_t pad[3];  ///< before; the image ends where `image` says
} convrt_window3d;

/// One activation of a plane epilogue; `kind` is a convrt_activation (CKernels.h).
typedef struct {
    int kind;
    float lo, hi;   ///< CLAMP bounds
    float slope;    ///< LEAKY_RELU negative slope
} convrt_col2im_activation;

/// What col2im applies to each image value `v` (the sum of its taps) before storing it:
/// `post(pre(v + bias) + residual[i])`.
typedef struct {
    float bias;
    const float *residual;  ///< the plane's residual (same layout as the image), or NULL
    convrt_col2im_activation pre, post;
} convrt_col2im_epilogue;

/// Bytes of workspace `convrt_col2im` needs: per-dim tap tables and one image row of sums.
size_t convrt_col2im_workspace_bytes(const convrt_window3d *w);

/// Image rows `[row_begin, row_end)` (a row is one (d, h) pair, `row = d*image_h + h`) of one
/// plane: each value is the sum of every column entry that lands on it, in a fixed order
/// ((kd, kh, kw) ascending; bit-identical however rows are split), then the epilogue.
/// Positions no entry reaches get `epilogue(0)`. Gather form: every image value is written once.
/// - columns: tap `t`'s row starts at `columns + t*ld` (ld >= grid plane).
/// - workspace: `convrt_col2im_workspace_bytes(w)` bytes, 16-byte aligned, private to the
///   caller's thread.
void convrt_col2im(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                   size_t row_begin, size_t row_end, const convrt_col2im_epilogue *epilogue,
                   void *workspace);

/// The inverse gather: `columns[t*ld + g]` = the image value tap `t` of grid position `g`
/// reads, or 0 in the padding.
void convrt_im2col(const convrt_window3d *w, const float *image, float *columns, size_t ld);

#ifdef __cplusplus
}
#endif

#endif
