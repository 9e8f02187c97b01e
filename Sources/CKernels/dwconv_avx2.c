// Direct-conv micro-kernels for x86-64 AVX2 + FMA3 (8 floats per vector). Tiles keep at
// most 8 accumulators (FMA latency x 2 pipes) plus the broadcast weights in 16 ymm.
#include "dwconv_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define DC_TARGET __attribute__((target("avx2,fma")))
#define DC_PREFIX dwconv_avx2
#define DC_VEC __m256
#define DC_W 8
#define DC_ROWS1 2
#define DC_SQNV 8
#define DC_NV1 6
#define DC_NV2 4
#define DC_NV3 3
#define DC_NV4 2
#define DC_ZERO() _mm256_setzero_ps()
#define DC_LOAD(p) _mm256_loadu_ps(p)
#define DC_STORE(p, x) _mm256_storeu_ps((p), (x))
#define DC_BCAST(p) _mm256_broadcast_ss(p)
#define DC_SET1(f) _mm256_set1_ps(f)
#define DC_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define DC_ADD(a, b) _mm256_add_ps((a), (b))
#define DC_MAX(a, b) _mm256_max_ps((a), (b))
#define DC_MIN(a, b) _mm256_min_ps((a), (b))
#define DC_LEAKY(x, s) \
    _mm256_blendv_ps(_mm256_mul_ps((x), (s)), (x), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GT_OQ))
#define DC_MASK_T __m256i
#define DC_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define DC_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define DC_STOREM(p, m, x) _mm256_maskstore_ps((p), (m), (x))
// {p[0], p[2], ..., p[14]}: pick the even lanes of two vectors, then order the 64-bit pairs.
#define DC_EVENS(p)                                                                                 \
    _mm256_castpd_ps(_mm256_permute4x64_pd(                                                         \
        _mm256_castps_pd(_mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps((p) + 8), 0x88)), 0xD8))

#include "dwconv_template.h"

#include "dwconv_cb_template.h"

#define DC_LOAD_AND(p, m) _mm256_and_ps(_mm256_loadu_ps(p), _mm256_loadu_ps((const float *)(m)))
#define DC_FLAT_U 4
#include "dwconv_flat_template.h"

static const dwconv_kernel_set set = {.name = "dwconv_avx2", .isa = CONVRT_ISA_AVX2, .w = DC_W, .band = DC_BANDS,
                                       .square = DC_SQUARES,
                                       .fill_rows = DC_FILL_ROWS, .cb_item = DC_CB_ITEM,
                                       .flat_item = DC_FLAT_ITEM};

const dwconv_kernel_set *dwconv_kernels_avx2(void) { return &set; }

#else
const dwconv_kernel_set *dwconv_kernels_avx2(void) { return 0; }
#endif
