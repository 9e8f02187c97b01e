// The flat-plane depthwise kernel (see convrt_direct.h, convrt_dwflat_*), written once over
// the vector vocabulary of dwconv_template.h and instantiated by the x86 kernel files.
// Include after dwconv_cb_template.h (it uses dc_cb_activate_k). Needs, besides the vocabulary of
// dwconv_template.h:
//   DC_LOAD_AND(p, m)   the vector at p with the lanes whose 32-bit mask at m is zero cleared
//   DC_FLAT_U           vectors per step (accumulators in registers beside 9 weights)
//
// A stride-1 "same" convolution reads input pixel i + off(tap) for output pixel i of the
// flattened plane (i = h * W + w, off = row offset * W + column offset), so vectors run along
// the whole plane: no row ends inside a vector, every lane busy, no transposes. Rows above
// and below the plane come from the zero margins of the plane's copy; lanes whose column
// would wrap into the neighbouring row are cleared with a per-column-offset mask.

#include <string.h>

/// post(pre(acc + bias) + residual) of U vectors from pixel i on, stored.
DC_INLINE void dc_flat_store(const dwflat_args *a, const DC_VEC *acc, DC_VEC bias, float *y, const float *res,
                             size_t i, const int U, const int kind) {
    const size_t W = DC_W;
    DC_UNROLL for (int u = 0; u < U; u++) {
        DC_VEC v = dc_cb_activate_k(DC_ADD(acc[u], bias), kind, &a->pre);
        if (res) v = DC_ADD(v, DC_LOAD(res + i + u * W));
        DC_STORE(y + i + u * W, dc_cb_activate_k(v, a->post.kind, &a->post));
    }
}

/// U vectors of output pixels from pixel i on, any kernel: taps accumulated in order from zero.
DC_INLINE void dc_flat_step(const dwflat_args *a, const float *in, const float *w, size_t i, DC_VEC bias, float *y,
                            const float *res, const int U, const int kind) {
    const size_t W = DC_W;
    DC_VEC acc[DC_FLAT_U];
    DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_ZERO();
    for (size_t t = 0; t < a->taps; t++) {
        const DC_VEC wv = DC_SET1(w[t]);
        const float *x = in + i + a->off[t];
        const uint32_t *m = a->mask[t];
        if (m) {
            m += i;
            DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_FMA(wv, DC_LOAD_AND(x + u * W, m + u * W), acc[u]);
        } else {
            DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_FMA(wv, DC_LOAD(x + u * W), acc[u]);
        }
    }
    dc_flat_store(a, acc, bias, y, res, i, U, kind);
}

/// dc_flat_step for the common 3x3 with one pixel of padding all round: the taps unrolled,
/// column by column so that each of the two wrapping columns' masks is loaded once per
/// vector. Taps accumulate in the order (kw, kh).
DC_INLINE void dc_flat_step3(const dwflat_args *a, const float *in, const float *w, size_t i, DC_VEC bias, float *y,
                             const float *res, const int U, const int kind) {
    const size_t W = DC_W;
    const ptrdiff_t row = (ptrdiff_t)a->row_stride;
    DC_VEC acc[DC_FLAT_U];
    DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_ZERO();
    DC_UNROLL for (int kw = 0; kw < 3; kw++) {
        const uint32_t *m = kw == 0 ? a->mask[0] + i : kw == 2 ? a->mask[2] + i : NULL;
        DC_UNROLL for (int kh = 0; kh < 3; kh++) {
            const DC_VEC wv = DC_SET1(w[kh * 3 + kw]);
            const float *x = in + i + (kh - 1) * row + (kw - 1);
            if (kw == 1) {
                DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_FMA(wv, DC_LOAD(x + u * W), acc[u]);
            } else {
                DC_UNROLL for (int u = 0; u < U; u++) acc[u] = DC_FMA(wv, DC_LOAD_AND(x + u * W, m + u * W), acc[u]);
            }
        }
    }
    dc_flat_store(a, acc, bias, y, res, i, U, kind);
}

/// One channel: its plane copied between the zero margins, then every vector of it. The
/// last vector overlaps the one before rather than running a remainder: it recomputes some
/// pixels with the same instructions, so the same bits.
DC_INLINE void dc_flat_channel(const dwflat_args *a, size_t c, const int k3, const int kind) {
    const size_t W = DC_W, n = a->plane_floats, step = DC_FLAT_U * W;
    memcpy(a->plane, a->x + c * n, n * sizeof(float));
    const float *w = a->w + c * a->taps;
    const DC_VEC bias = DC_SET1(a->bias ? a->bias[c] : 0.0f);
    float *y = a->y + c * n;
    const float *res = a->residual ? a->residual + c * n : NULL;
#define DC_FLAT_STEP(i, U) \
    (k3 ? dc_flat_step3(a, a->plane, w, (i), bias, y, res, (U), kind) : dc_flat_step(a, a->plane, w, (i), bias, y, res, (U), kind))
    size_t i = 0;
    for (; i + step <= n; i += step) DC_FLAT_STEP(i, DC_FLAT_U);
    for (; i + W <= n; i += W) DC_FLAT_STEP(i, 1);
    if (i < n) DC_FLAT_STEP(n - W, 1);
#undef DC_FLAT_STEP
}

DC_INLINE void dc_flat_channels(const dwflat_args *a, const int k3) {
    for (size_t c = 0; c < a->count; c++) {
        switch (a->pre.kind) {
        case CONVRT_ACT_RELU: dc_flat_channel(a, c, k3, CONVRT_ACT_RELU); break;
        case CONVRT_ACT_CLAMP: dc_flat_channel(a, c, k3, CONVRT_ACT_CLAMP); break;
        case CONVRT_ACT_LEAKY_RELU: dc_flat_channel(a, c, k3, CONVRT_ACT_LEAKY_RELU); break;
        default: dc_flat_channel(a, c, k3, CONVRT_ACT_NONE); break;
        }
    }
}

/// One item: `count` channels of one image.
DC_TARGET static void DC_CAT(DC_PREFIX, _flat_item)(const dwflat_args *a) {
    if (a->k3) {
        dc_flat_channels(a, 1);
    } else {
        dc_flat_channels(a, 0);
    }
}

#define DC_FLAT_ITEM DC_CAT(DC_PREFIX, _flat_item)
