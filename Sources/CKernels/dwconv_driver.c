// Direct-conv driver: ISA choice, the band split, weight packing, and per item the
// zero-padded (and, for stride_w > 1, phase-split) copy of the input rows a band
// reads, followed by the micro-kernel over each tile of output channels.
//
// Scratch band of one input channel: [span_d][span_h][stride_w][row_len]; padded input
// column q of a row sits at phase q % stride_w, index q / stride_w, so output column j
// reads tap kw at phase (kw*dil_w) % s, index j + (kw*dil_w) / s: contiguous in j.
#include "dwconv_internal.h"

#include <stdint.h>
#include <string.h>

static const dwconv_kernel_set *kernel_set(convrt_isa isa) {
    switch (isa) {
    case CONVRT_ISA_PORTABLE: return dwconv_kernels_portable();
    case CONVRT_ISA_AVX2: return dwconv_kernels_avx2();
    case CONVRT_ISA_AVX512: return dwconv_kernels_avx512();
    case CONVRT_ISA_NEON: return dwconv_kernels_neon();
    default: return NULL;
    }
}

/// The kernel set of a supported path (AUTO resolved), else NULL.
const dwconv_kernel_set *dwconv_usable_set(convrt_isa isa) {
    if (isa == CONVRT_ISA_AUTO) isa = convrt_isa_best();
    return convrt_isa_supported(isa) ? kernel_set(isa) : NULL;
}

