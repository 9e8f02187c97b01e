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

size_t convrt_col2im_buffer_count(const convrt_window3d *w) {
    const ptrdiff_t ow = w->image[2], sw = w->stride[2];
    if (ow <= 0 || sw <= 0) return 1;
    return (size_t)(((ow + sw - 1) / sw) * sw);
}

void convrt_col2im(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                   size_t row_begin, size_t row_end, const convrt_col2im_epilogue *epilogue,
                   float *buffer) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (convrt_isa_best()) {
    case CONVRT_ISA_AVX512:
        c2i_col2im_avx512(w, columns, ld, image, row_begin, row_end, epilogue, buffer);
        return;
    case CONVRT_ISA_AVX2:
        c2i_col2im_avx2(w, columns, ld, image, row_begin, row_end, epilogue, buffer);
        return;
    default: break;
    }
#endif
    c2i_col2im_portable(w, columns, ld, image, row_begin, row_end, epilogue, buffer);
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
