// SGEMM micro-kernels for x86-64 AVX-512F: tile 8 rows x 48 columns (3 zmm per row,
// 24 zmm accumulators), so common channel counts (multiples of 8) leave no row tail.
#include "sgemm_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define UK_TARGET __attribute__((target("avx512f,fma")))
#define UK_PREFIX sgemm_avx512
#define UK_VEC __m512
#define UK_W 16
#define UK_MR 8
#define UK_NV 3
#define UK_ZERO() _mm512_setzero_ps()
#define UK_LOAD(p) _mm512_loadu_ps(p)
#define UK_STORE(p, x) _mm512_storeu_ps((p), (x))
#define UK_BCAST(p) _mm512_set1_ps(*(p))
#define UK_SET1(f) _mm512_set1_ps(f)
#define UK_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define UK_MUL(a, b) _mm512_mul_ps((a), (b))
#define UK_ADD(a, b) _mm512_add_ps((a), (b))
#define UK_MAX(a, b) _mm512_max_ps((a), (b))
#define UK_MIN(a, b) _mm512_min_ps((a), (b))
#define UK_LEAKY(x, s) \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_mul_ps((x), (s)), (x))
#define UK_MASK_T __mmask16
#define UK_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define UK_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define UK_STOREM(p, m, x) _mm512_mask_storeu_ps((p), (m), (x))

#include "sgemm_ukernel_template.h"

#define ROW(mr) UK_DEFINE(mr, 1) UK_DEFINE(mr, 2) UK_DEFINE(mr, 3)
ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8)
#undef ROW
#define ROW(mr) {UK_FN(mr, 1), UK_FN(mr, 2), UK_FN(mr, 3)}

static const sgemm_kernel_set set = {
    .name = "sgemm_8x48_avx512",
    .isa = CONVRT_ISA_AVX512,
    .mr = UK_MR, .nr = UK_NR, .w = UK_W,
    .kc_max = 256, .mc_max = 512, .nc_max = 384,
    .pack_b = sgemm_avx512_pack_b,
    .kernels = {ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8)},
};

const sgemm_kernel_set *sgemm_kernels_avx512(void) { return &set; }

#else
const sgemm_kernel_set *sgemm_kernels_avx512(void) { return 0; }
#endif
