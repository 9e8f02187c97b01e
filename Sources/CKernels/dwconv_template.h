// The direct-conv micro-kernel, written once over a small vector vocabulary and
// instantiated per ISA (dwconv_avx2.c, dwconv_avx512.c, dwconv_neon.c, dwconv_portable.c).
//
// Define before including:
//   DC_TARGET             function attributes, e.g. __attribute__((target("avx2,fma")))
//   DC_PREFIX             name prefix, e.g. dwconv_avx2
//   DC_VEC, DC_W          vector type and its width in floats
//   DC_NV1..DC_NV4        vectors per row of a tile of 1..4 output channels (<= DWCONV_NV_MAX)
//   DC_ZERO() DC_LOAD(p) DC_STORE(p, x) DC_BCAST(p) DC_SET1(f)
//   DC_FMA(a, b, c)       a * b + c, fused
//   DC_ADD(a, b) DC_MAX(a, b) DC_MIN(a, b)   max/min: the second operand on NaN or equal
//   DC_LEAKY(x, s)        x > 0 ? x : x * s, lane-wise
//   DC_MASK_T, DC_MASK(n) a mask of the first n lanes (0 < n <= W)
//   DC_LOADM(p, m) DC_STOREM(p, m, x)   masked load (zero elsewhere) and store
#include "dwconv_internal.h"

#define DC_INLINE static inline __attribute__((always_inline)) DC_TARGET
#define DC_CAT_(a, b) a##b
#define DC_CAT(a, b) DC_CAT_(a, b)
#define DC_FN(mo) DC_CAT(DC_PREFIX, DC_CAT(_mo, mo))

DC_INLINE DC_VEC dc_load_part(const float *p, int partial, DC_MASK_T m) {
    return partial ? DC_LOADM(p, m) : DC_LOAD(p);
}

DC_INLINE void dc_store_part(float *p, DC_VEC x, int partial, DC_MASK_T m) {
    if (partial) {
        DC_STOREM(p, m, x);
    } else {
        DC_STORE(p, x);
    }
}

DC_INLINE DC_VEC dc_activate(DC_VEC x, const convrt_dwconv_activation *act) {
    switch (act->kind) {
    case CONVRT_ACT_RELU:
        // max(0, x) keeps NaN; adding +0 turns -0 into +0 like torch.relu.
        return DC_ADD(DC_MAX(DC_ZERO(), x), DC_ZERO());
    case CONVRT_ACT_CLAMP: return DC_MIN(DC_SET1(act->hi), DC_MAX(DC_SET1(act->lo), x));
    case CONVRT_ACT_LEAKY_RELU: return DC_LEAKY(x, DC_SET1(act->slope));
    default: return x;
    }
}

// Output row `y` of mo channels, nv vectors from column 0 of `x`/`y`/`residual`; the last
// vector is cut to the mask when `partial`.
DC_INLINE void dc_tile(const dwconv_args *a, const float *x, float *y, const float *residual,
                       int partial, DC_MASK_T m, const int mo, const int nv) {
    DC_VEC acc[CONVRT_DWCONV_MO][DWCONV_NV_MAX];
    for (int r = 0; r < mo; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = DC_ZERO();
    const float *w = a->w;
    for (size_t c = 0; c < a->cin_g; c++) {
        const float *xc = x + c * a->ch_stride;
        for (size_t t = 0; t < a->taps; t++) {
            const float *p = xc + a->off[t];
            DC_VEC wv[CONVRT_DWCONV_MO];
            for (int r = 0; r < mo; r++) wv[r] = DC_BCAST(w + r);
            w += mo;
            for (int v = 0; v < nv; v++) {
                const DC_VEC xv = DC_LOAD(p + v * DC_W);
                for (int r = 0; r < mo; r++) acc[r][v] = DC_FMA(wv[r], xv, acc[r][v]);
            }
        }
    }
    // Epilogue while in registers: bias, pre-activation, residual, post-activation.
    for (int r = 0; r < mo; r++) {
        if (a->bias) {
            const DC_VEC b = DC_BCAST(a->bias + r);
            for (int v = 0; v < nv; v++) acc[r][v] = DC_ADD(acc[r][v], b);
        }
        if (a->pre.kind != CONVRT_ACT_NONE)
            for (int v = 0; v < nv; v++) acc[r][v] = dc_activate(acc[r][v], &a->pre);
        if (residual) {
            const float *res = residual + r * a->out_plane;
            for (int v = 0; v < nv; v++)
                acc[r][v] = DC_ADD(acc[r][v], dc_load_part(res + v * DC_W, partial && v == nv - 1, m));
        }
        if (a->post.kind != CONVRT_ACT_NONE)
            for (int v = 0; v < nv; v++) acc[r][v] = dc_activate(acc[r][v], &a->post);
        float *out = y + r * a->out_plane;
        for (int v = 0; v < nv; v++) dc_store_part(out + v * DC_W, acc[r][v], partial && v == nv - 1, m);
    }
}

// One output row: chunks of the tile's widest vector count, the last chunk narrower.
DC_INLINE void dc_row(const dwconv_args *a, const float *x, float *y, const float *residual,
                      const int mo, const int nv_max) {
    const size_t vectors = (a->ow + DC_W - 1) / DC_W;
    const size_t tail = a->ow - (vectors - 1) * DC_W;  // lanes of the last vector, 1..W
    const DC_MASK_T m = DC_MASK((int)tail);
    for (size_t v0 = 0; v0 < vectors; v0 += (size_t)nv_max) {
        const size_t left = vectors - v0;
        const int nv = left < (size_t)nv_max ? (int)left : nv_max;
        const int partial = left == (size_t)nv && tail < DC_W;
        const size_t col = v0 * DC_W;
        const float *res = residual ? residual + col : NULL;
        switch (nv) {
#define DC_CASE(n) \
    case n: if (n <= nv_max) dc_tile(a, x + col, y + col, res, partial, m, mo, n); break;
            DC_CASE(1) DC_CASE(2) DC_CASE(3) DC_CASE(4) DC_CASE(5) DC_CASE(6) DC_CASE(7) DC_CASE(8)
#undef DC_CASE
        default: break;
        }
    }
}

DC_INLINE void dc_band(const dwconv_args *a, const int mo, const int nv_max) {
    for (size_t d = 0; d < a->rows_d; d++) {
        for (size_t h = 0; h < a->rows_h; h++) {
            const float *x = a->x + d * a->in_step_d + h * a->in_step_h;
            const size_t o = d * a->out_step_d + h * a->out_step_h;
            dc_row(a, x, a->y + o, a->residual ? a->residual + o : NULL, mo, nv_max);
        }
    }
}

#define DC_DEFINE(mo, nv_max) \
    DC_TARGET static void DC_FN(mo)(const dwconv_args *a) { dc_band(a, mo, nv_max); }

DC_DEFINE(1, DC_NV1)
DC_DEFINE(2, DC_NV2)
DC_DEFINE(3, DC_NV3)
DC_DEFINE(4, DC_NV4)

#define DC_BANDS {DC_FN(1), DC_FN(2), DC_FN(3), DC_FN(4)}
