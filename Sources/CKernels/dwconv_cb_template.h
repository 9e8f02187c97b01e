// The channel-blocked depthwise kernel (see convrt_direct.h, convrt_dwcb_*), written once
// over the vector vocabulary of dwconv_template.h and instantiated by the x86 kernel files.
// Include after dwconv_template.h, x86-64 only (the transposes are AVX2 8 x 8 blocks, also
// inside the AVX-512 kernel, whose 16 lanes are two such blocks).
//
// Lanes are channels: a vector holds one pixel of DC_W consecutive channels, so any plane
// size fills every lane (the row-vector kernels of dwconv_template.h waste lanes and pay a
// per-channel setup on 7x7 or 14x14 planes). An item copies its channels' input planes
// transposed into a zero-padded band [hp][wp][W], computes each output row into a row
// buffer [ow][W], and transposes that back into the NCHW output with the epilogue.


#define DC_CB_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/// The first n (1..8) lanes set.
DC_CB_INLINE __m256i dc_cb_mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// 8 x 8 in registers: r[i][j] -> r[j][i].
DC_CB_INLINE void dc_cb_transpose(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) r[i] = t[i];
}

/// dc_cb_activate on 8 lanes.
DC_CB_INLINE __m256 dc_cb_activate8(__m256 x, const convrt_dwconv_activation *act) {
    const __m256 zero = _mm256_setzero_ps();
    switch (act->kind) {
    case CONVRT_ACT_RELU: return _mm256_add_ps(_mm256_max_ps(zero, x), zero);
    case CONVRT_ACT_CLAMP: return _mm256_min_ps(_mm256_set1_ps(act->hi), _mm256_max_ps(_mm256_set1_ps(act->lo), x));
    case CONVRT_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(act->slope)), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    default: return x;
    }
}

/// Up to 8 channels (planes `ss` floats apart) x up to 8 columns of one input row into
/// band pixels `ds` floats apart (lanes of the channels; other lanes get zeros).
DC_CB_INLINE void dc_cb_fill8(float *dst, size_t ds, const float *src, size_t ss, size_t channels, size_t cols) {
    __m256 r[8];
    const __m256i m = dc_cb_mask(cols);
    for (size_t i = 0; i < 8; i++)
        r[i] = i >= channels ? _mm256_setzero_ps() : cols == 8 ? _mm256_loadu_ps(src + i * ss) : _mm256_maskload_ps(src + i * ss, m);
    dc_cb_transpose(r);
    for (size_t j = 0; j < cols; j++) _mm256_storeu_ps(dst + j * ds, r[j]);
}

/// The band's interior: input rows [0, rows) x columns [0, cols) of the block's channels.
DC_INLINE void dc_cb_fill(const dwcb_args *a, size_t rows, size_t cols) {
    const size_t W = DC_W;
    for (size_t r = 0; r < rows; r++) {
        float *dst = a->band + ((r + a->pad_t) * a->wp + a->pad_l) * W;
        const float *src = a->x + r * a->iw;
        for (size_t l = 0; l < a->count; l += 8) {
            const size_t channels = a->count - l < 8 ? a->count - l : 8;
            for (size_t c = 0; c < cols; c += 8)
                dc_cb_fill8(dst + c * W + l, W, src + l * a->in_plane + c, a->in_plane, channels, cols - c < 8 ? cols - c : 8);
        }
    }
}

/// Stores the first n (1..7) lanes: 4/2/1-float stores, since VMASKMOVPS stores are
/// microcoded and slow on AMD cores.
DC_CB_INLINE void dc_cb_store_part(float *p, __m256 v, size_t n) {
    __m128 x = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, x);
        p += 4;
        x = _mm256_extractf128_ps(v, 1);
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)p, x);
        p += 2;
        x = _mm_movehl_ps(x, x);
    }
    if (n & 1) _mm_store_ss(p, x);
}

