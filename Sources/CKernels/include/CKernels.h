/// CKernels: ISA-specific micro-kernels for convrt, nothing else.
///
/// Packed SGEMM, row-major: C[M x N] = epilogue(A[M x K] * B[K x N]).
/// A is the weight matrix (Cout x Cin*kh*kw), packed once at load time;
/// B is the activation matrix (K x pixels), read in place (or packed per call
/// in cache-sized blocks when its row stride is cache-hostile); C is one
/// image's NCHW output planes.
///
/// Work is split into "units" (an M tile x an NR-wide column panel). A caller
/// runs disjoint unit ranges on different threads; every C element is computed
/// by the same instruction sequence whatever the split (K is never split across
/// threads), so results are bit-identical for any thread count.
#ifndef CONVRT_CKERNELS_H
#define CONVRT_CKERNELS_H

#include <stddef.h>

#include "convrt_im2col.h"
#include "convrt_pool.h"
#include "convrt_col2im.h"
#include "winograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set paths. AUTO resolves to the best one this CPU supports.
typedef enum {
    CONVRT_ISA_AUTO = 0,
    CONVRT_ISA_PORTABLE = 1,  ///< plain C, any CPU
    CONVRT_ISA_AVX2 = 2,      ///< x86-64 AVX2 + FMA3
    CONVRT_ISA_AVX512 = 3,    ///< x86-64 AVX-512F
    CONVRT_ISA_NEON = 4,      ///< AArch64 Advanced SIMD
} convrt_isa;

/// 1 when `isa` is compiled in and this CPU runs it (AUTO: always 1).
int convrt_isa_supported(convrt_isa isa);
/// The fastest supported path; the choice is made once, on first use.
convrt_isa convrt_isa_best(void);
/// Kernel name with tile and ISA, e.g. "sgemm_8x48_avx512"; "" when unknown.
const char *convrt_sgemm_kernel_name(convrt_isa isa);
/// Micro-tile rows (MR) and columns (NR) of a path; 0 when unsupported.
size_t convrt_sgemm_mr(convrt_isa isa);
size_t convrt_sgemm_nr(convrt_isa isa);
/// Floats per vector register of a path's micro-kernels (NR is a multiple); 0 when unsupported.
size_t convrt_sgemm_vector_width(convrt_isa isa);

/// Floats needed to hold A [m x k] packed for `isa` (0 when unsupported).
size_t convrt_sgemm_packed_a_count(convrt_isa isa, size_t m, size_t k);
/// Packs row-major A [m x k] (row stride lda) into MR-row panels, [k][MR] each,
/// zero-padding the last panel. `packed` holds packed_a_count floats.
void convrt_sgemm_pack_a(convrt_isa isa, size_t m, size_t k, const float *a, size_t lda,
                         float *packed);

/// Packs A = At^T, given row-major At [k x m] (row stride ldat), exactly as
/// convrt_sgemm_pack_a would pack A (e.g. an NCHW image plane as pixels x channels).
void convrt_sgemm_pack_a_transposed(convrt_isa isa, size_t m, size_t k, const float *at,
                                    size_t ldat, float *packed);

/// Floats needed to hold B [k x n] packed whole for `isa` (0 when unsupported).
size_t convrt_sgemm_packed_b_count(convrt_isa isa, size_t k, size_t n);
/// Packs row-major B [k x n] (row stride ldb) into NR-wide column panels, [k][NR] each,
/// zero-padding the last one: for weights used as B, packed once (convrt_sgemm_compute_packed_b).
void convrt_sgemm_pack_b(convrt_isa isa, size_t k, size_t n, const float *b, size_t ldb,
                         float *packed);

/// Activation applied last in the epilogue.
typedef enum {
    CONVRT_ACT_NONE = 0,
    CONVRT_ACT_RELU = 1,        ///< max(x, 0); NaN propagates; -0 becomes +0
    CONVRT_ACT_CLAMP = 2,       ///< min(max(x, lo), hi) (relu6: lo 0, hi 6); NaN propagates
    CONVRT_ACT_LEAKY_RELU = 3,  ///< x > 0 ? x : x * slope
} convrt_activation;

