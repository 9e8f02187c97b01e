// SGEMM micro-kernels for AArch64 Advanced SIMD: tile 8 rows x 12 columns (3 q
// registers per row, 24 accumulators of 32). vmaxq/vminq propagate NaN like the
// x86 paths; they differ only in returning +0 for max(+0, -0).
#include "sgemm_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static inline float32x4_t neon_load_first(const float *p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return vld1q_f32(t);
}

static inline void neon_store_first(float *p, int n, float32x4_t x) {
    float t[4];
    vst1q_f32(t, x);
    for (int i = 0; i < n; i++) p[i] = t[i];
}

#define UK_TARGET
#define UK_PREFIX sgemm_neon
#define UK_VEC float32x4_t
#define UK_W 4
#define UK_MR 8
#define UK_NV 3
#define UK_ZERO() vdupq_n_f32(0.0f)
#define UK_LOAD(p) vld1q_f32(p)
#define UK_STORE(p, x) vst1q_f32((p), (x))
#define UK_BCAST(p) vld1q_dup_f32(p)
#define UK_SET1(f) vdupq_n_f32(f)
#define UK_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define UK_MUL(a, b) vmulq_f32((a), (b))
#define UK_ADD(a, b) vaddq_f32((a), (b))
#define UK_MAX(a, b) vmaxq_f32((a), (b))
#define UK_MIN(a, b) vminq_f32((a), (b))
#define UK_LEAKY(x, s) vbslq_f32(vcgtq_f32((x), vdupq_n_f32(0.0f)), (x), vmulq_f32((x), (s)))
#define UK_MASK_T int
#define UK_MASK(n) (n)
#define UK_LOADM(p, m) neon_load_first((p), (m))
#define UK_STOREM(p, m, x) neon_store_first((p), (m), (x))

#include "sgemm_ukernel_template.h"

#define ROW(mr) UK_DEFINE(mr, 1) UK_DEFINE(mr, 2) UK_DEFINE(mr, 3)
ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8)
#undef ROW
#define ROW(mr) {UK_FN(mr, 1), UK_FN(mr, 2), UK_FN(mr, 3)}

static const sgemm_kernel_set set = {
    .name = "sgemm_8x12_neon",
    .isa = CONVRT_ISA_NEON,
    .mr = UK_MR, .nr = UK_NR, .w = UK_W,
    .kc_max = 256, .mc_max = 256, .nc_max = 384,
    .pack_b = sgemm_neon_pack_b,
    .kernels = {ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8)},
};

const sgemm_kernel_set *sgemm_kernels_neon(void) { return &set; }

#else
const sgemm_kernel_set *sgemm_kernels_neon(void) { return 0; }
#endif
