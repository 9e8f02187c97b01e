// y[n] += x[k] * B[k x n]: a one-row product (nn.Linear at batch 1) streaming B row by row.
// The SGEMM's one-row tiles keep only two accumulators per K step and wait on FMA latency;
// here each output is a memory-resident accumulator updated by four rows at a time, so B,
// by far the biggest operand, is read once, in order, at memory speed.
#include "sgemm_internal.h"

// Four rows per pass: y is loaded and stored once per four FMAs. Each output's sum runs
// over k in order from its initial value, whatever the column range, so splitting the
// columns between threads gives the same bits.
#define SGEMV_BODY                                                                           \
    size_t p = 0;                                                                            \
    for (; p + 4 <= k; p += 4) {                                                             \
        const float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];                  \
        const float *restrict b0 = b + p * ldb, *restrict b1 = b0 + ldb;                     \
        const float *restrict b2 = b1 + ldb, *restrict b3 = b2 + ldb;                        \
        for (size_t j = 0; j < n; j++)                                                       \
            y[j] = __builtin_fmaf(x3, b3[j], __builtin_fmaf(x2, b2[j],                       \
                   __builtin_fmaf(x1, b1[j], __builtin_fmaf(x0, b0[j], y[j]))));             \
    }                                                                                        \
    for (; p < k; p++) {                                                                     \
        const float xp = x[p];                                                               \
        const float *restrict bp = b + p * ldb;                                              \
        for (size_t j = 0; j < n; j++) y[j] = __builtin_fmaf(xp, bp[j], y[j]);              \
    }

#if defined(__x86_64__) || defined(_M_X64)
__attribute__((target("avx512f,fma"))) static void sgemv_avx512(size_t k, size_t n, const float *restrict x,
                                                                const float *restrict b, size_t ldb,
                                                                float *restrict y) {
    SGEMV_BODY
}

__attribute__((target("avx2,fma"))) static void sgemv_avx2(size_t k, size_t n, const float *restrict x,
                                                           const float *restrict b, size_t ldb, float *restrict y) {
    SGEMV_BODY
}
#endif

// Without FMA hardware, fmaf is a slow library call: multiply, then add (other bits, the
// same for any column split).
static void sgemv_portable(size_t k, size_t n, const float *restrict x, const float *restrict b, size_t ldb,
                           float *restrict y) {
#if defined(__aarch64__)
    SGEMV_BODY
#else
    for (size_t p = 0; p < k; p++) {
        const float xp = x[p];
        const float *restrict bp = b + p * ldb;
        for (size_t j = 0; j < n; j++) y[j] = y[j] + xp * bp[j];
    }
#endif
}

void convrt_sgemv(convrt_isa isa, size_t k, size_t n, const float *x, const float *b, size_t ldb, float *y) {
    if (isa == CONVRT_ISA_AUTO) isa = convrt_isa_best();
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == CONVRT_ISA_AVX512 && convrt_isa_supported(isa)) return sgemv_avx512(k, n, x, b, ldb, y);
    if (isa == CONVRT_ISA_AVX2 && convrt_isa_supported(isa)) return sgemv_avx2(k, n, x, b, ldb, y);
#endif
    sgemv_portable(k, n, x, b, ldb, y);
}
