// The direct-conv micro-kernel, written once over a small vector vocabulary and
// instantiated per ISA (dwconv_avx2.c, dwconv_avx512.c, dwconv_neon.c, dwconv_portable.c).
//
// Define before including:
//   DC_TARGET             function attributes, e.g. __attribute__((target("avx2,fma")))
//   DC_PREFIX             name prefix, e.g. dwconv_avx2
//   DC_VEC, DC_W          vector type and its width in floats
//   DC_NV1..DC_NV4        vectors per row of a tile of 1..4 output channels (<= DWCONV_NV_MAX)
//   DC_ROWS1              output rows per tile of 1 channel (1 or 2; other tiles take 1)
//   DC_ZERO() DC_LOAD(p) DC_STORE(p, x) DC_BCAST(p) DC_SET1(f)
//   DC_FMA(a, b, c)       a * b + c, fused
//   DC_ADD(a, b) DC_MAX(a, b) DC_MIN(a, b)   max/min: the second operand on NaN or equal
//   DC_LEAKY(x, s)        x > 0 ? x : x * s, lane-wise
//   DC_MASK_T, DC_MASK(n) a mask of the first n lanes (0 < n <= W)
//   DC_LOADM(p, m) DC_STOREM(p, m, x)   masked load (zero elsewhere) and store
//   DC_SQNV               vectors per step of the square depthwise kernels (<= DWCONV_NV_MAX)
//   DC_EVENS(p)           optional: the vector {p[0], p[2], ..., p[2W-2]} (reads 2W floats)
#include "dwconv_internal.h"

#define DC_INLINE static inline __attribute__((always_inline)) DC_TARGET
#define DC_CAT_(a, b) a##b
#define DC_CAT(a, b) DC_CAT_(a, b)
#define DC_FN(mo) DC_CAT(DC_PREFIX, DC_CAT(_mo, mo))
#if defined(__clang__)
#define DC_UNROLL _Pragma("clang loop unroll(full)")
#else
#define DC_UNROLL
#endif

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

// The accumulators of one tile: [row][channel][vector], all in registers once unrolled.
typedef struct {
    DC_VEC v[2][CONVRT_DWCONV_MO][DWCONV_NV_MAX];
} DC_CAT(DC_PREFIX, _acc);
#define DC_ACC DC_CAT(DC_PREFIX, _acc)

// One activation over every accumulator (the switch outside the loops).
DC_INLINE void dc_activate(DC_ACC *acc, const convrt_dwconv_activation *act, const int rows, const int mo,
                           const int nv) {
    const DC_VEC zero = DC_ZERO();
    switch (act->kind) {
    case CONVRT_ACT_RELU:
        // max(0, x) keeps NaN; adding +0 turns -0 into +0 like torch.relu.
        DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++)
            DC_UNROLL for (int v = 0; v < nv; v++) acc->v[i][r][v] = DC_ADD(DC_MAX(zero, acc->v[i][r][v]), zero);
        break;
    case CONVRT_ACT_CLAMP: {
        const DC_VEC lo = DC_SET1(act->lo), hi = DC_SET1(act->hi);
        DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++)
            DC_UNROLL for (int v = 0; v < nv; v++) acc->v[i][r][v] = DC_MIN(hi, DC_MAX(lo, acc->v[i][r][v]));
        break;
    }
    case CONVRT_ACT_LEAKY_RELU: {
        const DC_VEC slope = DC_SET1(act->slope);
        DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++)
            DC_UNROLL for (int v = 0; v < nv; v++) acc->v[i][r][v] = DC_LEAKY(acc->v[i][r][v], slope);
        break;
    }
    default: break;
    }
}

