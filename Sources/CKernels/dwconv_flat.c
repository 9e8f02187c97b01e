// Driver of the flat-plane depthwise kernel (dwconv_flat_template.h): applicability, the
// plan, the scratch (the plane's zero-margined copy and the column masks) and the items.
#include "dwconv_internal.h"

#include <stdint.h>
#include <string.h>

static const dwconv_kernel_set *flat_set(convrt_isa isa) {
    const dwconv_kernel_set *s = dwconv_usable_set(isa);
    return s && s->flat_item ? s : NULL;
}

static size_t align16(size_t n) { return (n + 15) / 16 * 16; }

// Tap (kh, kw)'s row and column offsets from an output pixel.
static ptrdiff_t row_offset(const convrt_dwconv_shape *s, size_t kh) {
    return (ptrdiff_t)(kh * s->dilation[1]) - (ptrdiff_t)s->pad[1];
}
static ptrdiff_t column_offset(const convrt_dwconv_shape *s, size_t kw) {
    return (ptrdiff_t)(kw * s->dilation[2]) - (ptrdiff_t)s->pad[2];
}

int convrt_dwflat_plan_make(convrt_isa isa, const convrt_dwconv_shape *s, convrt_dwflat_plan *plan) {
    const dwconv_kernel_set *set = flat_set(isa);
    if (!set || s->cin_g != 1 || s->cout_g != 1 || !s->batch || !s->groups) return -1;
    if (s->in[0] != 1 || s->out[0] != 1 || s->kernel[0] != 1 || s->pad[0] != 0) return -1;
    for (int i = 1; i < 3; i++)
        if (s->stride[i] != 1 || s->out[i] != s->in[i] || !s->kernel[i] || !s->dilation[i]) return -1;
    const size_t taps = s->kernel[1] * s->kernel[2], plane = s->in[1] * s->in[2];
    if (taps > DWFLAT_TAPS_MAX || plane < set->w) return -1;
    // "Same" output: the kernel's reach before and after each pixel is the padding.
    const size_t reach_h = (s->kernel[1] - 1) * s->dilation[1], reach_w = (s->kernel[2] - 1) * s->dilation[2];
    if (s->pad[1] > reach_h || s->pad[2] > reach_w) return -1;
    memset(plan, 0, sizeof *plan);
    plan->isa = set->isa;
    plan->s = *s;
    plan->w = set->w;
    plan->plane = plane;
    plan->margin_before = align16(s->pad[1] * s->in[2] + s->pad[2]);
    plan->margin_after = (reach_h - s->pad[1]) * s->in[2] + (reach_w - s->pad[2]);
    // Items of whole channels, about 2K pixels each: enough work to pay for claiming one.
    plan->channels_per_item = plane >= 2048 ? 1 : 2048 / plane;
    if (plan->channels_per_item > s->groups) plan->channels_per_item = s->groups;
    plan->blocks = (s->groups + plan->channels_per_item - 1) / plan->channels_per_item;
    plan->items = s->batch * plan->blocks;
    // The margined plane, then one column mask [plane] per kernel column, 64-byte aligned.
    plan->copy_floats = align16(plan->margin_before + plane + plan->margin_after);
    plan->scratch_floats = plan->copy_floats + s->kernel[2] * align16(plane) + 16;
    return 0;
}

static float *flat_copy(float *scratch) { return (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63); }

static uint32_t *flat_mask(const convrt_dwflat_plan *plan, float *scratch, size_t kw) {
    return (uint32_t *)(flat_copy(scratch) + plan->copy_floats + kw * align16(plan->plane));
}

void convrt_dwflat_prepare(const convrt_dwflat_plan *plan, float *scratch) {
    // The margins stay zero: items only ever write the plane between them.
    memset(flat_copy(scratch), 0, plan->copy_floats * sizeof(float));
    const convrt_dwconv_shape *s = &plan->s;
    const size_t width = s->in[2];
    for (size_t kw = 0; kw < s->kernel[2]; kw++) {
        uint32_t *m = flat_mask(plan, scratch, kw);
        const ptrdiff_t c = column_offset(s, kw);
        for (size_t i = 0; i < plan->plane; i++) {
            const ptrdiff_t col = (ptrdiff_t)(i % width) + c;
            m[i] = col >= 0 && col < (ptrdiff_t)width ? UINT32_MAX : 0;
        }
    }
}

int convrt_dwflat_run(const convrt_dwflat_plan *plan, const float *weights, const float *x, float *y,
                      const convrt_dwconv_epilogue *e, size_t item_begin, size_t item_end, float *scratch) {
    const dwconv_kernel_set *set = flat_set((convrt_isa)plan->isa);
    if (!set) return -1;
    const convrt_dwconv_shape *s = &plan->s;
    dwflat_args a;
    a.plane = flat_copy(scratch) + plan->margin_before;
    a.plane_floats = plan->plane;
    const size_t kernel_h = s->kernel[1], kernel_w = s->kernel[2];
    a.taps = kernel_h * kernel_w;
    a.row_stride = s->in[2];
    a.k3 = kernel_h == 3 && kernel_w == 3 && s->dilation[1] == 1 && s->dilation[2] == 1 && s->pad[1] == 1 &&
           s->pad[2] == 1;
    for (size_t kh = 0; kh < kernel_h; kh++)
        for (size_t kw = 0; kw < kernel_w; kw++) {
            const size_t t = kh * kernel_w + kw;
            a.off[t] = row_offset(s, kh) * (ptrdiff_t)s->in[2] + column_offset(s, kw);
            // A column offset of 0 never wraps: no mask.
            a.mask[t] = column_offset(s, kw) != 0 ? flat_mask(plan, scratch, kw) : NULL;
        }
    a.pre = e->pre, a.post = e->post;
    for (size_t item = item_begin; item < item_end; item++) {
        const size_t n = item / plan->blocks, c0 = item % plan->blocks * plan->channels_per_item;
        a.count = s->groups - c0 < plan->channels_per_item ? s->groups - c0 : plan->channels_per_item;
        const size_t channel = n * s->groups + c0;
        a.x = x + channel * plan->plane;
        a.y = y + channel * plan->plane;
        a.residual = e->residual ? e->residual + channel * plan->plane : NULL;
        a.w = weights + c0 * a.taps;
        a.bias = e->bias ? e->bias + c0 : NULL;
        set->flat_item(&a);
    }
    return 0;
}
