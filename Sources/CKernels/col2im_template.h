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

/// Sums phase r of one image row: every segment of the phase from every row base, in order
/// (bases: (kd, kh) ascending; segments: kw ascending). A phase made of one full-length
/// segment is read in place from the columns (the stride == kernel case: no copy).
static C2I_TARGET const float *C2I_FN(c2i_phase)(const c2i_plan *p, size_t bases, ptrdiff_t r) {
    const size_t n = p->length_w[r], count = p->count_w[r];
    const c2i_segment *segs = p->segments + (size_t)r * p->kw;
    float *acc = p->acc + r * p->nt;
    if (bases == 1 && count == 1 && segs[0].lo == 0 && segs[0].len == n) return p->bases[0] + segs[0].offset;
    int first = 1;
    for (size_t b = 0; b < bases; b++) {
        for (size_t s = 0; s < count; s++) {
            const float *src = p->bases[b] + segs[s].offset;
            float *dst = acc + segs[s].lo;
            const size_t len = segs[s].len;
            if (first) {
                first = 0;
                if (len == n) {
                    C2I_SHORT_LOOP
                    for (size_t t = 0; t < n; t++) acc[t] = src[t];
                    continue;
                }
                for (size_t t = 0; t < n; t++) acc[t] = 0.0f;
            }
            C2I_SHORT_LOOP
            for (size_t t = 0; t < len; t++) dst[t] += src[t];
        }
    }
    if (first) {
        for (size_t t = 0; t < n; t++) acc[t] = 0.0f;
    }
    return acc;
}

static C2I_TARGET void C2I_FN(c2i_col2im)(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                                          size_t row_begin, size_t row_end, const convrt_col2im_epilogue *e,
                                          void *workspace) {
    const ptrdiff_t OH = w->image[1], OW = w->image[2], SW = w->stride[2];
    if (OH <= 0 || OW <= 0 || row_begin >= row_end) return;
    c2i_plan p = c2i_make_plan(w, ld, workspace);
    const size_t KD = (size_t)w->kernel[0], KH = (size_t)w->kernel[1];
    const float bias = e->bias;
    size_t od = row_begin / (size_t)OH, oh = row_begin % (size_t)OH;
    for (size_t row = row_begin; row < row_end; row++) {
        // The row bases of this (od, oh): one per (kd, kh) that lands here.
        size_t bases = 0;
        for (size_t i = 0; i < p.count_d[od]; i++) {
            const float *base = columns + p.offset_d[od * KD + i];
            for (size_t j = 0; j < p.count_h[oh]; j++) p.bases[bases++] = base + p.offset_h[oh * KH + j];
        }
        for (ptrdiff_t r = 0; r < p.phases; r++) p.phase[r] = C2I_FN(c2i_phase)(&p, bases, r);
        // Interleave the phases into the row, adding the bias.
        float *out = image + row * (size_t)OW;
        if (SW == 1) {
            const float *src = p.phase[0];
            C2I_SHORT_LOOP
            for (ptrdiff_t i = 0; i < OW; i++) out[i] = src[i] + bias;
        } else if (SW == 2) {
            const ptrdiff_t half = OW / 2;
            const float *even = p.phase[0], *odd = p.phase[OW > 1 ? 1 : 0];
            C2I_SHORT_LOOP
            for (ptrdiff_t t = 0; t < half; t++) {
                out[2 * t] = even[t] + bias;
                out[2 * t + 1] = odd[t] + bias;
            }
            if (OW & 1) out[OW - 1] = even[half] + bias;
        } else {
            for (ptrdiff_t r = 0; r < p.phases; r++) {
                const float *src = p.phase[r];
                const size_t n = p.length_w[r];
                for (size_t t = 0; t < n; t++) out[t * (size_t)SW + (size_t)r] = src[t] + bias;
            }
        }
        if (e->pre.kind != CONVRT_ACT_NONE) C2I_FN(c2i_activate)(&e->pre, out, OW);
        if (e->residual) {
            const float *res = e->residual + row * (size_t)OW;
            for (ptrdiff_t i = 0; i < OW; i++) out[i] += res[i];
        }
        if (e->post.kind != CONVRT_ACT_NONE) C2I_FN(c2i_activate)(&e->post, out, OW);
        if (++oh == (size_t)OH) {
            oh = 0;
            od++;
        }
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