// `rows` consecutive output rows (in_step / out_step apart) of mo channels, nv vectors from
// column 0 of x/y/residual; the last vector is cut to `tail` lanes when `partial` (the mask
// is made after the loop: it would take a register the accumulators need).
DC_INLINE void dc_tile(const dwconv_args *a, const float *x, float *y, const float *residual, size_t in_step,
                       size_t out_step, int partial, size_t tail, const int rows, const int mo, const int nv) {
    DC_ACC acc;
    DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++)
        DC_UNROLL for (int v = 0; v < nv; v++) acc.v[i][r][v] = DC_ZERO();
    const float *w = a->w;
    const ptrdiff_t *off = a->off;
    const size_t taps = a->taps;
    for (size_t c = 0; c < a->cin_g; c++) {
        const float *xc = x + c * a->ch_stride;
        for (size_t t = 0; t < taps; t++) {
            const float *p = xc + off[t];
            DC_VEC wv[CONVRT_DWCONV_MO];
            DC_UNROLL for (int r = 0; r < mo; r++) wv[r] = DC_BCAST(w + r);
            w += mo;
            DC_UNROLL for (int i = 0; i < rows; i++) {
                DC_UNROLL for (int v = 0; v < nv; v++) {
                    const DC_VEC xv = DC_LOAD(p + i * in_step + v * DC_W);
                    DC_UNROLL for (int r = 0; r < mo; r++) acc.v[i][r][v] = DC_FMA(wv[r], xv, acc.v[i][r][v]);
                }
            }
        }
    }
    // Epilogue while in registers: bias, pre-activation, residual, post-activation.
    const DC_MASK_T m = DC_MASK((int)tail);
    if (a->bias) {
        DC_UNROLL for (int r = 0; r < mo; r++) {
            const DC_VEC b = DC_BCAST(a->bias + r);
            DC_UNROLL for (int i = 0; i < rows; i++)
                DC_UNROLL for (int v = 0; v < nv; v++) acc.v[i][r][v] = DC_ADD(acc.v[i][r][v], b);
        }
    }
    if (a->pre.kind != CONVRT_ACT_NONE) dc_activate(&acc, &a->pre, rows, mo, nv);
    if (residual) {
        DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++) {
            const float *res = residual + i * out_step + r * a->out_plane;
            DC_UNROLL for (int v = 0; v < nv; v++)
                acc.v[i][r][v] = DC_ADD(acc.v[i][r][v], dc_load_part(res + v * DC_W, partial && v == nv - 1, m));
        }
    }
    if (a->post.kind != CONVRT_ACT_NONE) dc_activate(&acc, &a->post, rows, mo, nv);
    DC_UNROLL for (int i = 0; i < rows; i++) DC_UNROLL for (int r = 0; r < mo; r++) {
        float *out = y + i * out_step + r * a->out_plane;
        DC_UNROLL for (int v = 0; v < nv; v++)
            dc_store_part(out + v * DC_W, acc.v[i][r][v], partial && v == nv - 1, m);
    }
}

// `rows` output rows in chunks of at most nv_max vectors, balanced (7 vectors with nv_max 6:
// 4 + 3, not 6 + 1); the last chunk ends with the partial vector.
DC_INLINE void dc_rows(const dwconv_args *a, const float *x, float *y, const float *residual, size_t vectors,
                       size_t tail, const int rows, const int mo, const int nv_max) {
    const size_t chunks = (vectors + (size_t)nv_max - 1) / (size_t)nv_max;
    const size_t base = vectors / chunks, extra = vectors % chunks;
    size_t v0 = 0;
    for (size_t k = 0; k < chunks; k++) {
        const int nv = (int)(base + (k < extra));
        const int partial = k == chunks - 1 && tail < DC_W;
        const size_t col = v0 * DC_W;
        const float *res = residual ? residual + col : NULL;
        switch (nv) {
#define DC_CASE(n)                                                                                  \
    case n:                                                                                         \
        if (n <= nv_max)                                                                            \
            dc_tile(a, x + col, y + col, res, a->in_step_h, a->out_step_h, partial, tail, rows, mo, n); \
        break;
            DC_CASE(1) DC_CASE(2) DC_CASE(3) DC_CASE(4) DC_CASE(5) DC_CASE(6) DC_CASE(7) DC_CASE(8)
#undef DC_CASE
        default: break;
        }
        v0 += (size_t)nv;
    }
}

