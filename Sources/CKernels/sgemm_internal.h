// Internal interface between the SGEMM driver and the per-ISA kernel files.
#ifndef CONVRT_SGEMM_INTERNAL_H
#define CONVRT_SGEMM_INTERNAL_H

#include "CKernels.h"

#include <stddef.h>

/// Largest MR and vectors-per-row of any kernel set (sizes the tables).
#define SGEMM_MR_MAX 8
#define SGEMM_NV_MAX 3

/// The epilogue of one micro-tile call (see convrt_sgemm_epilogue).
typedef struct {
    float alpha;
    int load_c;              // C holds a value to add: the caller's (accumulate) or earlier K blocks'
    int last;                // last K block: apply bias, residual, activation
    const float *bias;       // bias of the tile's first row, or NULL
    const float *residual;   // residual at the tile's origin, or NULL
    size_t ldr;
    int activation;
    float lo, hi, slope;
} sgemm_tile_epilogue;

/// Micro-kernel: C[mr x nr] (+)= A panel [kc][MR] * B [kc x nv*W] (row stride ldb: NR
/// when packed, the matrix's own stride when read in place), then the epilogue.
/// mr (rows) and nv = ceil(nr / W) (vectors per row) are fixed per function; nr is
/// the count of valid columns (the tail vector is masked on store; B is read whole).
typedef void (*sgemm_ukernel)(size_t kc, const float *a, const float *b, size_t ldb, float *c,
                              size_t ldc, size_t nr, const sgemm_tile_epilogue *e);

/// Packs B rows [kc x nr] (row stride ldb) into one panel [kc][NR], zero-padding to NR.
typedef void (*sgemm_pack_b_fn)(size_t kc, size_t nr, const float *b, size_t ldb, float *dst);

/// One ISA's kernels and its cache blocking.
typedef struct {
    const char *name;        // "sgemm_8x48_avx512"
    int isa;
    size_t mr, nr, w;        // micro-tile rows, columns; vector width in floats
    size_t kc_max;           // K block: a B micro-panel kc x NR stays in L1/L2
    size_t mc_max;           // M tile: an A block mc x kc stays in L2
    size_t nc_max;           // N chunk: a packed B block kc x nc stays in L2
    sgemm_pack_b_fn pack_b;
    sgemm_ukernel kernels[SGEMM_MR_MAX][SGEMM_NV_MAX];  // [mr - 1][nv - 1]
} sgemm_kernel_set;

/// Each returns NULL when its ISA is not compiled for this architecture.
const sgemm_kernel_set *sgemm_kernels_portable(void);
const sgemm_kernel_set *sgemm_kernels_avx2(void);
const sgemm_kernel_set *sgemm_kernels_avx512(void);
const sgemm_kernel_set *sgemm_kernels_neon(void);

/// Scalar epilogue, the reference semantics every vector epilogue mirrors
/// (max/min pick their second operand on NaN or equal, as x86 maxps does).
static inline float sgemm_scalar_activation(float x, const sgemm_tile_epilogue *e) {
    switch (e->activation) {
    case CONVRT_ACT_RELU: return (0.0f > x ? 0.0f : x) + 0.0f;
    case CONVRT_ACT_CLAMP: {
        float y = e->lo > x ? e->lo : x;
        return e->hi < y ? e->hi : y;
    }
    case CONVRT_ACT_LEAKY_RELU: return x > 0.0f ? x : x * e->slope;
    default: return x;
    }
}

#endif
