// Winograd F(4x4, 3x3) transforms in plain C, any CPU (compilers vectorise the lane loops).
// The operation order mirrors winograd_avx2.c exactly (see winograd_internal.h).
#include "winograd_internal.h"

#pragma STDC FP_CONTRACT OFF

// 1-D input transform, rows of B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
// 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
static inline void bt6(const float d[6], float o[6]) {
    const float p = d[4] - 4.0f * d[2], q = d[3] - 4.0f * d[1];
    const float r = d[4] - d[2], s = 2.0f * (d[3] - d[1]);
    o[0] = (4.0f * d[0] - 5.0f * d[2]) + d[4];
    o[1] = p + q;
    o[2] = p - q;
    o[3] = r + s;
    o[4] = r - s;
    o[5] = (4.0f * d[1] - 5.0f * d[3]) + d[5];
}

// 1-D output transform, rows of A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
static inline void at6(const float m[6], float o[4]) {
    const float a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    o[0] = (m[0] + a) + c;
    o[1] = b + 2.0f * d;
    o[2] = a + 4.0f * c;
    o[3] = (b + 8.0f * d) + m[5];
}

enum { BAND = 4 * WINO_LANES + 2 };  // input columns one group reads

static void input_portable(const convrt_winograd_f43 *w, const float *x, size_t ty, size_t tx0,
                           size_t n, float *v, size_t ldv, size_t pstride) {
    const long width = (long)w->in_w, height = (long)w->in_h;
    const long row0 = (long)ty * 4 - w->pad_top;
    for (size_t c = 0; c < w->in_channels; c++) {
        const float *plane = x + c * w->in_h * w->in_w;
        for (size_t g = 0; g < n; g += WINO_LANES) {
            const long col0 = (long)(tx0 + g) * 4 - w->pad_left;
            float t[6][BAND];  // vertical transform of the band, column by column
            for (int j = 0; j < BAND; j++) {
                const long col = col0 + j;
                float d[6], o[6];
                for (int r = 0; r < 6; r++) {
                    const long row = row0 + r;
                    d[r] = row >= 0 && row < height && col >= 0 && col < width ? plane[row * width + col] : 0.0f;
                }
                bt6(d, o);
                for (int i = 0; i < 6; i++) t[i][j] = o[i];
            }
            for (int i = 0; i < 6; i++) {
                for (int lane = 0; lane < WINO_LANES; lane++) {
                    float o[6];
                    bt6(&t[i][4 * lane], o);
                    for (int k = 0; k < 6; k++) v[(size_t)(i * 6 + k) * pstride + c * ldv + g + lane] = o[k];
                }
            }
        }
    }
}

static void output_portable(const convrt_winograd_f43 *w, const float *m, size_t ldm, size_t pstride,
                            size_t ty, size_t tx0, size_t n, const float *residual, float *y) {
    const size_t plane = w->out_h * w->out_w;
    for (size_t co = 0; co < w->out_channels; co++) {
        const float bias = w->bias ? w->bias[co] : 0.0f;
        const float *mc = m + co * ldm;
        for (size_t g = 0; g < n; g += WINO_LANES) {
            const size_t lanes = n - g < WINO_LANES ? n - g : WINO_LANES;
            for (size_t lane = 0; lane < lanes; lane++) {
                float s[4][6];
                for (int k = 0; k < 6; k++) {
                    float col[6], o[4];
                    for (int i = 0; i < 6; i++) col[i] = mc[(size_t)(i * 6 + k) * pstride + g + lane];
                    at6(col, o);
                    for (int r = 0; r < 4; r++) s[r][k] = o[r];
                }
                for (size_t r = 0; r < 4 && ty * 4 + r < w->out_h; r++) {
                    float o[4];
                    at6(s[r], o);
                    for (size_t j = 0; j < 4; j++) {
                        const size_t ox = (tx0 + g + lane) * 4 + j;
                        if (ox >= w->out_w) break;
                        const size_t at = co * plane + (ty * 4 + r) * w->out_w + ox;
                        float value = wino_activation(o[j] + bias, &w->pre);
                        if (residual) value = value + residual[at];
                        y[at] = wino_activation(value, &w->post);
                    }
                }
            }
        }
    }
}

static const wino_transforms set = {input_portable, output_portable};

const wino_transforms *wino_transforms_portable(void) { return &set; }
