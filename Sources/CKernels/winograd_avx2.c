// Winograd F(4x4, 3x3) transforms for x86-64 AVX2: one tile per lane, 8 tiles of a tile row
// per group. Input: the vertical 1-D transform runs on contiguous input columns, then an
// in-register 4-way deinterleave gives each tile's columns for the horizontal one. Output:
// vertical then horizontal 1-D transforms, then a 4-way interleave back to pixel rows, the
// epilogue and plain stores. Same operations, same order as winograd_portable.c.
#include "winograd_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

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

// Columns [col, col + lanes) of one input row (NULL: a padding row), zero outside the image.
WI __m256 load_columns(const float *row, long col, long width, int lanes) {
    if (!row) return _mm256_setzero_ps();
    if (col >= 0 && col + 8 <= width) return _mm256_loadu_ps(row + col);
    float tmp[8] = {0};
    for (int l = 0; l < lanes; l++) {
        const long c = col + l;
        if (c >= 0 && c < width) tmp[l] = row[c];
    }
    return _mm256_loadu_ps(tmp);
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
    // Columns 4l+4, 4l+5 are the next tile's first two: shift one lane, take the last from t[4].
    const __m256i next = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    c[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(c[0], next),
                           _mm256_permutevar8x32_ps(t[4], _mm256_set1_epi32(0)), 0x80);
    c[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(c[1], next),
                           _mm256_permutevar8x32_ps(t[4], _mm256_set1_epi32(1)), 0x80);
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

WT static void input_avx2(const convrt_winograd_f43 *w, const float *x, size_t ty, size_t tx0,
                          size_t n, float *v, size_t ldv, size_t pstride) {
    const long width = (long)w->in_w, height = (long)w->in_h;
    const long row0 = (long)ty * 4 - w->pad_top;
    for (size_t c = 0; c < w->in_channels; c++) {
        const float *plane = x + c * w->in_h * w->in_w;
        const float *rows[6];
        for (int r = 0; r < 6; r++) {
            const long row = row0 + r;
            rows[r] = row >= 0 && row < height ? plane + row * width : NULL;
        }
        float *vc = v + c * ldv;
        for (size_t g = 0; g < n; g += WINO_LANES) {
            const long col0 = (long)(tx0 + g) * 4 - w->pad_left;
            __m256 t[6][5];
            for (int j = 0; j < 5; j++) {
                __m256 d[6], o[6];
                for (int r = 0; r < 6; r++) d[r] = load_columns(rows[r], col0 + 8 * j, width, j < 4 ? 8 : 2);
                bt6(d, o);
                for (int i = 0; i < 6; i++) t[i][j] = o[i];
            }
            for (int i = 0; i < 6; i++) {
                __m256 cols[6], o[6];
                deinterleave(t[i], cols);
                bt6(cols, o);
                for (int k = 0; k < 6; k++) _mm256_storeu_ps(vc + (size_t)(i * 6 + k) * pstride + g, o[k]);
            }
        }
    }
}

WI __m256 activation(__m256 x, const convrt_winograd_activation *a) {
    const __m256 zero = _mm256_setzero_ps();
    switch (a->kind) {
    case CONVRT_ACT_RELU: return _mm256_add_ps(_mm256_max_ps(zero, x), zero);
    case CONVRT_ACT_CLAMP:
        return _mm256_min_ps(_mm256_set1_ps(a->hi), _mm256_max_ps(_mm256_set1_ps(a->lo), x));
    case CONVRT_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(a->slope)), x,
                                _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    default: return x;
    }
}

// The epilogue on 8 output pixels, `count` of them stored (the rest lie past the row's end).
WI void store_pixels(const convrt_winograd_f43 *w, __m256 acc, __m256 bias, const float *residual,
                     float *y, size_t count) {
    __m256 value = activation(_mm256_add_ps(acc, bias), &w->pre);
    float tmp[8] = {0};
    if (residual) {
        if (count < 8)
            for (size_t l = 0; l < count; l++) tmp[l] = residual[l];
        value = _mm256_add_ps(value, _mm256_loadu_ps(count < 8 ? tmp : residual));
    }
    value = activation(value, &w->post);
    if (count >= 8) {
        _mm256_storeu_ps(y, value);
        return;
    }
    _mm256_storeu_ps(tmp, value);
    for (size_t l = 0; l < count; l++) y[l] = tmp[l];
}

WT static void output_avx2(const convrt_winograd_f43 *w, const float *m, size_t ldm, size_t pstride,
                           size_t ty, size_t tx0, size_t n, const float *residual, float *y) {
    const size_t plane = w->out_h * w->out_w;
    const size_t rows = w->out_h - ty * 4 < 4 ? w->out_h - ty * 4 : 4;
    for (size_t co = 0; co < w->out_channels; co++) {
        const __m256 bias = _mm256_set1_ps(w->bias ? w->bias[co] : 0.0f);
        const float *mc = m + co * ldm;
        for (size_t g = 0; g < n; g += WINO_LANES) {
            __m256 s[4][6];
            for (int k = 0; k < 6; k++) {
                __m256 col[6], o[4];
                for (int i = 0; i < 6; i++) col[i] = _mm256_loadu_ps(mc + (size_t)(i * 6 + k) * pstride + g);
                at6(col, o);
                for (int r = 0; r < 4; r++) s[r][k] = o[r];
            }
            const size_t x0 = (tx0 + g) * 4, lanes = n - g < WINO_LANES ? n - g : WINO_LANES;
            const size_t valid = w->out_w - x0 < 4 * lanes ? w->out_w - x0 : 4 * lanes;
            for (size_t r = 0; r < rows; r++) {
                __m256 pix[4], out[4];
                at6(s[r], pix);
                interleave(pix, out);
                const size_t at = co * plane + (ty * 4 + r) * w->out_w + x0;
                for (size_t q = 0; q * 8 < valid; q++) {
                    store_pixels(w, out[q], bias, residual ? residual + at + q * 8 : NULL, y + at + q * 8,
                                 valid - q * 8);
                }
            }
        }
    }
}

static const wino_transforms set = {input_avx2, output_avx2};

const wino_transforms *wino_transforms_avx2(void) { return &set; }

#else
const wino_transforms *wino_transforms_avx2(void) { return 0; }
#endif
