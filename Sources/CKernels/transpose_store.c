// convrt_transpose_store: a [pixels x channels] product written out as NCHW with the
// SGEMM epilogue (bias per channel, residual, activation), for 1x1 convolutions that
// run pixel-major (see PixelMajorConv). AVX2 8 x 8 register transposes where the CPU has
// them, scalar otherwise; the arithmetic is the store epilogue's, in its order, so both
// give the bits the SGEMM store would.
#include "sgemm_internal.h"

static float scalar_value(const float *src, size_t lds, size_t r, size_t c, const convrt_sgemm_epilogue *e) {
    float v = src[r * lds + c];
    if (e->bias) v = v + e->bias[c];
    if (e->residual) v = v + e->residual[c * e->ldr + r];
    const sgemm_tile_epilogue te = {.activation = e->activation, .lo = e->lo, .hi = e->hi,
                                    .slope = e->slope};
    return sgemm_scalar_activation(v, &te);
}

// Rows [r0, r1) x channels [c0, c1), one element at a time.
static void store_scalar(const float *src, size_t lds, size_t r0, size_t r1, size_t c0, size_t c1,
                         float *dst, size_t ldd, const convrt_sgemm_epilogue *e) {
    for (size_t c = c0; c < c1; c++)
        for (size_t r = r0; r < r1; r++) dst[c * ldd + r] = scalar_value(src, lds, r, c, e);
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define TS_TARGET __attribute__((target("avx2,fma")))
#define TS_INLINE static inline __attribute__((always_inline)) TS_TARGET

TS_INLINE void transpose8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20), r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20), r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31), r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31), r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// The SGEMM template's vector epilogue (sgemm_ukernel_template.h, uk_finish), on one vector.
TS_INLINE __m256 activate(__m256 x, const convrt_sgemm_epilogue *e) {
    const __m256 zero = _mm256_setzero_ps();
    switch (e->activation) {
    case CONVRT_ACT_RELU: return _mm256_add_ps(_mm256_max_ps(zero, x), zero);
    case CONVRT_ACT_CLAMP:
        return _mm256_min_ps(_mm256_set1_ps(e->hi), _mm256_max_ps(_mm256_set1_ps(e->lo), x));
    case CONVRT_ACT_LEAKY_RELU: {
        const __m256 scaled = _mm256_mul_ps(x, _mm256_set1_ps(e->slope));
        return _mm256_blendv_ps(scaled, x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    }
    default: return x;
    }
}

// Whole 8 x 8 blocks in registers; the ragged edges element by element.
TS_TARGET static void store_avx2(const float *src, size_t lds, size_t rows, size_t cols, float *dst,
                                 size_t ldd, const convrt_sgemm_epilogue *e) {
    const size_t rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
    for (size_t c0 = 0; c0 < cols8; c0 += 8) {
        for (size_t r0 = 0; r0 < rows8; r0 += 8) {
            __m256 v[8];
            for (int i = 0; i < 8; i++) v[i] = _mm256_loadu_ps(src + (r0 + i) * lds + c0);
            transpose8(v);  // v[j]: channel c0 + j, pixels r0 ..< r0 + 8
            for (int j = 0; j < 8; j++) {
                const size_t c = c0 + j;
                __m256 x = v[j];
                if (e->bias) x = _mm256_add_ps(x, _mm256_broadcast_ss(e->bias + c));
                if (e->residual) x = _mm256_add_ps(x, _mm256_loadu_ps(e->residual + c * e->ldr + r0));
                _mm256_storeu_ps(dst + c * ldd + r0, activate(x, e));
            }
        }
        store_scalar(src, lds, rows8, rows, c0, c0 + 8, dst, ldd, e);
    }
    store_scalar(src, lds, 0, rows, cols8, cols, dst, ldd, e);
}
#endif

void convrt_transpose_store(const float *src, size_t lds, size_t rows, size_t cols, float *dst,
                            size_t ldd, const convrt_sgemm_epilogue *e) {
#if defined(__x86_64__) || defined(_M_X64)
    if (convrt_isa_supported(CONVRT_ISA_AVX2)) {
        store_avx2(src, lds, rows, cols, dst, ldd, e);
        return;
    }
#endif
    store_scalar(src, lds, 0, rows, 0, cols, dst, ldd, e);
}
