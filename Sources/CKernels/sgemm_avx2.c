// SGEMM micro-kernels for x86-64 AVX2 + FMA3: tile 6 rows x 16 columns (2 ymm per
// row: 12 ymm accumulators, 2 for B, 1 broadcast, one spare of 16).
#include "sgemm_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define UK_TARGET __attribute__((target("avx2,fma")))
#define UK_PREFIX sgemm_avx2
#define UK_VEC __m256
#define UK_W 8
#define UK_MR 6
#define UK_NV 2
#define UK_ZERO() _mm256_setzero_ps()
#define UK_LOAD(p) _mm256_loadu_ps(p)
#define UK_STORE(p, x) _mm256_storeu_ps((p), (x))
#define UK_BCAST(p) _mm256_broadcast_ss(p)
#define UK_SET1(f) _mm256_set1_ps(f)
#define UK_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define UK_MUL(a, b) _mm256_mul_ps((a), (b))
#define UK_ADD(a, b) _mm256_add_ps((a), (b))
#define UK_MAX(a, b) _mm256_max_ps((a), (b))
#define UK_MIN(a, b) _mm256_min_ps((a), (b))
#define UK_LEAKY(x, s) \
    _mm256_blendv_ps(_mm256_mul_ps((x), (s)), (x), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GT_OQ))
#define UK_MASK_T __m256i
#define UK_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define UK_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define UK_STOREM(p, m, x) _mm256_maskstore_ps((p), (m), (x))

#include "sgemm_ukernel_template.h"

#define ROW(mr) UK_DEFINE(mr, 1) UK_DEFINE(mr, 2)
ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6)
#undef ROW
#define ROW(mr) {UK_FN(mr, 1), UK_FN(mr, 2), NULL}

static const sgemm_kernel_set set = {
    .name = "sgemm_6x16_avx2",
    .isa = CONVRT_ISA_AVX2,
    .mr = UK_MR, .nr = UK_NR, .w = UK_W,
    .kc_max = 256, .mc_max = 256, .nc_max = 384,
    .pack_b = sgemm_avx2_pack_b,
    .kernels = {ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6)},
};

const sgemm_kernel_set *sgemm_kernels_avx2(void) { return &set; }

#else
const sgemm_kernel_set *sgemm_kernels_avx2(void) { return 0; }
#endif