/// What happens to each tile while it is in registers, in this order:
/// v = alpha * (A*B) [+ C if accumulate] [+ bias[row]] [+ residual[row][col]];
/// C = activation(v).
typedef struct {
    float alpha;
    int accumulate;          ///< nonzero: add C's previous contents
    const float *bias;       ///< M floats (one per output channel), or NULL
    const float *residual;   ///< [M x N] with row stride ldr, or NULL; must not overlap C
    size_t ldr;
    int activation;          ///< a convrt_activation
    float lo, hi;            ///< CLAMP bounds
    float slope;             ///< LEAKY_RELU negative slope
} convrt_sgemm_epilogue;

/// How one problem is cut up; make it once per shape and thread count.
typedef struct {
    int isa;               ///< resolved convrt_isa
    size_t m, n, k;
    size_t mr, nr;         ///< micro-tile
    size_t kc;             ///< K block length (the last block may be shorter)
    size_t k_blocks;       ///< ceil(k / kc), at least 1
    size_t tile_m;         ///< rows per M tile (a multiple of mr)
    size_t tiles_m;
    size_t panels;         ///< NR-wide column panels: ceil(n / nr)
    size_t chunk_panels;   ///< panels per packed-B chunk (cache block NC / NR)
    size_t units;          ///< tiles_m * panels: what threads share
} convrt_sgemm_plan;

/// Fills `plan` for an m x n x k product on `threads` threads.
/// Returns 0, or -1 when `isa` is unsupported.
int convrt_sgemm_plan_make(convrt_isa isa, size_t m, size_t n, size_t k, size_t threads,
                           convrt_sgemm_plan *plan);

/// The unit range [*begin, *end) of `part` out of `parts`, balanced by work.
void convrt_sgemm_plan_partition(const convrt_sgemm_plan *plan, size_t part, size_t parts,
                                 size_t *begin, size_t *end);

/// Computes the units [unit_begin, unit_end) of C = epilogue(A * B).
/// `packed_a` comes from convrt_sgemm_pack_a with plan->isa, m and k.
/// B is row-major [k x n] with row stride ldb; C [m x n] with row stride ldc.
/// Uses a per-thread packing buffer; returns 0, or -1 if it cannot be allocated.
int convrt_sgemm_compute(const convrt_sgemm_plan *plan, const float *packed_a, const float *b,
                         size_t ldb, float *c, size_t ldc, const convrt_sgemm_epilogue *epilogue,
                         size_t unit_begin, size_t unit_end);

/// convrt_sgemm_compute with B packed once by convrt_sgemm_pack_b (same isa, k and n):
/// no per-call packing and no per-thread buffer. Same bits as convrt_sgemm_compute.
int convrt_sgemm_compute_packed_b(const convrt_sgemm_plan *plan, const float *packed_a,
                                  const float *packed_b, float *c, size_t ldc,
                                  const convrt_sgemm_epilogue *epilogue, size_t unit_begin,
                                  size_t unit_end);

/// y[j] += sum over p < k of x[p] * b[p * ldb + j], for j < n: a one-row product (nn.Linear at
/// batch 1), B streamed once in order. Each y[j] is summed over p in order from its initial
/// value, so any split of the columns (threads) gives the same bits.
void convrt_sgemv(convrt_isa isa, size_t k, size_t n, const float *x, const float *b, size_t ldb, float *y);

/// Writes dst[c * ldd + r] = activation(src[r * lds + c] + bias[c] + residual[c * ldr + r])
/// for r < rows, c < cols: a pixels x channels product stored as NCHW with the epilogue of
/// convrt_sgemm_epilogue (alpha and accumulate are not used). Same bits as that epilogue
/// applied in the SGEMM store.
void convrt_transpose_store(const float *src, size_t lds, size_t rows, size_t cols, float *dst,
                            size_t ldd, const convrt_sgemm_epilogue *epilogue);

/// K block `kb` (rows [kb * kc, kb * kc + kc) of B, the last one shorter) of
/// convrt_sgemm_compute: `b_block` points at the block's first row, so B's other rows need
/// not exist (an implicit GEMM gathers one K block at a time). Run kb = 0, 1, ... in order
/// on the same units: later blocks add to C, the last applies the epilogue (an
/// `accumulate` epilogue adds C's prior contents on block 0).
int convrt_sgemm_compute_kblock(const convrt_sgemm_plan *plan, const float *packed_a,
                                const float *b_block, size_t ldb, float *c, size_t ldc,
                                const convrt_sgemm_epilogue *epilogue, size_t unit_begin,
                                size_t unit_end, size_t kb);

#ifdef __cplusplus
}
#endif

// Direct depthwise / narrow grouped convolution kernels.
#include "convrt_direct.h"
#include "spatial_kernels.h"

#endif
