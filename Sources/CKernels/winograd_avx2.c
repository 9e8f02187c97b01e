// Winograd F(4x4, 3x3) transforms for x86-64 AVX2: one tile per lane, 8 tiles of a tile row
// per group. Input: the vertical 1-D transform runs on contiguous input columns, then an
// in-register 4-way deinterleave gives each tile's columns for the horizontal one. Output:
// vertical then horizontal 1-D transforms, then a 4-way interleave back to pixel rows, the
// epilogue and plain stores. Same operations, same order as winograd_portable.c.
#include "winograd_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <stdint.h>

#pragma STDC FP_CONTRACT OFF

#define WT __attribute__((target("avx2,fma")))
#define WI static inline __attribute__((always_inline)) WT

WI __m256 mul_k(float k, __m256 x) { return _mm256_mul_ps(_mm256_set1_ps(k), x); }

WI void bt6(const __m256 d[6], __m256 o[6]) {
    const __m256 p = _mm256_sub_ps(d[4], mul_k(4.0f, d[2])), q = _mm256_sub_ps(d[3], mul_k(4.0f, d[1]));
    const __m256 r = _mm256_sub_ps(d[4], d[2]), s = mul_k(2.0f, _mm256_sub_ps(d[3], d[1]));
    o[0] = _mm256_add_ps(_mm256_sub_ps(mul_k(4.0f, d[0]), mul_k(5.0f, d[2])), d[4]);
    o[1] = _mm256_add_ps(p, q);
    o[2] = _mm256_sub_ps(p, q);
    o[3] = _mm256_add_ps(r, s);
    o[4] = _mm256_sub_ps(r, s);
    o[5] = _mm256_add_ps(_mm256_sub_ps(mul_k(4.0f, d[1]), mul_k(5.0f, d[3])), d[5]);
}

WI void at6(const __m256 m[6], __m256 o[4]) {
    const __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]);
    const __m256 c = _mm256_add_ps(m[3], m[4]), d = _mm256_sub_ps(m[3], m[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
    o[1] = _mm256_add_ps(b, mul_k(2.0f, d));
    o[2] = _mm256_add_ps(a, mul_k(4.0f, c));
    o[3] = _mm256_add_ps(_mm256_add_ps(b, mul_k(8.0f, d)), m[5]);
}

// The lanes of columns [col, col + 8) inside [0, width).
WI __m256i column_mask(long col, long width) {
    const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int)col), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), index),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), index));
}

// t[0..3] hold 32 consecutive columns (tile l's at 4l .. 4l+3), t[4] columns 32, 33:
// c[j][l] = column 4l + j for j < 6.
WI void deinterleave(const __m256 t[5], __m256 c[6]) {
    const __m256 p0 = _mm256_permute2f128_ps(t[0], t[2], 0x20), p1 = _mm256_permute2f128_ps(t[0], t[2], 0x31);
    const __m256 p2 = _mm256_permute2f128_ps(t[1], t[3], 0x20), p3 = _mm256_permute2f128_ps(t[1], t[3], 0x31);
    const __m256 u0 = _mm256_unpacklo_ps(p0, p1), u1 = _mm256_unpackhi_ps(p0, p1);
    const __m256 u2 = _mm256_unpacklo_ps(p2, p3), u3 = _mm256_unpackhi_ps(p2, p3);
    c[0] = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0));
    c[1] = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
    c[2] = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0));
    c[3] = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
    // Columns 4l+4, 4l+5 are the next tile's first two: shift c0, c1 one lane, taking the last
    // from t[4] (byte shifts across the 128-bit halves; a scalar read of t[4] would stall on
    // its store to the stack).
    const __m256 next0 = _mm256_permute2f128_ps(c[0], t[4], 0x21);  // c0[4..7], t4[0..3]
    const __m256 t4s = _mm256_permute_ps(t[4], _MM_SHUFFLE(0, 0, 0, 1));  // t4[1] first
    const __m256 next1 = _mm256_permute2f128_ps(c[1], t4s, 0x21);   // c1[4..7], t4[1], ...
    c[4] = _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(next0), _mm256_castps_si256(c[0]), 4));
    c[5] = _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(next1), _mm256_castps_si256(c[1]), 4));
}

