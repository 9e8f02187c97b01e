// Bodies of col2im / im2col, instantiated once per ISA by col2im.c with C2I_TARGET (a
// function attribute) and C2I_SUFFIX. Plain loops the compiler vectorises for the target:
// contiguous adds and copies, with the stride-2 interleave written out so it vectorises too.

#define C2I_CAT2(a, b) a##_##b
#define C2I_CAT(a, b) C2I_CAT2(a, b)
#define C2I_FN(name) C2I_CAT(name, C2I_SUFFIX)
// Rows are often short (16-64 floats): one vector per iteration keeps them out of the
// scalar remainder that a 4x-interleaved loop would leave them in.
#if defined(__clang__)
#define C2I_SHORT_LOOP _Pragma("clang loop interleave_count(1)")
#else
#define C2I_SHORT_LOOP
#endif

/// x = activation(x) over n floats (matching Activation.apply in Swift, NaN included).
static C2I_TARGET void C2I_FN(c2i_activate)(const convrt_col2im_activation *a, float *x, ptrdiff_t n) {
    switch (a->kind) {
    case CONVRT_ACT_RELU:
        for (ptrdiff_t i = 0; i < n; i++) {
            const float v = x[i];
            x[i] = (v > 0.0f || v != v) ? v : 0.0f;
        }
        break;
    case CONVRT_ACT_CLAMP: {
        const float lo = a->lo, hi = a->hi;
        for (ptrdiff_t i = 0; i < n; i++) {
            float v = x[i];
            v = v < lo ? lo : v;  // NaN compares false and passes through
            x[i] = v > hi ? hi : v;
        }
        break;
    }
    case CONVRT_ACT_LEAKY_RELU: {
        const float slope = a->slope;
        for (ptrdiff_t i = 0; i < n; i++) {
            const float v = x[i];
            x[i] = v > 0.0f ? v : v * slope;
        }
        break;
    }
    default: break;
    }
}

/// Sums one image row's taps for phase r (image columns r, r+SW, ...) into acc[0 ..< n].
static C2I_TARGET void C2I_FN(c2i_phase)(const convrt_window3d *w, const float *columns, size_t ld,
                                         ptrdiff_t od, ptrdiff_t oh, ptrdiff_t r, float *acc, ptrdiff_t n) {
    const ptrdiff_t GH = w->grid[1], GW = w->grid[2], KH = w->kernel[1], KW = w->kernel[2];
    const ptrdiff_t SW = w->stride[2], DW = w->dilation[2], PW = w->pad[2];
    for (ptrdiff_t t = 0; t < n; t++) acc[t] = 0.0f;
    for (ptrdiff_t kd = 0; kd < w->kernel[0]; kd++) {
        const ptrdiff_t id = c2i_grid_index(od + w->pad[0] - kd * w->dilation[0], w->stride[0], w->grid[0]);
        if (id < 0) continue;
        for (ptrdiff_t kh = 0; kh < KH; kh++) {
            const ptrdiff_t ih = c2i_grid_index(oh + w->pad[1] - kh * w->dilation[1], w->stride[1], GH);
            if (ih < 0) continue;
            const float *base = columns + (size_t)((kd * KH + kh) * KW) * ld + (size_t)((id * GH + ih) * GW);
            for (ptrdiff_t kw = 0; kw < KW; kw++) {
                // Image column r + t*SW reads grid column t + shift through tap kw.
                const ptrdiff_t num = r + PW - kw * DW;
                if (c2i_mod(num, SW) != 0) continue;
                const ptrdiff_t shift = num / SW;  // exact
                const ptrdiff_t lo = shift < 0 ? -shift : 0;
                const ptrdiff_t hi = n < GW - shift ? n : GW - shift;
                if (lo >= hi) continue;
                const float *src = base + (size_t)kw * ld + (size_t)(lo + shift);
                float *dst = acc + lo;
                const ptrdiff_t count = hi - lo;
                C2I_SHORT_LOOP
                for (ptrdiff_t t = 0; t < count; t++) dst[t] += src[t];
            }
        }
    }
}

