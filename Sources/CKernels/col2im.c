// col2im / im2col (convrt_col2im.h): the bodies in col2im_template.h, compiled for the
// baseline target and, on x86-64, for AVX2 and AVX-512, chosen at run time.
#include "CKernels.h"

#include <stdint.h>

/// `a mod b` in [0, b) for b > 0.
static inline ptrdiff_t c2i_mod(ptrdiff_t a, ptrdiff_t b) {
    const ptrdiff_t m = a % b;
    return m < 0 ? m + b : m;
}

/// `ceil(a / b)` for b > 0.
static inline ptrdiff_t c2i_ceil_div(ptrdiff_t a, ptrdiff_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/// The grid index `num / stride` when it is exact and inside [0, size), else -1.
static inline ptrdiff_t c2i_grid_index(ptrdiff_t num, ptrdiff_t stride, ptrdiff_t size) {
    if (num < 0 || num % stride != 0) return -1;
    const ptrdiff_t q = num / stride;
    return q < size ? q : -1;
}

/// Marks a (phase, kw) pair whose tap does not land on that phase.
#define C2I_NO_TAP PTRDIFF_MIN

/// How col2im's workspace is cut up (counts of entries).
typedef struct {
    ptrdiff_t tab_d, tab_h, tab_w;  ///< ptrdiff_t tables
    ptrdiff_t phases;               ///< phase pointers
    ptrdiff_t nt;                   ///< floats of accumulator per phase
} c2i_layout;

static c2i_layout c2i_layout_of(const convrt_window3d *w) {
    c2i_layout l;
    const ptrdiff_t ow = w->image[2] > 0 ? w->image[2] : 0, sw = w->stride[2];
    l.phases = sw < ow ? sw : ow;
    l.nt = ow > 0 ? (ow + sw - 1) / sw : 0;
    l.tab_d = (w->image[0] > 0 ? w->image[0] : 0) * w->kernel[0];
    l.tab_h = (w->image[1] > 0 ? w->image[1] : 0) * w->kernel[1];
    l.tab_w = l.phases * w->kernel[2];
    return l;
}

/// Which grid index each (image index, tap) of a dim reads, or -1 (nothing lands there).
static void c2i_dim_table(ptrdiff_t image, ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t dilation, ptrdiff_t pad,
                          ptrdiff_t grid, ptrdiff_t *table) {
    for (ptrdiff_t o = 0; o < image; o++)
        for (ptrdiff_t k = 0; k < kernel; k++)
            table[o * kernel + k] = c2i_grid_index(o + pad - k * dilation, stride, grid);
}

/// The d and h tables, and per (phase r, kw) the shift s with image column r + t*SW reading
/// grid column t + s, or C2I_NO_TAP.
static void c2i_tables(const convrt_window3d *w, ptrdiff_t *tab_d, ptrdiff_t *tab_h, ptrdiff_t *tab_w) {
    c2i_dim_table(w->image[0], w->kernel[0], w->stride[0], w->dilation[0], w->pad[0], w->grid[0], tab_d);
    c2i_dim_table(w->image[1], w->kernel[1], w->stride[1], w->dilation[1], w->pad[1], w->grid[1], tab_h);
    const ptrdiff_t sw = w->stride[2], phases = c2i_layout_of(w).phases;
    for (ptrdiff_t r = 0; r < phases; r++) {
        for (ptrdiff_t k = 0; k < w->kernel[2]; k++) {
            const ptrdiff_t num = r + w->pad[2] - k * w->dilation[2];
            tab_w[r * w->kernel[2] + k] = c2i_mod(num, sw) == 0 ? num / sw : C2I_NO_TAP;
        }
    }
}

#define C2I_TARGET
#define C2I_SUFFIX portable
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX

#if defined(__x86_64__) || defined(_M_X64)
#define C2I_TARGET __attribute__((target("avx2")))
#define C2I_SUFFIX avx2
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX

#define C2I_TARGET __attribute__((target("avx512f")))
#define C2I_SUFFIX avx512
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX
#endif

size_t convrt_col2im_workspace_bytes(const convrt_window3d *w) {
    const c2i_layout l = c2i_layout_of(w);
    return (size_t)(l.tab_d + l.tab_h + l.tab_w) * sizeof(ptrdiff_t) + (size_t)l.phases * sizeof(float *)
        + (size_t)(l.phases * l.nt) * sizeof(float) + 64;
}

void convrt_col2im(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                   size_t row_begin, size_t row_end, const convrt_col2im_epilogue *epilogue,
                   void *workspace) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (convrt_isa_best()) {
    case CONVRT_ISA_AVX512:
        c2i_col2im_avx512(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
        return;
    case CONVRT_ISA_AVX2:
        c2i_col2im_avx2(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
        return;
    default: break;
    }
#endif
    c2i_col2im_portable(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
}

void convrt_im2col(const convrt_window3d *w, const float *image, float *columns, size_t ld) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (convrt_isa_best()) {
    case CONVRT_ISA_AVX512: c2i_im2col_avx512(w, image, columns, ld); return;
    case CONVRT_ISA_AVX2: c2i_im2col_avx2(w, image, columns, ld); return;
    default: break;
    }
#endif
    c2i_im2col_portable(w, image, columns, ld);
}