// y[j][l] = pixel j of tile l -> out[v] = pixels 8v .. 8v+7 of the row (tile l at 4l).
WI void interleave(const __m256 y[4], __m256 out[4]) {
    const __m256 u0 = _mm256_unpacklo_ps(y[0], y[1]), u1 = _mm256_unpackhi_ps(y[0], y[1]);
    const __m256 u2 = _mm256_unpacklo_ps(y[2], y[3]), u3 = _mm256_unpackhi_ps(y[2], y[3]);
    const __m256 w0 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 w1 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 w2 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 w3 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
    out[0] = _mm256_permute2f128_ps(w0, w1, 0x20);
    out[1] = _mm256_permute2f128_ps(w2, w3, 0x20);
    out[2] = _mm256_permute2f128_ps(w0, w1, 0x31);
    out[3] = _mm256_permute2f128_ps(w2, w3, 0x31);
}

// One group of 8 tiles of one channel: `at[r]` points at column 0 of the group's input row r
// (possibly outside the image: then `mask` is given and masks off every lane outside, and
// masked-off lanes are never accessed).
WI void input_group(const float *const at[6], const __m256i mask[6][5], float *v, size_t pstride) {
    __m256 t[6][5];
    for (int j = 0; j < 5; j++) {  // vertical 1-D transforms of 8 contiguous columns
        __m256 d[6], o[6];
        for (int r = 0; r < 6; r++)
            d[r] = mask ? _mm256_maskload_ps(at[r] + 8 * j, mask[r][j]) : _mm256_loadu_ps(at[r] + 8 * j);
        bt6(d, o);
        for (int i = 0; i < 6; i++) t[i][j] = o[i];
    }
    for (int i = 0; i < 6; i++) {  // horizontal ones, one tile per lane
        __m256 cols[6], o[6];
        deinterleave(t[i], cols);
        bt6(cols, o);
        for (int k = 0; k < 6; k++) _mm256_storeu_ps(v + (size_t)(i * 6 + k) * pstride, o[k]);
    }
}

// Masks of a group's 6 rows x 5 column vectors: lanes inside the image.
WI void group_masks(__m256i mask[6][5], const int row_ok[6], long col0, long width) {
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < 5; j++)
            mask[r][j] = row_ok[r] ? column_mask(col0 + 8 * j, width) : _mm256_setzero_si256();
}

enum { EDGE_SLOTS = 3 };  // groups crossing a side of the image: the first, the last one or two