const char *convrt_dwconv_kernel_name(convrt_isa isa) {
    const dwconv_kernel_set *s = dwconv_usable_set(isa);
    return s ? s->name : "";
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/// Input extent `n` outputs read along a dim: (n-1)*stride + (k-1)*dilation + 1.
static size_t span(size_t n, size_t stride, size_t k, size_t dilation) {
    return (n - 1) * stride + (k - 1) * dilation + 1;
}

/// Floats before the band in a worker's scratch: tap offsets, phase spans, alignment slack.
static size_t offsets_floats(size_t taps, size_t stride) { return 2 * taps + 4 * stride + 2 + 16; }

/// Scratch floats per input channel of a band of bd x bh output rows.
static size_t channel_floats(const convrt_dwconv_plan *p, size_t bd, size_t bh) {
    const convrt_dwconv_shape *s = &p->s;
    return span(bd, s->stride[0], s->kernel[0], s->dilation[0]) *
           span(bh, s->stride[1], s->kernel[1], s->dilation[1]) * p->row_stride;
}

int convrt_dwconv_plan_make(convrt_isa isa, const convrt_dwconv_shape *shape, size_t threads,
                            convrt_dwconv_plan *plan) {
    const dwconv_kernel_set *set = dwconv_usable_set(isa);
    if (!set) return -1;
    const convrt_dwconv_shape *s = shape;
    if (!s->batch || !s->groups || !s->cin_g || !s->cout_g) return -1;
    for (int i = 0; i < 3; i++)
        if (!s->out[i] || !s->kernel[i] || !s->stride[i] || !s->dilation[i]) return -1;
    memset(plan, 0, sizeof *plan);
    plan->isa = set->isa;
    plan->s = *s;
    plan->w = set->w;
    plan->taps = s->kernel[0] * s->kernel[1] * s->kernel[2];
    // Whole vectors of output columns, plus the furthest tap's shift.
    plan->row_len = ceil_div(s->out[2], set->w) * set->w + (s->kernel[2] - 1) * s->dilation[2] / s->stride[2];
    plan->row_stride = s->stride[2] * plan->row_len;
    // Bands: whole planes unless more items are needed to share among threads (8 per
    // thread: claimed dynamically, they even out threads that start late) or a
    // band would not fit in about 256 KiB. Depth is split first; rows only once
    // bands are single depth slices (so a band's output is contiguous per channel).
    const size_t target = threads > 1 ? 8 * threads : 1, cap = (size_t)1 << 16;
    const size_t base = s->batch * s->groups;
    size_t bd = s->out[0], bh = s->out[1];
    for (;;) {
        const size_t bands = ceil_div(s->out[0], bd) * ceil_div(s->out[1], bh);
        if (base * bands >= target && s->cin_g * channel_floats(plan, bd, bh) <= cap) break;
        if (bd > 1) {
            bd = ceil_div(bd, 2);
        } else if (bh > 1) {
            bh = ceil_div(bh, 2);
        } else {
            break;
        }
    }
    plan->band_d = bd, plan->band_h = bh;
    plan->bands_d = ceil_div(s->out[0], bd), plan->bands_h = ceil_div(s->out[1], bh);
    plan->span_d = span(bd, s->stride[0], s->kernel[0], s->dilation[0]);
    plan->span_h = span(bh, s->stride[1], s->kernel[1], s->dilation[1]);
    plan->channel_floats = plan->span_d * plan->span_h * plan->row_stride;
    plan->items = base * plan->bands_d * plan->bands_h;
    plan->scratch_floats = offsets_floats(plan->taps, s->stride[2]) + s->cin_g * plan->channel_floats;
    return 0;
}

void convrt_dwconv_pack_weights(size_t groups, size_t cin_g, size_t cout_g, size_t taps,
                                const float *weights, float *packed) {
    const size_t per_channel = cin_g * taps;
    for (size_t g = 0; g < groups; g++) {
        for (size_t o0 = 0; o0 < cout_g; o0 += CONVRT_DWCONV_MO) {
            const size_t mo = min_size(CONVRT_DWCONV_MO, cout_g - o0);
            const float *src = weights + (g * cout_g + o0) * per_channel;
            float *dst = packed + (g * cout_g + o0) * per_channel;
            // [mo][cin_g * taps] -> [cin_g * taps][mo]
            for (size_t k = 0; k < per_channel; k++)
                for (size_t r = 0; r < mo; r++) dst[k * mo + r] = src[r * per_channel + k];
        }
    }
}

/// Where one item's band lies: image, group, first output depth slice and row, counts.
typedef struct {
    size_t n, g, od0, ods, oh0, ohs;
} band_pos;

static band_pos band_at(const convrt_dwconv_plan *p, size_t item) {
    band_pos b;
    const size_t bh = item % p->bands_h, rest = item / p->bands_h;
    const size_t bd = rest % p->bands_d, image_group = rest / p->bands_d;
    b.n = image_group / p->s.groups, b.g = image_group % p->s.groups;
    b.od0 = bd * p->band_d, b.ods = min_size(p->band_d, p->s.out[0] - b.od0);
    b.oh0 = bh * p->band_h, b.ohs = min_size(p->band_h, p->s.out[1] - b.oh0);
    return b;
}

void convrt_dwconv_item_output(const convrt_dwconv_plan *plan, size_t item, size_t *offset,
                               size_t *length) {
    const convrt_dwconv_shape *s = &plan->s;
    const band_pos b = band_at(plan, item);
    const size_t plane = s->out[0] * s->out[1] * s->out[2];
    *offset = (b.n * s->groups + b.g) * s->cout_g * plane + (b.od0 * s->out[1] + b.oh0) * s->out[2];
    *length = ((b.ods - 1) * s->out[1] + b.ohs) * s->out[2];
}

static dwconv_phase_span phase_at(const convrt_dwconv_plan *p, size_t phase) {
    const size_t len = p->row_len, stride = p->s.stride[2], iw = p->s.in[2], pad = p->s.pad[2];
    // pad <= i*s + phase < pad + iw
    const size_t lo = min_size(len, pad > phase ? ceil_div(pad - phase, stride) : 0);
    const size_t hi = pad + iw > phase ? min_size(len, ceil_div(pad + iw - phase, stride)) : 0;
    return (dwconv_phase_span){lo, hi > lo ? hi - lo : 0};
}

/// Copies the rows band `b` reads, for the group's input channels, into `band`, whose
/// padding columns are already zero (they are the same for every row).
static void fill_band(const convrt_dwconv_plan *p, const dwconv_kernel_set *set, const dwconv_phase_span *phases,
                      const band_pos *b, const float *x, float *band) {
    const convrt_dwconv_shape *s = &p->s;
    const size_t in_plane = s->in[0] * s->in[1] * s->in[2], rs = p->row_stride;
    const size_t rows_d = span(b->ods, s->stride[0], s->kernel[0], s->dilation[0]);
    const size_t rows_h = span(b->ohs, s->stride[1], s->kernel[1], s->dilation[1]);
    const size_t d0 = b->od0 * s->stride[0], h0 = b->oh0 * s->stride[1];  // padded coordinates
    // Scratch rows [h_lo, h_hi) of a slice hold input rows; the others are padding.
    const size_t h_lo = min_size(rows_h, s->pad[1] > h0 ? s->pad[1] - h0 : 0);
    const size_t h_hi = s->pad[1] + s->in[1] > h0 ? min_size(rows_h, s->pad[1] + s->in[1] - h0) : 0;
    for (size_t c = 0; c < s->cin_g; c++) {
        const float *plane = x + ((b->n * s->groups + b->g) * s->cin_g + c) * in_plane;
        for (size_t dp = 0; dp < rows_d; dp++) {
            const size_t d = d0 + dp;
            float *dst = band + c * p->channel_floats + dp * p->span_h * rs;
            if (d < s->pad[0] || d - s->pad[0] >= s->in[0] || h_hi <= h_lo) {
                memset(dst, 0, rows_h * rs * sizeof(float));
                continue;
            }
            memset(dst, 0, h_lo * rs * sizeof(float));
            const float *src = plane + ((d - s->pad[0]) * s->in[1] + (h0 + h_lo - s->pad[1])) * s->in[2];
            set->fill_rows(dst + h_lo * rs, rs, src, s->in[2], h_hi - h_lo, phases, s->stride[2], s->pad[2],
                           p->row_len);
            memset(dst + h_hi * rs, 0, (rows_h - h_hi) * rs * sizeof(float));
        }
    }
}

/// Scratch offset of each tap (kd, kh, kw) relative to an output row's origin.
static void tap_offsets(const convrt_dwconv_plan *p, ptrdiff_t *off) {
    const convrt_dwconv_shape *s = &p->s;
    size_t t = 0;
    for (size_t kd = 0; kd < s->kernel[0]; kd++)
        for (size_t kh = 0; kh < s->kernel[1]; kh++)
            for (size_t kw = 0; kw < s->kernel[2]; kw++) {
                const size_t shift = kw * s->dilation[2];
                off[t++] = (ptrdiff_t)((kd * s->dilation[0] * p->span_h + kh * s->dilation[1]) * p->row_stride +
                                       (shift % s->stride[2]) * p->row_len + shift / s->stride[2]);
            }
}

/// The compiled-geometry depthwise kernel for this shape, or NULL.
static dwconv_square_fn square_kernel(const dwconv_kernel_set *set, const convrt_dwconv_shape *s) {
    const size_t k = s->kernel[2];
    if (s->cin_g != 1 || s->kernel[0] != 1 || s->kernel[1] != k || s->dilation[2] != 1) return NULL;
    if (k < 3 || k > DWCONV_SQUARE_K(DWCONV_SQUARE_KS - 1) || k % 2 == 0 || s->stride[2] > 2) return NULL;
    return set->square[(k - 3) / 2][s->stride[2] - 1];
}

static void *align_up(void *p, size_t alignment) {
    return (void *)(((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1));
}

/// A worker's scratch: tap offsets, phase spans, then the band (64-byte aligned).
typedef struct {
    ptrdiff_t *off;
    dwconv_phase_span *phases;
    float *band;
} scratch_parts;

static scratch_parts scratch_at(const convrt_dwconv_plan *plan, float *scratch) {
    scratch_parts p;
    p.off = align_up(scratch, sizeof(ptrdiff_t));
    p.phases = (dwconv_phase_span *)(p.off + plan->taps);
    p.band = align_up(p.phases + plan->s.stride[2], 64);
    return p;
}

void convrt_dwconv_prepare(const convrt_dwconv_plan *plan, float *scratch) {
    const scratch_parts p = scratch_at(plan, scratch);
    tap_offsets(plan, p.off);
    for (size_t phase = 0; phase < plan->s.stride[2]; phase++) p.phases[phase] = phase_at(plan, phase);
    // Padding columns stay zero from here on: rows only ever write their input span.
    memset(p.band, 0, plan->s.cin_g * plan->channel_floats * sizeof(float));
}

int convrt_dwconv_run(const convrt_dwconv_plan *plan, const float *packed, const float *x, float *y,
                      const convrt_dwconv_epilogue *e, size_t item_begin, size_t item_end,
                      float *scratch) {
    const dwconv_kernel_set *set = dwconv_usable_set((convrt_isa)plan->isa);
    if (!set) return -1;
    const convrt_dwconv_shape *s = &plan->s;
    const scratch_parts parts = scratch_at(plan, scratch);
    const ptrdiff_t *off = parts.off;
    const dwconv_phase_span *phases = parts.phases;
    float *band = parts.band;
    const size_t out_plane = s->out[0] * s->out[1] * s->out[2];
    const size_t cout = s->groups * s->cout_g;
    dwconv_args a;
    a.ch_stride = plan->channel_floats;
    a.off = off;
    a.taps = plan->taps, a.cin_g = s->cin_g;
    a.out_plane = out_plane;
    a.in_step_d = s->stride[0] * plan->span_h * plan->row_stride;
    a.in_step_h = s->stride[1] * plan->row_stride;
    a.out_step_d = s->out[1] * s->out[2], a.out_step_h = s->out[2];
    a.ow = s->out[2];
    a.row_len = plan->row_len;
    a.kh_step = s->dilation[1] * plan->row_stride;
    const dwconv_square_fn square = square_kernel(set, s);
    a.pre = e->pre, a.post = e->post;
    a.x = band;
    for (size_t item = item_begin; item < item_end; item++) {
        const band_pos b = band_at(plan, item);
        fill_band(plan, set, phases, &b, x, band);
        a.rows_d = b.ods, a.rows_h = b.ohs;
        for (size_t o0 = 0; o0 < s->cout_g; o0 += CONVRT_DWCONV_MO) {
            const size_t mo = min_size(CONVRT_DWCONV_MO, s->cout_g - o0);
            const size_t o = b.g * s->cout_g + o0;  // the tile's first output channel
            const size_t at = (b.n * cout + o) * out_plane + (b.od0 * s->out[1] + b.oh0) * s->out[2];
            a.w = packed + o * s->cin_g * plan->taps;
            a.y = y + at;
            a.residual = e->residual ? e->residual + at : NULL;
            a.bias = e->bias ? e->bias + o : NULL;
            if (square) {
                square(&a, mo);
            } else {
                set->band[mo - 1](&a);
            }
        }
    }
    return 0;
}
