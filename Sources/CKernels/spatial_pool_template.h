// Body of the pooling row kernels, included once per ISA by spatial_pool.c with SUFFIX set.
// Plain loops: the compiler vectorises them for the ISA of the including translation unit /
// function attributes.

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)

/// The running maximum with `v`: NaN wins (ATen's `v > m || isnan(v)`), branch-free.
static inline float FN(nanmax_)(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

static void FN(rows_)(int op, const float *const *rows, ptrdiff_t count, ptrdiff_t width, float *out) {
    const float *r0 = rows[0];
    if (count == 1) {
        if (out != r0)
            for (ptrdiff_t c = 0; c < width; c++) out[c] = r0[c];
        return;
    }
    const float *r1 = rows[1];
    if (op == CONVRT_POOL_MAX) {
        for (ptrdiff_t c = 0; c < width; c++) out[c] = FN(nanmax_)(r0[c], r1[c]);
        for (ptrdiff_t r = 2; r < count; r++) {
            const float *p = rows[r];
            for (ptrdiff_t c = 0; c < width; c++) out[c] = FN(nanmax_)(out[c], p[c]);
        }
    } else {
        for (ptrdiff_t c = 0; c < width; c++) out[c] = r0[c] + r1[c];
        for (ptrdiff_t r = 2; r < count; r++) {
            const float *p = rows[r];
            for (ptrdiff_t c = 0; c < width; c++) out[c] += p[c];
        }
    }
}

/// Window positions u in [begin, end) of `t`, with bounds checks (the row's edges).
static void FN(edge_)(int op, const float *in, ptrdiff_t n, float *t, ptrdiff_t begin, ptrdiff_t end,
                      ptrdiff_t k, ptrdiff_t p, ptrdiff_t d) {
    for (ptrdiff_t u = begin; u < end; u++) {
        float v = op == CONVRT_POOL_MAX ? -__builtin_inff() : 0.0f;
        // Only the taps j with 0 <= first + j*d < n.
        ptrdiff_t first = u - p;
        ptrdiff_t jlo = first >= 0 ? 0 : (-first + d - 1) / d;
        ptrdiff_t jhi = first >= n ? 0 : (n - 1 - first) / d + 1;
        if (jhi > k) jhi = k;
        for (ptrdiff_t j = jlo; j < jhi; j++) {
            float x = in[first + j * d];
            v = op == CONVRT_POOL_MAX ? FN(nanmax_)(v, x) : v + x;
        }
        t[u] = v;
    }
}

static void FN(window_)(int op, const float *in, ptrdiff_t n, float *out, ptrdiff_t m, ptrdiff_t k,
                        ptrdiff_t s, ptrdiff_t p, ptrdiff_t d, float *scratch) {
    if (m <= 0) return;
    // Every window start at stride 1, then every s-th kept: contiguous loops only.
    ptrdiff_t len = (m - 1) * s + 1;
    float *t = s == 1 ? out : scratch;
    // Interior: all k taps inside [0, n).
    ptrdiff_t lo = p < 0 ? 0 : (p > len ? len : p);
    ptrdiff_t hi = n - 1 + p - (k - 1) * d + 1;
    if (hi > len) hi = len;
    if (hi < lo) hi = lo;
    FN(edge_)(op, in, n, t, 0, lo, k, p, d);
    FN(edge_)(op, in, n, t, hi, len, k, p, d);
    if (hi > lo) {
        const float *base = in + (lo - p);
        float *dst = t + lo;
        ptrdiff_t count = hi - lo;
        for (ptrdiff_t c = 0; c < count; c++) dst[c] = base[c];
        for (ptrdiff_t j = 1; j < k; j++) {
            const float *b = base + j * d;
            if (op == CONVRT_POOL_MAX)
                for (ptrdiff_t c = 0; c < count; c++) dst[c] = FN(nanmax_)(dst[c], b[c]);
            else
                for (ptrdiff_t c = 0; c < count; c++) dst[c] += b[c];
        }
    }
    if (s > 1)
        for (ptrdiff_t o = 0; o < m; o++) out[o] = scratch[o * s];
}

#undef FN
#undef CAT
#undef CAT2