WT static void input_avx2(const convrt_winograd_f43 *w, const float *x, size_t ty, size_t tx0,
                          size_t n, float *v, size_t ldv, size_t pstride) {
    const long width = (long)w->in_w, height = (long)w->in_h, plane = (long)(w->in_h * w->in_w);
    const long row0 = (long)ty * 4 - w->pad_top;
    // Which rows exist is the same for every group and channel; which columns, for every
    // channel: the masks are made once per segment (a few groups cross the image's sides).
    long offset[6];
    int rows_inside = 1, row_ok[6];
    for (int r = 0; r < 6; r++) {
        row_ok[r] = row0 + r >= 0 && row0 + r < height;
        offset[r] = row_ok[r] ? (row0 + r) * width : 0;
        rows_inside &= row_ok[r];
    }
    __m256i rows_mask[6][5], edge_mask[EDGE_SLOTS][6][5], spare[6][5];
    size_t edge_group[EDGE_SLOTS];
    int edges = 0;
    if (!rows_inside) group_masks(rows_mask, row_ok, 0, 8 * 5);
    for (size_t g = 0; g < n && edges < EDGE_SLOTS; g += WINO_LANES) {
        const long col0 = (long)(tx0 + g) * 4 - w->pad_left;
        if (col0 >= 0 && col0 + 40 <= width) continue;
        edge_group[edges] = g;
        group_masks(edge_mask[edges++], row_ok, col0, width);
    }
    // Channel by channel, so each group's stores finish the cache lines the previous began.
    for (size_t c = 0; c < w->in_channels; c++) {
        // Addresses as integers: a padded group starts before its row (never dereferenced).
        const uintptr_t base = (uintptr_t)(x + c * (size_t)plane);
        for (size_t g = 0; g < n; g += WINO_LANES) {
            const long col0 = (long)(tx0 + g) * 4 - w->pad_left;
            const float *at[6];
            for (int r = 0; r < 6; r++) at[r] = (const float *)(base + (uintptr_t)((offset[r] + col0) * 4));
            float *vg = v + c * ldv + g;
            // The rows of a channel ahead are rarely in cache for a fresh image: fetch them early.
            if (c + 2 < w->in_channels)
                for (int r = 0; r < 6; r++)
                    if (row_ok[r]) {
                        const char *ahead = (const char *)at[r] + 2 * plane * (long)sizeof(float);
                        _mm_prefetch(ahead, _MM_HINT_T0);
                        _mm_prefetch(ahead + 64, _MM_HINT_T0);
                        _mm_prefetch(ahead + 128, _MM_HINT_T0);
                    }
            if (col0 >= 0 && col0 + 40 <= width) {
                if (rows_inside) {
                    input_group(at, NULL, vg, pstride);
                } else {
                    input_group(at, (const __m256i (*)[5])rows_mask, vg, pstride);
                }
                continue;
            }
            int slot = 0;
            while (slot < edges && edge_group[slot] != g) slot++;
            if (slot == edges) group_masks(spare, row_ok, col0, width);  // padding wider than a group
            input_group(at, (const __m256i (*)[5])(slot < edges ? edge_mask[slot] : spare), vg, pstride);
        }
    }
}

// One activation's parameters in registers; `kind` < 0 reads the kind at run time.
typedef struct {
    int kind;
    __m256 lo, hi, slope;
} act_regs;

WI act_regs act_load(const convrt_winograd_activation *a, int kind) {
    act_regs r = {kind < 0 ? a->kind : kind, _mm256_set1_ps(a->lo), _mm256_set1_ps(a->hi), _mm256_set1_ps(a->slope)};
    return r;
}

WI __m256 activation(__m256 x, const act_regs *a) {
    const __m256 zero = _mm256_setzero_ps();
    switch (a->kind) {
    case CONVRT_ACT_RELU: return _mm256_add_ps(_mm256_max_ps(zero, x), zero);
    case CONVRT_ACT_CLAMP: return _mm256_min_ps(a->hi, _mm256_max_ps(a->lo, x));
    case CONVRT_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, a->slope), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    default: return x;
    }
}

// post(pre(acc + bias) + residual) on 8 pixels; `residual` may be NULL.
WI __m256 epilogue(__m256 acc, __m256 bias, const float *residual, const act_regs *pre, const act_regs *post) {
    __m256 value = activation(_mm256_add_ps(acc, bias), pre);
    if (residual) value = _mm256_add_ps(value, _mm256_loadu_ps(residual));
    return activation(value, post);
}

// The epilogue on 8 pixels of which only the first `count` exist (a row's ragged end).
WI void store_partial(__m256 acc, __m256 bias, const float *residual, float *y, size_t count,
                      const act_regs *pre, const act_regs *post) {
    float tmp[8] = {0};
    if (residual)
        for (size_t l = 0; l < count; l++) tmp[l] = residual[l];
    _mm256_storeu_ps(tmp, epilogue(acc, bias, residual ? tmp : NULL, pre, post));
    for (size_t l = 0; l < count; l++) y[l] = tmp[l];
}

