// Direct-conv micro-kernels for AArch64 Advanced SIMD (4 floats per vector, 32 q registers).
#include "dwconv_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static inline float32x4_t dwconv_neon_load_first(const float *p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return vld1q_f32(t);
}

static inline void dwconv_neon_store_first(float *p, int n, float32x4_t x) {
    float t[4];
    vst1q_f32(t, x);
    for (int i = 0; i < n; i++) p[i] = t[i];
}

#define DC_TARGET
#define DC_PREFIX dwconv_neon
#define DC_VEC float32x4_t
#define DC_W 4
#define DC_ROWS1 2
#define DC_SQNV 8
#define DC_NV1 8
#define DC_NV2 6
#define DC_NV3 4
#define DC_NV4 4
#define DC_ZERO() vdupq_n_f32(0.0f)
#define DC_LOAD(p) vld1q_f32(p)
#define DC_STORE(p, x) vst1q_f32((p), (x))
#define DC_BCAST(p) vld1q_dup_f32(p)
#define DC_SET1(f) vdupq_n_f32(f)
#define DC_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define DC_ADD(a, b) vaddq_f32((a), (b))
#define DC_MAX(a, b) vmaxq_f32((a), (b))
#define DC_MIN(a, b) vminq_f32((a), (b))
#define DC_LEAKY(x, s) vbslq_f32(vcgtq_f32((x), vdupq_n_f32(0.0f)), (x), vmulq_f32((x), (s)))
#define DC_MASK_T int
#define DC_MASK(n) (n)
#define DC_LOADM(p, m) dwconv_neon_load_first((p), (m))
#define DC_STOREM(p, m, x) dwconv_neon_store_first((p), (m), (x))
#define DC_EVENS(p) vld2q_f32(p).val[0]

#include "dwconv_template.h"

static const dwconv_kernel_set set = {.name = "dwconv_neon", .isa = CONVRT_ISA_NEON, .w = DC_W, .band = DC_BANDS,
                                       .square = DC_SQUARES,
                                       .fill_rows = DC_FILL_ROWS};

const dwconv_kernel_set *dwconv_kernels_neon(void) { return &set; }

#else
const dwconv_kernel_set *dwconv_kernels_neon(void) { return 0; }
#endif