static C2I_TARGET void C2I_FN(c2i_col2im)(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                                          size_t row_begin, size_t row_end, const convrt_col2im_epilogue *e,
                                          float *buffer) {
    const ptrdiff_t OH = w->image[1], OW = w->image[2], SW = w->stride[2];
    if (OH <= 0 || OW <= 0) return;
    const ptrdiff_t nt = (OW + SW - 1) / SW;  // buffer floats per phase
    const ptrdiff_t phases = SW < OW ? SW : OW;
    const float bias = e->bias;
    for (size_t row = row_begin; row < row_end; row++) {
        const ptrdiff_t od = (ptrdiff_t)row / OH, oh = (ptrdiff_t)row % OH;
        for (ptrdiff_t r = 0; r < phases; r++)
            C2I_FN(c2i_phase)(w, columns, ld, od, oh, r, buffer + r * nt, (OW - r + SW - 1) / SW);
        // Interleave the phases into the row, adding the bias.
        float *out = image + row * (size_t)OW;
        if (SW == 1) {
            C2I_SHORT_LOOP
            for (ptrdiff_t i = 0; i < OW; i++) out[i] = buffer[i] + bias;
        } else if (SW == 2) {
            const ptrdiff_t half = OW / 2;
            const float *even = buffer, *odd = buffer + nt;
            C2I_SHORT_LOOP
            for (ptrdiff_t t = 0; t < half; t++) {
                out[2 * t] = even[t] + bias;
                out[2 * t + 1] = odd[t] + bias;
            }
            if (OW & 1) out[OW - 1] = even[half] + bias;
        } else {
            for (ptrdiff_t t = 0; t < nt; t++) {
                const ptrdiff_t end = OW - t * SW < SW ? OW - t * SW : SW;
                for (ptrdiff_t r = 0; r < end; r++) out[t * SW + r] = buffer[r * nt + t] + bias;
            }
        }
        if (e->pre.kind != CONVRT_ACT_NONE) C2I_FN(c2i_activate)(&e->pre, out, OW);
        if (e->residual) {
            const float *res = e->residual + row * (size_t)OW;
            for (ptrdiff_t i = 0; i < OW; i++) out[i] += res[i];
        }
        if (e->post.kind != CONVRT_ACT_NONE) C2I_FN(c2i_activate)(&e->post, out, OW);
    }
}

static C2I_TARGET void C2I_FN(c2i_im2col)(const convrt_window3d *w, const float *image, float *columns, size_t ld) {
    const ptrdiff_t GD = w->grid[0], GH = w->grid[1], GW = w->grid[2];
    const ptrdiff_t ID = w->image[0], IH = w->image[1], IW = w->image[2];
    const ptrdiff_t SW = w->stride[2];
    size_t tap = 0;
    for (ptrdiff_t kd = 0; kd < w->kernel[0]; kd++) {
        for (ptrdiff_t kh = 0; kh < w->kernel[1]; kh++) {
            for (ptrdiff_t kw = 0; kw < w->kernel[2]; kw++, tap++) {
                // Grid columns j in [lo, hi) read image column j*SW + shift inside the row.
                const ptrdiff_t shift = kw * w->dilation[2] - w->pad[2];
                ptrdiff_t lo = c2i_ceil_div(-shift, SW), hi = c2i_ceil_div(IW - shift, SW);
                lo = lo < 0 ? 0 : (lo > GW ? GW : lo);
                hi = hi < lo ? lo : (hi > GW ? GW : hi);
                float *row = columns + tap * ld;
                for (ptrdiff_t gd = 0; gd < GD; gd++) {
                    const ptrdiff_t id = gd * w->stride[0] - w->pad[0] + kd * w->dilation[0];
                    for (ptrdiff_t gh = 0; gh < GH; gh++) {
                        const ptrdiff_t ih = gh * w->stride[1] - w->pad[1] + kh * w->dilation[1];
                        float *dst = row + (size_t)((gd * GH + gh) * GW);
                        if (id < 0 || id >= ID || ih < 0 || ih >= IH || lo >= hi) {
                            for (ptrdiff_t j = 0; j < GW; j++) dst[j] = 0.0f;
                            continue;
                        }
                        const float *src = image + (size_t)((id * IH + ih) * IW) + (size_t)(lo * SW + shift);
                        for (ptrdiff_t j = 0; j < lo; j++) dst[j] = 0.0f;
                        float *mid = dst + lo;
                        const ptrdiff_t count = hi - lo;
                        if (SW == 1) {
                            C2I_SHORT_LOOP
                            for (ptrdiff_t j = 0; j < count; j++) mid[j] = src[j];
                        } else if (SW == 2) {
                            C2I_SHORT_LOOP
                            for (ptrdiff_t j = 0; j < count; j++) mid[j] = src[2 * j];
                        } else {
                            for (ptrdiff_t j = 0; j < count; j++) mid[j] = src[j * SW];
                        }
                        for (ptrdiff_t j = hi; j < GW; j++) dst[j] = 0.0f;
                    }
                }
            }
        }
    }
}

#undef C2I_FN
#undef C2I_SHORT_LOOP
#undef C2I_CAT
#undef C2I_CAT2