// The output transform with the epilogue's activations fixed at compile time when the
// kinds are constants (the dispatcher below), so the inner loop has no branches on them.
WI void output_tiles(const convrt_winograd_f43 *w, const float *m, size_t ldm, size_t pstride, size_t ty,
                     size_t tx0, size_t n, const float *residual, float *y, int pre_kind, int post_kind) {
    const act_regs pre = act_load(&w->pre, pre_kind), post = act_load(&w->post, post_kind);
    const size_t plane = w->out_h * w->out_w, out_w = w->out_w;
    const size_t rows = w->out_h - ty * 4 < 4 ? w->out_h - ty * 4 : 4;
    for (size_t co = 0; co < w->out_channels; co++) {
        const __m256 bias = _mm256_set1_ps(w->bias ? w->bias[co] : 0.0f);
        const float *mc = m + co * ldm;
        for (size_t g = 0; g < n; g += WINO_LANES) {
            __m256 s[4][6];
            for (int k = 0; k < 6; k++) {  // vertical 1-D transforms, one tile per lane
                __m256 col[6], o[4];
                for (int i = 0; i < 6; i++) col[i] = _mm256_loadu_ps(mc + (size_t)(i * 6 + k) * pstride + g);
                at6(col, o);
                for (int r = 0; r < 4; r++) s[r][k] = o[r];
            }
            const size_t x0 = (tx0 + g) * 4, lanes = n - g < WINO_LANES ? n - g : WINO_LANES;
            const size_t valid = out_w - x0 < 4 * lanes ? out_w - x0 : 4 * lanes;
            for (size_t r = 0; r < rows; r++) {
                __m256 pix[4], out[4];
                at6(s[r], pix);
                interleave(pix, out);
                const size_t at = co * plane + (ty * 4 + r) * out_w + x0;
                const float *res = residual ? residual + at : NULL;
                if (valid == 32) {
                    for (int q = 0; q < 4; q++)
                        _mm256_storeu_ps(y + at + 8 * q, epilogue(out[q], bias, res ? res + 8 * q : NULL, &pre, &post));
                    continue;
                }
                for (size_t q = 0; q * 8 < valid; q++) {
                    if (valid - q * 8 >= 8) {
                        _mm256_storeu_ps(y + at + 8 * q, epilogue(out[q], bias, res ? res + 8 * q : NULL, &pre, &post));
                    } else {
                        store_partial(out[q], bias, res ? res + 8 * q : NULL, y + at + 8 * q, valid - q * 8, &pre, &post);
                    }
                }
            }
        }
    }
}

WT static void output_avx2(const convrt_winograd_f43 *w, const float *m, size_t ldm, size_t pstride,
                           size_t ty, size_t tx0, size_t n, const float *residual, float *y) {
    const int pre = w->pre.kind, post = w->post.kind;
#define WINO_CASE(P, Q)                                                                  \
    if (pre == (P) && post == (Q)) {                                                     \
        output_tiles(w, m, ldm, pstride, ty, tx0, n, residual, y, (P), (Q));             \
        return;                                                                          \
    }
    // The epilogues convolutions mostly have: none, ReLU, ReLU after a residual.
    WINO_CASE(CONVRT_ACT_NONE, CONVRT_ACT_NONE)
    WINO_CASE(CONVRT_ACT_RELU, CONVRT_ACT_NONE)
    WINO_CASE(CONVRT_ACT_NONE, CONVRT_ACT_RELU)
    WINO_CASE(CONVRT_ACT_RELU, CONVRT_ACT_RELU)
#undef WINO_CASE
    output_tiles(w, m, ldm, pstride, ty, tx0, n, residual, y, -1, -1);
}

static const wino_transforms set = {input_avx2, output_avx2};

const wino_transforms *wino_transforms_avx2(void) { return &set; }

#else
const wino_transforms *wino_transforms_avx2(void) { return 0; }
#endif
