/// Row kernels of convrt's pooling layers (max: NaN wins, as in ATen; sum: for average pooling).
///
/// A pooling window is separable: the planned kernel first reduces the in-bounds input rows of
/// a window elementwise (convrt_pool_rows), then slides the window along that row
/// (convrt_pool_window). Both are contiguous loops the compiler vectorises; the AVX2 build of
/// the same code is picked at run time where the CPU has it. Results do not depend on the path
/// (the loops add and compare elementwise, in the same order, with no multiplies to contract).
#ifndef CONVRT_SPATIAL_KERNELS_H
#define CONVRT_SPATIAL_KERNELS_H

#include <stddef.h>

#include "CKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CONVRT_POOL_MAX = 0,  ///< maximum; any NaN makes the result NaN
    CONVRT_POOL_SUM = 1,  ///< sum (average pooling divides afterwards)
} convrt_pool_op;

/// out[c] = reduce over r < count of rows[r][c], for c < width. count >= 1; `out` may be rows[0].
/// `isa`: CONVRT_ISA_AUTO, or a path to test (an unsupported one runs the portable code).
void convrt_pool_rows(convrt_isa isa, int op, const float *const *rows, ptrdiff_t count, ptrdiff_t width,
                      float *out);

/// One row of a sliding window: out[o] = reduce over j < kernel of in[o*stride - pad + j*dilation],
/// skipping taps outside [0, in_width); an empty window gives -inf (max) or 0 (sum).
/// stride, dilation >= 1. `scratch` holds (out_width - 1) * stride + 1 floats (unused when stride is 1).
void convrt_pool_window(convrt_isa isa, int op, const float *in, ptrdiff_t in_width, float *out, ptrdiff_t out_width,
                        ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t pad, ptrdiff_t dilation, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