DC_INLINE void dc_band(const dwconv_args *a, const int mo, const int rows, const int nv_max) {
    const size_t vectors = (a->ow + DC_W - 1) / DC_W;
    const size_t tail = a->ow - (vectors - 1) * DC_W;  // lanes of the last vector, 1..W
    for (size_t d = 0; d < a->rows_d; d++) {
        size_t h = 0;
        for (; rows > 1 && h + (size_t)rows <= a->rows_h; h += (size_t)rows) {
            const size_t o = d * a->out_step_d + h * a->out_step_h;
            dc_rows(a, a->x + d * a->in_step_d + h * a->in_step_h, a->y + o, a->residual ? a->residual + o : NULL,
                    vectors, tail, rows, mo, nv_max);
        }
        for (; h < a->rows_h; h++) {
            const size_t o = d * a->out_step_d + h * a->out_step_h;
            dc_rows(a, a->x + d * a->in_step_d + h * a->in_step_h, a->y + o, a->residual ? a->residual + o : NULL,
                    vectors, tail, 1, mo, nv_max);
        }
    }
}

// dst[i] = src[i] for i < n.
DC_INLINE void dc_copy(float *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 2 * DC_W <= n; i += 2 * DC_W) {
        const DC_VEC a = DC_LOAD(src + i), b = DC_LOAD(src + i + DC_W);
        DC_STORE(dst + i, a);
        DC_STORE(dst + i + DC_W, b);
    }
    if (i + DC_W <= n) {
        DC_STORE(dst + i, DC_LOAD(src + i));
        i += DC_W;
    }
    if (i < n) {
        const DC_MASK_T m = DC_MASK((int)(n - i));
        DC_STOREM(dst + i, m, DC_LOADM(src + i, m));
    }
}

// dst[i] = src[i * stride] for i < n (stride > 1).
DC_INLINE void dc_gather(float *dst, const float *src, size_t n, size_t stride) {
    size_t i = 0;
#ifdef DC_EVENS
    // Whole vectors while 2W source floats exist (the row may end right after the last one).
    if (stride == 2)
        for (; 2 * (i + DC_W) <= 2 * n - 1; i += DC_W) DC_STORE(dst + i, DC_EVENS(src + 2 * i));
#endif
    for (; i < n; i++) dst[i] = src[i * stride];
}

DC_TARGET static void DC_CAT(DC_PREFIX, _fill_rows)(float *dst, size_t dst_stride, const float *src,
                                                    size_t src_stride, size_t rows, const dwconv_phase_span *phases,
                                                    size_t stride, size_t pad, size_t row_len) {
    if (stride == 1) {
        const size_t lo = phases[0].lo, n = phases[0].count;
        for (size_t r = 0; r < rows; r++) dc_copy(dst + r * dst_stride + lo, src + r * src_stride + (lo - pad), n);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t p = 0; p < stride; p++) {
            const dwconv_phase_span f = phases[p];
            if (f.count)
                dc_gather(dst + r * dst_stride + p * row_len + f.lo, src + r * src_stride + (f.lo * stride + p - pad),
                          f.count, stride);
        }
    }
}

#define DC_DEFINE(mo, rows, nv_max) \
    DC_TARGET static void DC_FN(mo)(const dwconv_args *a) { dc_band(a, mo, rows, nv_max); }

DC_DEFINE(1, DC_ROWS1, DC_NV1)
DC_DEFINE(2, 1, DC_NV2)
DC_DEFINE(3, 1, DC_NV3)
DC_DEFINE(4, 1, DC_NV4)


// MARK: - Square depthwise kernels (geometry compiled in)

// nv vectors of one output row of one channel: rows[kh] is input row kh (phase 0) at the
// first column, L the phase length; weight t at w[t * ws], broadcast once per tap.
DC_INLINE void dc_square_tile(const dwconv_args *a, const float *const *rows, size_t L, const float *w, size_t ws,
                              float *y, const float *residual, int partial, size_t tail, const int K, const int S,
                              const int nv) {
    DC_ACC acc;
    DC_UNROLL for (int v = 0; v < nv; v++) acc.v[0][0][v] = DC_ZERO();
    DC_UNROLL for (int kh = 0; kh < K; kh++) {
        DC_UNROLL for (int kw = 0; kw < K; kw++) {
            const float *p = rows[kh] + (kw % S) * L + kw / S;
            const DC_VEC wv = DC_BCAST(w + (size_t)(kh * K + kw) * ws);
            DC_UNROLL for (int v = 0; v < nv; v++) acc.v[0][0][v] = DC_FMA(wv, DC_LOAD(p + v * DC_W), acc.v[0][0][v]);
        }
    }
    const DC_MASK_T m = DC_MASK((int)tail);
    if (a->bias) {
        const DC_VEC b = DC_BCAST(a->bias);
        DC_UNROLL for (int v = 0; v < nv; v++) acc.v[0][0][v] = DC_ADD(acc.v[0][0][v], b);
    }
    if (a->pre.kind != CONVRT_ACT_NONE) dc_activate(&acc, &a->pre, 1, 1, nv);
    if (residual) {
        DC_UNROLL for (int v = 0; v < nv; v++)
            acc.v[0][0][v] = DC_ADD(acc.v[0][0][v], dc_load_part(residual + v * DC_W, partial && v == nv - 1, m));
    }
    if (a->post.kind != CONVRT_ACT_NONE) dc_activate(&acc, &a->post, 1, 1, nv);
    DC_UNROLL for (int v = 0; v < nv; v++) dc_store_part(y + v * DC_W, acc.v[0][0][v], partial && v == nv - 1, m);
}

