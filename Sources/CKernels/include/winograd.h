/// Winograd F(4x4, 3x3) convolution blocks for 3x3, stride-1, dilation-1 2-D convolutions
/// (Lavin & Gray 2015), on the packed SGEMM.
///
/// Per block of output tiles (4x4 pixels each, numbered row-major image by image, so a block
/// of a small image's tiles may take in the next images'):
///   V[Cin][36][tiles]  = B^T d B      (input transform, 6x6 input patch per tile and channel)
///   M[Cout][36][tiles] = U[p] * V[p]  (36 SGEMMs per group; U = G g G^T packed once at load)
///   y                  = A^T m A      (output transform) + bias, activation, residual, activation
/// (channel-major, so each transform streams one region per channel). Images are NCHW; the
/// weights U come from the caller, each position's [Cout/g x Cin/g] matrix packed with
/// convrt_sgemm_pack_a for `gemm_isa`. x86-64 runs AVX2 transforms (also on AVX-512 CPUs),
/// other CPUs a portable C path with the same bits.
///
/// Each tile's result depends only on its own inputs (the transforms work lane by lane and
/// the SGEMM computes each column alone, K never split), so any split of tiles into blocks
/// and blocks over threads gives the same bits.
#ifndef CONVRT_WINOGRAD_H
#define CONVRT_WINOGRAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One activation of the output epilogue (a convrt_activation with its parameters).
typedef struct {
    int kind;           ///< convrt_activation: NONE, RELU, CLAMP, LEAKY_RELU
    float lo, hi;       ///< CLAMP bounds
    float slope;        ///< LEAKY_RELU negative slope
} convrt_winograd_activation;

/// Everything a block needs, fixed when the plan is made.
typedef struct {
    size_t batch;
    size_t in_channels, out_channels, groups;
    size_t in_h, in_w;          ///< input image
    size_t out_h, out_w;        ///< output image
    long pad_top, pad_left;     ///< zeros before the first row / column (>= 0)
    size_t tiles_x, tiles;      ///< tiles per output row; per image (tiles_y * tiles_x)
    size_t max_block;           ///< most tiles in one block (sizes the workspace)
    const float *const *u;      ///< [groups * 36] packed U matrices, index g * 36 + position
    int gemm_isa;               ///< convrt_isa the U matrices are packed for
    int transform_isa;          ///< convrt_isa of the transforms: AUTO, PORTABLE or AVX2
    const float *bias;          ///< out_channels floats, or NULL
    convrt_winograd_activation pre;   ///< applied to acc + bias
    convrt_winograd_activation post;  ///< applied after the residual
} convrt_winograd_f43;

/// Floats of workspace one thread needs for blocks of up to w->max_block tiles.
size_t convrt_winograd_f43_workspace(const convrt_winograd_f43 *w);

/// Computes output tiles [tile_begin, tile_begin + tile_count) of the batch (tile t lies in
/// image t / tiles). x: [batch][Cin][in_h][in_w]; residual: [batch][Cout][out_h][out_w] or NULL
/// (must not overlap y); y: [batch][Cout][out_h][out_w]; workspace:
/// convrt_winograd_f43_workspace floats (64-byte aligned runs fastest).
/// Returns 0, or -1 when an ISA is unsupported or the SGEMM's buffer cannot be allocated.
int convrt_winograd_f43_block(const convrt_winograd_f43 *w, const float *x, const float *residual,
                              float *y, size_t tile_begin, size_t tile_count, float *workspace);

/// The transform path AUTO resolves to on this CPU (AVX2 when it runs, else PORTABLE).
int convrt_winograd_transform_isa(void);

#ifdef __cplusplus
}
#endif

#endif
