// Driver of the channel-blocked depthwise kernel (dwconv_cb_template.h): applicability,
// the plan, weight packing and the per-item arguments.
#include "dwconv_internal.h"

#include <stdint.h>
#include <string.h>

static const dwconv_kernel_set *cb_set(convrt_isa isa) {
    const dwconv_kernel_set *s = dwconv_usable_set(isa);
    return s && s->cb_item ? s : NULL;
}

static size_t cb_span(size_t n, size_t stride, size_t k, size_t dilation) { return (n - 1) * stride + (k - 1) * dilation + 1; }

int convrt_dwcb_plan_make(convrt_isa isa, const convrt_dwconv_shape *s, convrt_dwcb_plan *plan) {
    const dwconv_kernel_set *set = cb_set(isa);
    if (!set || s->cin_g != 1 || s->cout_g != 1 || !s->batch || !s->groups) return -1;
    if (s->in[0] != 1 || s->out[0] != 1 || s->kernel[0] != 1 || s->pad[0] != 0) return -1;
    for (int i = 1; i < 3; i++)
        if (!s->in[i] || !s->out[i] || !s->kernel[i] || !s->stride[i] || !s->dilation[i]) return -1;
    memset(plan, 0, sizeof *plan);
    plan->isa = set->isa;
    plan->s = *s;
    plan->w = set->w;
    plan->blocks = (s->groups + set->w - 1) / set->w;
    plan->items = s->batch * plan->blocks;
    plan->hp = cb_span(s->out[1], s->stride[1], s->kernel[1], s->dilation[1]);
    plan->wp = cb_span(s->out[2], s->stride[2], s->kernel[2], s->dilation[2]);
    plan->band_floats = plan->hp * plan->wp * set->w;
    // Band, row buffer (whole 8-pixel blocks: the transposes read them), bias vector, and
    // slack to align the band to 64 bytes.
    plan->row_floats = (s->out[2] + 7) / 8 * 8 * set->w;
    plan->scratch_floats = plan->band_floats + plan->row_floats + set->w + 16;
    return 0;
}

size_t convrt_dwcb_width(convrt_isa isa) {
    const dwconv_kernel_set *set = cb_set(isa);
    return set ? set->w : 0;
}

void convrt_dwcb_pack_weights(size_t W, size_t channels, size_t taps, const float *weights, float *packed) {
    const size_t blocks = (channels + W - 1) / W;
    for (size_t b = 0; b < blocks; b++)
        for (size_t t = 0; t < taps; t++)
            for (size_t l = 0; l < W; l++) {
                const size_t c = b * W + l;
                packed[(b * taps + t) * W + l] = c < channels ? weights[c * taps + t] : 0.0f;
            }
}

static float *cb_band(const convrt_dwcb_plan *plan, float *scratch) {
    (void)plan;
    return (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
}

void convrt_dwcb_prepare(const convrt_dwcb_plan *plan, float *scratch) {
    // The padding stays zero: items only ever write the band's interior.
    memset(cb_band(plan, scratch), 0, plan->band_floats * sizeof(float));
}

int convrt_dwcb_run(const convrt_dwcb_plan *plan, const float *packed, const float *x, float *y,
                    const convrt_dwconv_epilogue *e, size_t item_begin, size_t item_end, float *scratch) {
    const dwconv_kernel_set *set = cb_set((convrt_isa)plan->isa);
    if (!set) return -1;
    const convrt_dwconv_shape *s = &plan->s;
    const size_t W = plan->w, taps = s->kernel[1] * s->kernel[2];
    dwcb_args a;
    a.band = cb_band(plan, scratch);
    a.row = a.band + plan->band_floats;
    float *bias = a.row + plan->row_floats;
    a.in_plane = s->in[1] * s->in[2], a.out_plane = s->out[1] * s->out[2];
    a.ih = s->in[1], a.iw = s->in[2], a.oh = s->out[1], a.ow = s->out[2];
    a.kh = s->kernel[1], a.kw = s->kernel[2], a.sh = s->stride[1], a.sw = s->stride[2];
    a.dh = s->dilation[1], a.dw = s->dilation[2], a.pad_t = s->pad[1], a.pad_l = s->pad[2];
    a.hp = plan->hp, a.wp = plan->wp;
    a.pre = e->pre, a.post = e->post;
    a.bias = bias;
    for (size_t item = item_begin; item < item_end; item++) {
        const size_t n = item / plan->blocks, b = item % plan->blocks, c0 = b * W;
        a.count = s->groups - c0 < W ? s->groups - c0 : W;
        for (size_t l = 0; l < W; l++) bias[l] = e->bias && l < a.count ? e->bias[c0 + l] : 0.0f;
        const size_t channel = n * s->groups + c0;
        a.x = x + channel * a.in_plane;
        a.y = y + channel * a.out_plane;
        a.residual = e->residual ? e->residual + channel * a.out_plane : NULL;
        a.w = packed + b * taps * W;
        set->cb_item(&a);
    }
    return 0;
}
