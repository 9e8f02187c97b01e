/// Direct convolution for depthwise and narrow grouped convolutions (few channels per
/// group), NCHW, vectorised along the output width: no im2col.
///
/// Every convolution is lifted to 3-D ([d, h, w]; 1-D and 2-D get leading unit dims).
/// The work is cut into items (image, group, band of output rows). An item copies the
/// input rows its band reads, for the group's input channels, into a zero-padded
/// scratch band; a strided conv stores each padded row split into `stride_w` phases
/// (columns p, p+s, p+2s, ... of phase p), so every tap of every stride is one
/// contiguous unaligned vector load. Then for each tile of up to CONVRT_DWCONV_MO
/// output channels of the group and each output row, a micro-kernel accumulates
/// [tile channels x row vectors] over (input channel, kd, kh, kw) with broadcast
/// weights, and stores through the epilogue.
///
/// Each output element is computed by the same instruction sequence whatever the
/// band split, so results are bit-identical for any item partition (thread count).
#ifndef CONVRT_DIRECT_H
#define CONVRT_DIRECT_H

#include "CKernels.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Output channels one micro-kernel tile computes (weights are packed in such tiles).
#define CONVRT_DWCONV_MO 4

/// Geometry lifted to 3-D, each array [d, h, w]; `pad` is the zero padding before
/// each dim (implicit zeros follow the input's end as far as the output needs).
typedef struct {
    size_t batch, groups;
    size_t cin_g, cout_g;  ///< input and output channels per group (depthwise: 1, multiplier)
    size_t in[3], out[3], kernel[3], stride[3], dilation[3], pad[3];
} convrt_dwconv_shape;

/// How one problem is cut up; make it per shape and thread count (cheap).
typedef struct {
    int isa;                ///< resolved convrt_isa
    convrt_dwconv_shape s;
    size_t w;               ///< vector width of the ISA, in floats
    size_t taps;            ///< kernel volume
    size_t row_len;         ///< floats per phase of a padded scratch row
    size_t row_stride;      ///< floats per padded scratch row: stride_w * row_len
    size_t band_d, band_h;  ///< output depth slices and rows per band (band_d > 1 only with band_h = out_h)
    size_t bands_d, bands_h;
    size_t span_d, span_h;  ///< padded input depth slices and rows a full band reads
    size_t channel_floats;  ///< scratch floats per input channel: span_d * span_h * row_stride
    size_t items;           ///< batch * groups * bands_d * bands_h
    size_t scratch_floats;  ///< per worker: tap offsets, then cin_g channels of band
} convrt_dwconv_plan;

/// One activation of the epilogue (kind: a convrt_activation; lo/hi for CLAMP, slope for LEAKY_RELU).
typedef struct {
    int kind;
    float lo, hi, slope;
} convrt_dwconv_activation;

/// y = post(pre(acc + bias[o]) + residual), each part optional.
typedef struct {
    const float *bias;      ///< one float per output channel, or NULL
    const float *residual;  ///< laid out like y, or NULL; must not overlap y
    convrt_dwconv_activation pre, post;
} convrt_dwconv_epilogue;

/// Kernel name with ISA, e.g. "dwconv_avx2"; "" when unsupported.
const char *convrt_dwconv_kernel_name(convrt_isa isa);

/// Fills `plan` for `shape` split for `threads` workers. Returns 0, or -1 when `isa`
/// is unsupported or a dimension is 0.
int convrt_dwconv_plan_make(convrt_isa isa, const convrt_dwconv_shape *shape, size_t threads,
                            convrt_dwconv_plan *plan);

/// Reorders weights [groups * cout_g][cin_g][taps] (PyTorch layout) into tiles of up to
/// CONVRT_DWCONV_MO output channels, [cin_g][taps][tile channels] each, in place of the
/// same count of floats (a tile starts where its first channel's weights started).
void convrt_dwconv_pack_weights(size_t groups, size_t cin_g, size_t cout_g, size_t taps,
                                const float *weights, float *packed);

/// Makes `scratch` (plan->scratch_floats floats, one per concurrent caller) ready for
/// convrt_dwconv_run: tap offsets, and a band whose padding is zero. Once per worker and plan.
void convrt_dwconv_prepare(const convrt_dwconv_plan *plan, float *scratch);

/// Computes items [item_begin, item_end) of y = epilogue(conv(x, w)).
/// x: [batch, groups * cin_g, in...]; y: [batch, groups * cout_g, out...];
/// `packed` from convrt_dwconv_pack_weights; `scratch` prepared by convrt_dwconv_prepare for
/// this plan, used by one caller at a time (its band rows are overwritten). Returns 0.
int convrt_dwconv_run(const convrt_dwconv_plan *plan, const float *packed, const float *x, float *y,
                      const convrt_dwconv_epilogue *epilogue, size_t item_begin, size_t item_end,
                      float *scratch);

