// Winograd F(4x4, 3x3) block driver: input transform, 36 SGEMMs per group, output transform.
// See winograd.h for the layouts.
#include "winograd_internal.h"

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

int convrt_winograd_transform_isa(void) {
    return wino_transforms_avx2() && convrt_isa_supported(CONVRT_ISA_AVX2) ? CONVRT_ISA_AVX2
                                                                          : CONVRT_ISA_PORTABLE;
}

static const wino_transforms *transforms(int isa) {
    if (isa == CONVRT_ISA_AUTO) isa = convrt_winograd_transform_isa();
    switch (isa) {
    case CONVRT_ISA_PORTABLE: return wino_transforms_portable();
    case CONVRT_ISA_AVX2:
    case CONVRT_ISA_AVX512:  // AVX-512 CPUs run the AVX2 transforms (a small share of the time)
        return convrt_isa_supported(CONVRT_ISA_AVX2) ? wino_transforms_avx2() : NULL;
    default: return NULL;
    }
}

// V and M rows hold a block's tiles plus a whole group of room for the last group's spill.
static size_t row_stride(const convrt_winograd_f43 *w) { return w->max_block + WINO_LANES; }

size_t convrt_winograd_f43_workspace(const convrt_winograd_f43 *w) {
    return 36 * (w->in_channels + w->out_channels) * row_stride(w);
}

// Runs BODY for each run of tiles of one tile row in the block: image, ty, tx0, n tiles, and
// the block column of the first.
#define FOR_EACH_SEGMENT(w, begin, count, BODY)                                              \
    for (size_t t_ = (begin), end_ = (begin) + (count); t_ < end_;) {                        \
        const size_t image = t_ / (w)->tiles, within_ = t_ % (w)->tiles;                     \
        const size_t ty = within_ / (w)->tiles_x, tx0 = within_ % (w)->tiles_x;              \
        const size_t n = min_size((w)->tiles_x - tx0, end_ - t_), column = t_ - (begin);     \
        BODY;                                                                                \
        t_ += n;                                                                             \
    }

int convrt_winograd_f43_block(const convrt_winograd_f43 *w, const float *x, const float *residual,
                              float *y, size_t tile_begin, size_t tile_count, float *workspace) {
    const wino_transforms *tf = transforms(w->transform_isa);
    if (!tf) return -1;
    const size_t all = w->batch * w->tiles;
    tile_count = min_size(tile_count, min_size(w->max_block, all - min_size(all, tile_begin)));
    if (tile_count == 0) return 0;
    const size_t in_image = w->in_channels * w->in_h * w->in_w, out_image = w->out_channels * w->out_h * w->out_w;
    // V [Cin][36][ld] and M [Cout][36][ld]: each channel's 36 positions side by side, so the
    // transforms stream one region per channel (36 separate planes defeat the prefetchers).
    const size_t ld = row_stride(w), channel = 36 * ld;
    const size_t cin_g = w->in_channels / w->groups, cout_g = w->out_channels / w->groups;
    float *v = workspace, *m = workspace + w->in_channels * channel;

    FOR_EACH_SEGMENT(w, tile_begin, tile_count,
                     tf->input(w, x + image * in_image, ty, tx0, n, v + column, channel, ld));

    convrt_sgemm_plan plan;
    if (convrt_sgemm_plan_make((convrt_isa)w->gemm_isa, cout_g, tile_count, cin_g, 1, &plan) != 0)
        return -1;
    for (size_t p = 0; p < 36; p++) {
        for (size_t g = 0; g < w->groups; g++) {
            if (convrt_sgemm_compute(&plan, w->u[g * 36 + p], v + g * cin_g * channel + p * ld, channel,
                                     m + g * cout_g * channel + p * ld, channel, NULL, 0, plan.units) != 0)
                return -1;
        }
    }

    FOR_EACH_SEGMENT(w, tile_begin, tile_count,
                     tf->output(w, m + column, channel, ld, ty, tx0, n,
                                residual ? residual + image * out_image : NULL, y + image * out_image));
    return 0;
}
