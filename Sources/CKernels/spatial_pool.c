// Pooling row kernels: a portable build and, on x86-64, an AVX2 build of the same source.
#include "spatial_kernels.h"
#include "CKernels.h"

#define SUFFIX _portable
#include "spatial_pool_template.h"
#undef SUFFIX

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define SUFFIX _avx2
#include "spatial_pool_template.h"
#undef SUFFIX
#pragma clang attribute pop
#endif


static int use_avx2(void) {
#if defined(__x86_64__)
    static int chosen = -1;  // a benign race: every thread computes the same value
    if (chosen < 0) chosen = convrt_isa_supported(CONVRT_ISA_AVX2);
    return chosen;
#else
    return 0;
#endif
}

void convrt_pool_rows(int op, const float *const *rows, ptrdiff_t count, ptrdiff_t width, float *out) {
#if defined(__x86_64__)
    if (use_avx2()) { rows__avx2(op, rows, count, width, out); return; }
#endif
    rows__portable(op, rows, count, width, out);
}

void convrt_pool_window(int op, const float *in, ptrdiff_t in_width, float *out, ptrdiff_t out_width,
                        ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t pad, ptrdiff_t dilation, float *scratch) {
#if defined(__x86_64__)
    if (use_avx2()) { window__avx2(op, in, in_width, out, out_width, kernel, stride, pad, dilation, scratch); return; }
#endif
    window__portable(op, in, in_width, out, out_width, kernel, stride, pad, dilation, scratch);
}