// Channel r of the tile (weights [t][mo], bias and output of channel r) over the band.
DC_INLINE void dc_square_band(dwconv_args a, size_t mo, const int K, const int S) {
    const size_t vectors = (a.ow + DC_W - 1) / DC_W;
    const size_t tail = a.ow - (vectors - 1) * DC_W;
    const size_t chunks = (vectors + DC_SQNV - 1) / DC_SQNV;
    const size_t base = vectors / chunks, extra = vectors % chunks;
    const size_t L = a.row_len, kh_step = a.kh_step;
    const float *w = a.w;
    float *y0 = a.y;
    const float *bias = a.bias, *res0 = a.residual;
    for (size_t r = 0; r < mo; r++) {
        a.bias = bias ? bias + r : NULL;
        for (size_t d = 0; d < a.rows_d; d++) {
            for (size_t h = 0; h < a.rows_h; h++) {
                const float *x = a.x + d * a.in_step_d + h * a.in_step_h;
                const size_t o = r * a.out_plane + d * a.out_step_d + h * a.out_step_h;
                float *y = y0 + o;
                const float *res = res0 ? res0 + o : NULL;
                size_t col = 0;
                for (size_t k = 0; k < chunks; k++) {
                    const int nv = (int)(base + (k < extra));
                    const int partial = k == chunks - 1 && tail < DC_W;
                    const float *cr[7];
                    DC_UNROLL for (int kh = 0; kh < K; kh++) cr[kh] = x + (size_t)kh * kh_step + col;
                    switch (nv) {
#define DC_SQ_CASE(n)                                                                                           \
    case n:                                                                                                     \
        if (n <= DC_SQNV)                                                                                       \
            dc_square_tile(&a, cr, L, w + r, mo, y + col, res ? res + col : NULL, partial, tail, K, S, n);      \
        break;
                        DC_SQ_CASE(1) DC_SQ_CASE(2) DC_SQ_CASE(3) DC_SQ_CASE(4)
                        DC_SQ_CASE(5) DC_SQ_CASE(6) DC_SQ_CASE(7) DC_SQ_CASE(8)
#undef DC_SQ_CASE
                    default: break;
                    }
                    col += (size_t)nv * DC_W;
                }
            }
        }
    }
}

#define DC_SQUARE_FN(k, s) DC_CAT(DC_PREFIX, DC_CAT(_k##k, _s##s))
#define DC_SQUARE_DEFINE(k, s) \
    DC_TARGET static void DC_SQUARE_FN(k, s)(const dwconv_args *a, size_t mo) { dc_square_band(*a, mo, k, s); }
DC_SQUARE_DEFINE(3, 1)
DC_SQUARE_DEFINE(3, 2)
DC_SQUARE_DEFINE(5, 1)
DC_SQUARE_DEFINE(5, 2)
DC_SQUARE_DEFINE(7, 1)
DC_SQUARE_DEFINE(7, 2)
#define DC_SQUARES                                                                     \
    {{DC_SQUARE_FN(3, 1), DC_SQUARE_FN(3, 2)}, {DC_SQUARE_FN(5, 1), DC_SQUARE_FN(5, 2)}, \
     {DC_SQUARE_FN(7, 1), DC_SQUARE_FN(7, 2)}}

#define DC_BANDS {DC_FN(1), DC_FN(2), DC_FN(3), DC_FN(4)}
#define DC_FILL_ROWS DC_CAT(DC_PREFIX, _fill_rows)
