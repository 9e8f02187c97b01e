// Internal interface between the Winograd block driver and its per-ISA transforms.
//
// Both transforms work on groups of 8 consecutive tiles of one tile row (one tile per
// vector lane) and evaluate every lane with the same operations in the same order, with
// no fused multiply-adds (`FP_CONTRACT OFF`), so every path gives the same bits.
#ifndef CONVRT_WINOGRAD_INTERNAL_H
#define CONVRT_WINOGRAD_INTERNAL_H

#include "CKernels.h"

#include <stddef.h>

/// Tiles per transform group (vector lanes).
#define WINO_LANES 8

/// Input transform of the tiles (ty, tx0 .. tx0 + n) of every input channel:
/// V[(i*6+k)*pstride + c*ldv + t] for t in [0, n). Writes whole groups: up to 7 columns past
/// n hold garbage (the caller leaves room; a later segment overwrites them).
typedef void (*wino_input_fn)(const convrt_winograd_f43 *w, const float *x, size_t ty, size_t tx0,
                              size_t n, float *v, size_t ldv, size_t pstride);

/// Output transform and epilogue of the tiles (ty, tx0 .. tx0 + n) of every output channel from
/// M[(i*6+k)*pstride + c*ldm + t]; reads (never stores) up to 7 columns past n.
typedef void (*wino_output_fn)(const convrt_winograd_f43 *w, const float *m, size_t ldm,
                               size_t pstride, size_t ty, size_t tx0, size_t n,
                               const float *residual, float *y);

typedef struct {
    wino_input_fn input;
    wino_output_fn output;
} wino_transforms;

/// NULL when the path is not compiled for this architecture.
const wino_transforms *wino_transforms_portable(void);
const wino_transforms *wino_transforms_avx2(void);

/// Scalar activation with the x86 max/min NaN semantics of the SGEMM epilogue.
static inline float wino_activation(float x, const convrt_winograd_activation *a) {
    switch (a->kind) {
    case CONVRT_ACT_RELU: return (0.0f > x ? 0.0f : x) + 0.0f;
    case CONVRT_ACT_CLAMP: {
        float y = a->lo > x ? a->lo : x;
        return a->hi < y ? a->hi : y;
    }
    case CONVRT_ACT_LEAKY_RELU: return x > 0.0f ? x : x * a->slope;
    default: return x;
    }
}

#endif
