// Portable direct-conv kernels: the template with one-float "vectors", for CPUs with none
// of the SIMD paths (eight scalar accumulators per row chunk; no tails to mask).
#include "dwconv_internal.h"

#define DC_TARGET
#define DC_PREFIX dwconv_portable
#define DC_VEC float
#define DC_W 1
#define DC_ROWS1 1
#define DC_SQNV 8
#define DC_NV1 8
#define DC_NV2 4
#define DC_NV3 2
#define DC_NV4 2
#define DC_ZERO() 0.0f
#define DC_LOAD(p) (*(p))
#define DC_STORE(p, x) (*(p) = (x))
#define DC_BCAST(p) (*(p))
#define DC_SET1(f) (f)
// Multiply then add: fmaf is a slow library call on CPUs without FMA.
#define DC_FMA(a, b, c) ((a) * (b) + (c))
#define DC_ADD(a, b) ((a) + (b))
#define DC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define DC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DC_LEAKY(x, s) ((x) > 0.0f ? (x) : (x) * (s))
#define DC_MASK_T int
#define DC_MASK(n) (n)
#define DC_LOADM(p, m) ((void)(m), *(p))
#define DC_STOREM(p, m, x) ((void)(m), *(p) = (x))

#include "dwconv_template.h"

static const dwconv_kernel_set set = {.name = "dwconv_portable", .isa = CONVRT_ISA_PORTABLE, .w = DC_W, .band = DC_BANDS,
                                       .square = DC_SQUARES,
                                       .fill_rows = DC_FILL_ROWS};

const dwconv_kernel_set *dwconv_kernels_portable(void) { return &set; }
