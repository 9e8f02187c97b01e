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


/// Whether `isa` (AUTO: the best this CPU runs) has the AVX2 build.
static int use_avx2(convrt_isa isa) {
#if defined(__x86_64__)
    if (isa == CONVRT_ISA_AUTO) isa = convrt_isa_best();
    return (isa == CONVRT_ISA_AVX2 || isa == CONVRT_ISA_AVX512) && convrt_isa_supported(CONVRT_ISA_AVX2);
#else
    (void)isa;
    return 0;
#endif
}

void convrt_pool_rows(convrt_isa isa, int op, const float *const *rows, ptrdiff_t count, ptrdiff_t width,
                      float *out) {
#if defined(__x86_64__)
    if (use_avx2(isa)) { rows__avx2(op, rows, count, width, out); return; }
#endif
    rows__portable(op, rows, count, width, out);
}

void convrt_pool_window(convrt_isa isa, int op, const float *in, ptrdiff_t in_width, float *out,
                        ptrdiff_t out_width, ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t pad, ptrdiff_t dilation,
                        float *scratch) {
#if defined(__x86_64__)
    if (use_avx2(isa)) { window__avx2(op, in, in_width, out, out_width, kernel, stride, pad, dilation, scratch); return; }
#endif
    window__portable(op, in, in_width, out, out_width, kernel, stride, pad, dilation, scratch);
}
