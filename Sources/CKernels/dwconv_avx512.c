// Direct-conv micro-kernels for x86-64 AVX-512F (16 floats per vector, 32 zmm).
#include "dwconv_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define DC_TARGET __attribute__((target("avx512f,fma")))
#define DC_PREFIX dwconv_avx512
#define DC_VEC __m512
#define DC_W 16
#define DC_ROWS1 2
#define DC_SQNV 8
#define DC_NV1 8
#define DC_NV2 6
#define DC_NV3 4
#define DC_NV4 4
#define DC_ZERO() _mm512_setzero_ps()
#define DC_LOAD(p) _mm512_loadu_ps(p)
#define DC_STORE(p, x) _mm512_storeu_ps((p), (x))
#define DC_BCAST(p) _mm512_set1_ps(*(p))
#define DC_SET1(f) _mm512_set1_ps(f)
#define DC_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define DC_ADD(a, b) _mm512_add_ps((a), (b))
#define DC_MAX(a, b) _mm512_max_ps((a), (b))
#define DC_MIN(a, b) _mm512_min_ps((a), (b))
#define DC_LEAKY(x, s) \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_mul_ps((x), (s)), (x))
#define DC_MASK_T __mmask16
#define DC_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define DC_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define DC_STOREM(p, m, x) _mm512_mask_storeu_ps((p), (m), (x))
#define DC_EVENS(p) \
    _mm512_permutex2var_ps(_mm512_loadu_ps(p), _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), _mm512_loadu_ps((p) + 16))

#include "dwconv_template.h"

#include "dwconv_cb_template.h"

#define DC_LOAD_AND(p, m) \
    _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(p)), _mm512_loadu_si512((const void *)(m))))
#define DC_FLAT_U 8
#include "dwconv_flat_template.h"

static const dwconv_kernel_set set = {.name = "dwconv_avx512", .isa = CONVRT_ISA_AVX512, .w = DC_W, .band = DC_BANDS,
                                       .square = DC_SQUARES,
                                       .fill_rows = DC_FILL_ROWS, .cb_item = DC_CB_ITEM,
                                       .flat_item = DC_FLAT_ITEM};

const dwconv_kernel_set *dwconv_kernels_avx512(void) { return &set; }

#else
const dwconv_kernel_set *dwconv_kernels_avx512(void) { return 0; }
#endif