/// Up to 8 pixels (row-buffer pixels `bs` floats apart) x up to 8 channels into the output
/// planes (`ys` floats apart) through residual and post activation.
DC_CB_INLINE void dc_cb_store8(float *y, size_t ys, const float *buf, size_t bs, const float *res, size_t channels,
                               size_t pixels, const convrt_dwconv_activation *post) {
    __m256 r[8];
    for (size_t j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(buf + j * bs);
    dc_cb_transpose(r);
    const __m256i m = dc_cb_mask(pixels);
    for (size_t i = 0; i < channels; i++) {
        __m256 v = r[i];
        if (res) v = _mm256_add_ps(v, pixels == 8 ? _mm256_loadu_ps(res + i * ys) : _mm256_maskload_ps(res + i * ys, m));
        v = dc_cb_activate8(v, post);
        if (pixels == 8) {
            _mm256_storeu_ps(y + i * ys, v);
        } else {
            dc_cb_store_part(y + i * ys, v, pixels);
        }
    }
}

/// Output row `oh` from the row buffer into y: post(v + residual) per channel.
DC_INLINE void dc_cb_store_row(const dwcb_args *a, size_t oh) {
    const size_t W = DC_W, ow = a->ow;
    float *y = a->y + oh * ow;
    const float *res = a->residual ? a->residual + oh * ow : NULL;
    for (size_t l = 0; l < a->count; l += 8) {
        const size_t channels = a->count - l < 8 ? a->count - l : 8;
        for (size_t p = 0; p < ow; p += 8)
            dc_cb_store8(y + l * a->out_plane + p, a->out_plane, a->row + p * W + l, W,
                         res ? res + l * a->out_plane + p : NULL, channels, ow - p < 8 ? ow - p : 8, &a->post);
    }
}

/// dc_cb_activate with the kind a compile-time constant (the switch leaves the loops).
DC_INLINE DC_VEC dc_cb_activate_k(DC_VEC x, const int kind, const convrt_dwconv_activation *act) {
    const DC_VEC zero = DC_ZERO();
    switch (kind) {
    case CONVRT_ACT_RELU: return DC_ADD(DC_MAX(zero, x), zero);  // keeps NaN; -0 -> +0
    case CONVRT_ACT_CLAMP: return DC_MIN(DC_SET1(act->hi), DC_MAX(DC_SET1(act->lo), x));
    case CONVRT_ACT_LEAKY_RELU: return DC_LEAKY(x, DC_SET1(act->slope));
    default: return x;
    }
}

/// One tap's weight vector: from registers for a compiled 3x3 in 4-pixel steps, else loaded
/// (L1) so that 8 accumulators fit beside it.
#define DC_CB_WEIGHT(t) (k3 && U <= 4 ? wk[(t)] : DC_LOAD(a->w + (t) * W))

/// U output pixels from column p of row oh into the row buffer: taps (kh, kw) accumulated in
/// order from zero, then + bias, then the pre activation `kind`.
DC_INLINE void dc_cb_step(const dwcb_args *a, const float *in, size_t p, const DC_VEC *wk, DC_VEC bias,
                          const int U, const int k3, const int kind) {
    const size_t W = DC_W, sw = a->sw;
    const size_t KH = k3 ? 3 : a->kh, KW = k3 ? 3 : a->kw;
    const size_t tap_h = a->dh * a->wp * W, tap_w = a->dw * W;
    DC_VEC acc[8];
    DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_ZERO();
    for (size_t kh = 0; kh < KH; kh++) {
        const float *x = in + kh * tap_h + p * sw * W;
        for (size_t kw = 0; kw < KW; kw++) {
            const DC_VEC wv = DC_CB_WEIGHT(kh * KW + kw);
            DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_FMA(wv, DC_LOAD(x + kw * tap_w + u * sw * W), acc[u]);
        }
    }
    DC_UNROLL for (int u = 0; u < U; u++)
        DC_STORE(a->row + (p + u) * W, dc_cb_activate_k(DC_ADD(acc[u], bias), kind, &a->pre));
}

/// Every output row, in steps of U pixels (8 accumulators hide the FMA latency; 4 on rows
/// narrower than 8). The last step of a row overlaps the one before rather than running a
/// remainder loop: it recomputes some pixels with the same instructions, so the same bits.
DC_INLINE void dc_cb_rows(const dwcb_args *a, const int k3, const int kind) {
    const size_t W = DC_W, ow = a->ow;
    const DC_VEC bias = DC_LOAD(a->bias);
    DC_VEC wk[9];
    if (k3) DC_UNROLL for (int t = 0; t < 9; t++) wk[t] = DC_LOAD(a->w + t * W);
    for (size_t oh = 0; oh < a->oh; oh++) {
        const float *in = a->band + oh * a->sh * a->wp * W;
        if (ow >= 8) {
            for (size_t p = 0; p < ow; p += 8) dc_cb_step(a, in, p + 8 <= ow ? p : ow - 8, wk, bias, 8, k3, kind);
        } else if (ow >= 4) {
            dc_cb_step(a, in, 0, wk, bias, 4, k3, kind);
            for (size_t p = 4; p < ow; p++) dc_cb_step(a, in, p, wk, bias, 1, k3, kind);
        } else {
            for (size_t p = 0; p < ow; p++) dc_cb_step(a, in, p, wk, bias, 1, k3, kind);
        }
        dc_cb_store_row(a, oh);
    }
}

DC_INLINE void dc_cb_rows_k3(const dwcb_args *a, const int k3) {
    switch (a->pre.kind) {
    case CONVRT_ACT_RELU: dc_cb_rows(a, k3, CONVRT_ACT_RELU); break;
    case CONVRT_ACT_CLAMP: dc_cb_rows(a, k3, CONVRT_ACT_CLAMP); break;
    case CONVRT_ACT_LEAKY_RELU: dc_cb_rows(a, k3, CONVRT_ACT_LEAKY_RELU); break;
    default: dc_cb_rows(a, k3, CONVRT_ACT_NONE); break;
    }
}

/// One item: fill the band, then every output row.
DC_TARGET static void DC_CAT(DC_PREFIX, _cb_item)(const dwcb_args *a) {
    // Input rows/columns past the band's end (a stride that skips them) are never read.
    const size_t room_h = a->hp > a->pad_t ? a->hp - a->pad_t : 0, room_w = a->wp > a->pad_l ? a->wp - a->pad_l : 0;
    const size_t rows = a->ih < room_h ? a->ih : room_h, cols = a->iw < room_w ? a->iw : room_w;
    dc_cb_fill(a, rows, cols);
    if (a->kh == 3 && a->kw == 3) {
        dc_cb_rows_k3(a, 1);
    } else {
        dc_cb_rows_k3(a, 0);
    }
}

#define DC_CB_ITEM DC_CAT(DC_PREFIX, _cb_item)
