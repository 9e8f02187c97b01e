// Internal interface between the direct-conv driver and its per-ISA kernel files.
#ifndef CONVRT_DWCONV_INTERNAL_H
#define CONVRT_DWCONV_INTERNAL_H

#include "convrt_direct.h"

#include <stddef.h>
#include <stdint.h>

/// Largest vectors-per-row of any kernel (sizes the accumulator arrays).
#define DWCONV_NV_MAX 8

/// One tile of output channels over one band of output rows.
typedef struct {
    const float *x;          // scratch band, input channel 0, at the band's first output row
    size_t ch_stride;        // scratch floats between input channels
    const ptrdiff_t *off;    // scratch offset of each tap, relative to an output row's origin
    size_t taps, cin_g;
    const float *w;          // packed weights of the tile: [cin_g][taps][mo]
    float *y;                // output at the tile's first channel, the band's first row
    const float *residual;   // same position in the residual, or NULL
    size_t out_plane;        // floats between output channels
    size_t rows_d, rows_h;   // output rows of the band
    size_t in_step_d, in_step_h;    // scratch floats between consecutive output rows
    size_t out_step_d, out_step_h;  // output floats between consecutive output rows
    size_t ow;               // output row length
    size_t row_len;          // floats per phase of a scratch row
    size_t kh_step;          // scratch floats between kernel rows: dilation_h * row_stride
    const float *bias;       // bias of the tile's first channel, or NULL
    convrt_dwconv_activation pre, post;
} dwconv_args;

/// Computes one tile of `mo` output channels (fixed per function) over a band.
typedef void (*dwconv_band_fn)(const dwconv_args *a);

/// Square depthwise kernels with their geometry compiled in (2-D, kernel K x K, stride_w S,
/// dilation_w 1; any stride_h / dilation_h), for K in DWCONV_SQUARE_K and S in 1..2.
#define DWCONV_SQUARE_KS 3  // K = 3, 5, 7
#define DWCONV_SQUARE_K(i) (3 + 2 * (i))
/// Computes each of the `mo` channels of a tile (cin_g == 1) over a band.
typedef void (*dwconv_square_fn)(const dwconv_args *a, size_t mo);

/// Where the input lies in phase p of a padded scratch row: indices [lo, lo + count) hold
/// input column i*stride + p - pad; the rest is padding (zeros).
typedef struct {
    size_t lo, count;
} dwconv_phase_span;

/// Copies `rows` input rows (src_stride floats apart) into padded scratch rows (dst_stride
/// apart), phase by phase (stride phases of row_len floats); touches only the input spans.
typedef void (*dwconv_fill_fn)(float *dst, size_t dst_stride, const float *src, size_t src_stride, size_t rows,
                               const dwconv_phase_span *phases, size_t stride, size_t pad, size_t row_len);

/// One item of the channel-blocked depthwise kernel: `count` (<= W) channels of one image.
typedef struct {
    const float *x;          // input at the block's first channel
    float *y;                // output at the block's first channel
    const float *residual;   // same position in the residual, or NULL
    const float *w;          // packed weights of the block: [kh][kw][W]
    const float *bias;       // W floats (zeros past `count`, or all zeros without bias)
    float *band;             // [hp][wp][W], zero outside the interior the item fills
    float *row;              // [ow][W]
    size_t count;            // channels in the block
    size_t in_plane, out_plane;
    size_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pad_t, pad_l;
    size_t hp, wp;           // padded input rows/columns the outputs read
    convrt_dwconv_activation pre, post;
} dwcb_args;

typedef void (*dwcb_item_fn)(const dwcb_args *a);

/// Most taps of the flat-plane kernel (a 7x7 kernel has 49).
#define DWFLAT_TAPS_MAX 64

/// One item of the flat-plane depthwise kernel: `count` consecutive channels of one image.
typedef struct {
    const float *x;          // input at the item's first channel
    float *y;                // output at the item's first channel
    const float *residual;   // same position in the residual, or NULL
    const float *w;          // weights of the item's first channel: [channel][taps] (PyTorch layout)
    const float *bias;       // bias of the item's first channel, or NULL
    float *plane;            // the copy of one input plane, with zero margins before and after
    size_t count, plane_floats, taps;
    size_t row_stride;       // floats per input row (the plane's width)
    int k3;                  // a 3x3 kernel, dilation 1, padding 1 all round: the unrolled step
    ptrdiff_t off[DWFLAT_TAPS_MAX];         // each tap's offset from an output pixel, in the plane
    const uint32_t *mask[DWFLAT_TAPS_MAX];  // each tap's column mask over the plane, or NULL
    convrt_dwconv_activation pre, post;
} dwflat_args;

typedef void (*dwflat_item_fn)(const dwflat_args *a);

/// One ISA's kernels.
typedef struct {
    const char *name;   // "dwconv_avx2"
    int isa;
    size_t w;           // vector width in floats
    dwconv_band_fn band[CONVRT_DWCONV_MO];  // [mo - 1]
    dwconv_square_fn square[DWCONV_SQUARE_KS][2];  // [(K - 3) / 2][S - 1]
    dwconv_fill_fn fill_rows;
    dwcb_item_fn cb_item;  // NULL: no channel-blocked kernel on this ISA
    dwflat_item_fn flat_item;  // NULL: no flat-plane kernel on this ISA
} dwconv_kernel_set;

/// The kernel set of a supported path (AUTO resolved), else NULL.
const dwconv_kernel_set *dwconv_usable_set(convrt_isa isa);

/// Each returns NULL when its ISA is not compiled for this architecture.
const dwconv_kernel_set *dwconv_kernels_portable(void);
const dwconv_kernel_set *dwconv_kernels_avx2(void);
const dwconv_kernel_set *dwconv_kernels_avx512(void);
const dwconv_kernel_set *dwconv_kernels_neon(void);

#endif
