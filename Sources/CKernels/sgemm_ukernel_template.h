// One SGEMM micro-kernel body, written once over a small vector vocabulary and
// instantiated per ISA (sgemm_avx512.c, sgemm_avx2.c, sgemm_neon.c): the tile
// logic, the epilogue order and the tail masking are the same code on every ISA.
//
// Define before including:
//   UK_TARGET            function attributes, e.g. __attribute__((target("avx2,fma")))
//   UK_PREFIX            name prefix, e.g. sgemm_avx2
//   UK_VEC, UK_W         vector type and its width in floats
//   UK_MR, UK_NV         rows of the tile; vectors per row (NR = UK_NV * UK_W)
//   UK_ZERO() UK_LOAD(p) UK_STORE(p, x) UK_BCAST(p) UK_SET1(f)
//   UK_FMA(a, b, c)      a * b + c, fused
//   UK_MUL(a, b) UK_ADD(a, b)
//   UK_MAX(a, b) UK_MIN(a, b)   x86 semantics: the second operand on NaN or equal
//   UK_LEAKY(x, s)       x > 0 ? x : x * s, lane-wise
//   UK_MASK_T, UK_MASK(n) a mask of the first n lanes (0 < n < W)
//   UK_LOADM(p, m) UK_STOREM(p, m, x)   masked load (zero elsewhere) and store
#include "sgemm_internal.h"

#define UK_NR (UK_NV * UK_W)
#define UK_INLINE static inline __attribute__((always_inline)) UK_TARGET
#define UK_CAT_(a, b) a##b
#define UK_CAT(a, b) UK_CAT_(a, b)
#define UK_FN(mr, nv) UK_CAT(UK_PREFIX, UK_CAT(_mr##mr, _nv##nv))

UK_INLINE UK_VEC uk_load_part(const float *p, int partial, UK_MASK_T m) {
    return partial ? UK_LOADM(p, m) : UK_LOAD(p);
}

UK_INLINE void uk_store_part(float *p, UK_VEC x, int partial, UK_MASK_T m) {
    if (partial) {
        UK_STOREM(p, m, x);
    } else {
        UK_STORE(p, x);
    }
}

// The epilogue on register-resident accumulators, in the documented order:
// alpha * acc [+ C] [+ bias] [+ residual], activation, store.
// `masked` is a compile-time constant after inlining; the last vector of
// each row then covers `tail` lanes.
UK_INLINE void uk_finish(UK_VEC acc[UK_MR][UK_NV], float *c, size_t ldc,
                         const sgemm_tile_epilogue *e, const int mr, const int nv,
                         const int masked, size_t tail) {
    const UK_MASK_T m = UK_MASK(masked ? (int)tail : 1);
    const UK_VEC alpha = UK_SET1(e->alpha);
    if (e->load_c) {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                acc[r][v] = UK_FMA(alpha, acc[r][v],
                                   uk_load_part(c + r * ldc + v * UK_W, masked && v == nv - 1, m));
    } else {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++) acc[r][v] = UK_MUL(alpha, acc[r][v]);
    }
    if (e->last) {
        if (e->bias) {
            for (int r = 0; r < mr; r++) {
                const UK_VEC bias = UK_BCAST(e->bias + r);
                for (int v = 0; v < nv; v++) acc[r][v] = UK_ADD(acc[r][v], bias);
            }
        }
        if (e->residual) {
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < nv; v++)
                    acc[r][v] = UK_ADD(acc[r][v], uk_load_part(e->residual + r * e->ldr + v * UK_W,
                                                               masked && v == nv - 1, m));
        }
        const UK_VEC zero = UK_ZERO();
        switch (e->activation) {
        case CONVRT_ACT_RELU:
            // max(0, x) keeps NaN; adding +0 turns -0 into +0 like torch.relu.
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < nv; v++) acc[r][v] = UK_ADD(UK_MAX(zero, acc[r][v]), zero);
            break;
        case CONVRT_ACT_CLAMP: {
            const UK_VEC lo = UK_SET1(e->lo), hi = UK_SET1(e->hi);
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < nv; v++) acc[r][v] = UK_MIN(hi, UK_MAX(lo, acc[r][v]));
            break;
        }
        case CONVRT_ACT_LEAKY_RELU: {
            const UK_VEC slope = UK_SET1(e->slope);
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < nv; v++) acc[r][v] = UK_LEAKY(acc[r][v], slope);
            break;
        }
        default: break;
        }
    }
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            uk_store_part(c + r * ldc + v * UK_W, acc[r][v], masked && v == nv - 1, m);
}

// C[mr x nr] = epilogue(A panel [kc][UK_MR] (first mr rows) * B [kc rows, stride ldb] (first nv vectors)).
UK_INLINE void uk_body(size_t kc, const float *restrict a, const float *restrict b, size_t ldb,
                       float *restrict c, size_t ldc, size_t nr, const sgemm_tile_epilogue *e,
                       const int mr, const int nv) {
    UK_VEC acc[UK_MR][UK_NV];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = UK_ZERO();
#pragma clang loop unroll_count(4)
    for (size_t p = 0; p < kc; p++) {
        UK_VEC bv[UK_NV];
        for (int v = 0; v < nv; v++) bv[v] = UK_LOAD(b + v * UK_W);
        for (int r = 0; r < mr; r++) {
            const UK_VEC av = UK_BCAST(a + r);
            for (int v = 0; v < nv; v++) acc[r][v] = UK_FMA(av, bv[v], acc[r][v]);
        }
        a += UK_MR;
        b += ldb;
    }
    const size_t full = (size_t)nv * UK_W;
    if (nr >= full) {
        uk_finish(acc, c, ldc, e, mr, nv, 0, 0);
    } else {
        uk_finish(acc, c, ldc, e, mr, nv, 1, nr - (full - UK_W));
    }
}

// Packs ncols columns of B rows [kc] (row stride ldb) into ceil(ncols / NR)
// panels [kc][NR], panel q at dst + q * kc * NR, zero-padding the last one.
// Rows are read in order so the hardware prefetcher streams B.
UK_TARGET static void UK_CAT(UK_PREFIX, _pack_b)(size_t kc, size_t ncols, const float *b,
                                                 size_t ldb, float *dst) {
    const size_t full = ncols / UK_NR, tail = ncols % UK_NR;
    const size_t panel = kc * UK_NR;
    for (size_t p = 0; p < kc; p++) {
        const float *src = b + p * ldb;
        float *out = dst + p * UK_NR;
        for (size_t q = 0; q < full; q++) {
            for (int v = 0; v < UK_NV; v++)
                UK_STORE(out + q * panel + v * UK_W, UK_LOAD(src + q * UK_NR + v * UK_W));
        }
        if (tail) {
            float *o = out + full * panel;
            const float *s = src + full * UK_NR;
            size_t j = 0;
            for (; j < tail; j++) o[j] = s[j];
            for (; j < UK_NR; j++) o[j] = 0.0f;
        }
    }
}

#define UK_DEFINE(mr, nv)                                                                    \
    UK_TARGET static void UK_FN(mr, nv)(size_t kc, const float *a, const float *b, size_t ldb, \
                                        float *c, size_t ldc, size_t nr,                     \
                                        const sgemm_tile_epilogue *e) {                      \
        uk_body(kc, a, b, ldb, c, ldc, nr, e, mr, nv);                                       \
    }