/// What item `item` writes: for each of the group's cout_g channels (a plane of
/// out_d*out_h*out_w floats apart), `length` floats from `offset` (in y) on.
void convrt_dwconv_item_output(const convrt_dwconv_plan *plan, size_t item, size_t *offset,
                               size_t *length);

/// The channel-blocked depthwise kernel, for 1-D and 2-D depthwise convolutions with one
/// output channel per group (MobileNet's): vectors hold one pixel of W consecutive channels,
/// so small planes (14x14, 7x7) fill every lane. An item (image, block of W channels) copies
/// its input planes transposed into a zero-padded band [rows][columns][W], computes each
/// output row with 4 output pixels per step (each tap's weight vector loaded once), and
/// transposes the row back into NCHW through the epilogue. Results are bit-identical for
/// any item partition.
typedef struct {
    int isa;                ///< resolved convrt_isa
    convrt_dwconv_shape s;
    size_t w;               ///< channels per block (the vector width)
    size_t blocks;          ///< ceil(channels / w)
    size_t items;           ///< batch * blocks
    size_t hp, wp;          ///< padded input rows and columns the outputs read
    size_t band_floats;     ///< hp * wp * w
    size_t row_floats;      ///< the row buffer: ceil(out_w / 8) * 8 * w
    size_t scratch_floats;  ///< per worker
} convrt_dwcb_plan;

/// Fills `plan`; returns -1 when the shape is not 1-D/2-D depthwise with one output channel
/// per group, or `isa` has no channel-blocked kernel (then use convrt_dwconv_*).
int convrt_dwcb_plan_make(convrt_isa isa, const convrt_dwconv_shape *shape, convrt_dwcb_plan *plan);
/// Channels per block (the vector width) of `isa`'s channel-blocked kernel; 0 when it has none.
size_t convrt_dwcb_width(convrt_isa isa);
/// Weights [channels][taps] (PyTorch layout) into [ceil(channels / w)][taps][w], zero-filled
/// (w from convrt_dwcb_width).
void convrt_dwcb_pack_weights(size_t w, size_t channels, size_t taps, const float *weights, float *packed);
/// Zeroes the band's padding in `scratch` (plan->scratch_floats floats); once per worker and plan.
void convrt_dwcb_prepare(const convrt_dwcb_plan *plan, float *scratch);
/// Computes items [item_begin, item_end) of y = epilogue(conv(x, w)) with one caller's scratch.
int convrt_dwcb_run(const convrt_dwcb_plan *plan, const float *packed, const float *x, float *y,
                    const convrt_dwconv_epilogue *epilogue, size_t item_begin, size_t item_end,
                    float *scratch);

/// The flat-plane depthwise kernel, for stride-1 "same" 1-D/2-D depthwise convolutions with
/// one output channel per group (MobileNet's 3x3 s1 layers on 7x7..28x28 planes): vectors run
/// along the flattened plane (pixel h * W + w), where every tap is one constant offset, so
/// no row end falls inside a vector and nothing is transposed. An item (image, run of whole
/// channels) copies each input plane between zero margins (the rows above and below) and
/// clears the lanes of a tap whose column wraps into the neighbouring row with a
/// per-column mask. Results are bit-identical for any item partition.
typedef struct {
    int isa;                   ///< resolved convrt_isa
    convrt_dwconv_shape s;
    size_t w;                  ///< vector width in floats
    size_t plane;              ///< pixels per channel (in_h * in_w)
    size_t margin_before, margin_after;  ///< zero floats around the plane's copy
    size_t channels_per_item, blocks;    ///< blocks: ceil(channels / channels_per_item)
    size_t items;              ///< batch * blocks
    size_t copy_floats;        ///< the margined copy, rounded up to 16 floats
    size_t scratch_floats;     ///< per worker: the copy, the column masks, alignment slack
} convrt_dwflat_plan;

/// Fills `plan`; returns -1 when the shape is not a stride-1 "same" 1-D/2-D depthwise conv with
/// one output channel per group, the plane is narrower than a vector, the kernel has more
/// than 64 taps, or `isa` has no flat-plane kernel.
int convrt_dwflat_plan_make(convrt_isa isa, const convrt_dwconv_shape *shape, convrt_dwflat_plan *plan);
/// Zeroes the margins and writes the column masks in `scratch` (plan->scratch_floats floats);
/// once per worker and plan.
void convrt_dwflat_prepare(const convrt_dwflat_plan *plan, float *scratch);
/// Computes items [item_begin, item_end) of y = epilogue(conv(x, w)) with one caller's scratch;
/// `weights` in PyTorch's layout [channels][kh][kw]. The residual must not overlap y.
int convrt_dwflat_run(const convrt_dwflat_plan *plan, const float *weights, const float *x, float *y,
                      const convrt_dwconv_epilogue *epilogue, size_t item_begin, size_t item_end,
                      float *scratch);

#ifdef __cplusplus
}
#endif

#endif
