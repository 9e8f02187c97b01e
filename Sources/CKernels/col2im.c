// col2im / im2col (convrt_col2im.h): the bodies in col2im_template.h, compiled for the
// baseline target and, on x86-64, for AVX2 and AVX-512, chosen at run time.
#include "CKernels.h"

/// `a mod b` in [0, b) for b > 0.
static inline ptrdiff_t c2i_mod(ptrdiff_t a, ptrdiff_t b) {
    const ptrdiff_t m = a % b;
    return m < 0 ? m + b : m;
}

/// `ceil(a / b)` for b > 0.
static inline ptrdiff_t c2i_ceil_div(ptrdiff_t a, ptrdiff_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/// The grid index `num / stride` when it is exact and inside [0, size), else -1.
static inline ptrdiff_t c2i_grid_index(ptrdiff_t num, ptrdiff_t stride, ptrdiff_t size) {
    if (num < 0 || num % stride != 0) return -1;
    const ptrdiff_t q = num / stride;
    return q < size ? q : -1;
}

/// One column segment of a phase: `len` values from `offset` (relative to a row base) added
/// to the phase's entries `lo ..< lo + len`.
typedef struct {
    size_t offset, lo, len;
} c2i_segment;

/// col2im's precomputed geometry, carved out of the caller's workspace. Per image index of
/// the d and h dims, the taps that land on it as column offsets (tap part * ld + grid part,
/// so a (d, h) pair's row base is the sum); per phase r of the w dim (image columns
/// r, r + SW, ...), its length and the segments of its taps. No divisions are left per row.
typedef struct {
    ptrdiff_t phases, nt;          ///< phases of a row; floats of sum per phase
    size_t kw;                     ///< segment slots per phase (the kernel's w size)
    size_t *count_d, *offset_d;    ///< [OD], [OD][KD]
    size_t *count_h, *offset_h;    ///< [OH], [OH][KH]
    size_t *count_w, *length_w;    ///< [phases], [phases]
    c2i_segment *segments;         ///< [phases][KW]
    const float **bases;           ///< [KD*KH]: the row bases of one image row
    const float **phase;           ///< [phases]: each phase's sums (in acc or in the columns)
    float *acc;                    ///< [phases][nt]
} c2i_plan;

static ptrdiff_t c2i_positive(ptrdiff_t x) { return x > 0 ? x : 0; }

/// Bytes of the plan's arrays (in declaration order, each 8-byte aligned).
static size_t c2i_plan_bytes(const convrt_window3d *w) {
    const ptrdiff_t ow = c2i_positive(w->image[2]), sw = w->stride[2];
    const size_t phases = (size_t)(sw < ow ? sw : ow), nt = (size_t)(ow > 0 ? (ow + sw - 1) / sw : 0);
    const size_t od = (size_t)c2i_positive(w->image[0]), oh = (size_t)c2i_positive(w->image[1]);
    const size_t kd = (size_t)w->kernel[0], kh = (size_t)w->kernel[1], kw = (size_t)w->kernel[2];
    return sizeof(size_t) * (od * (1 + kd) + oh * (1 + kh) + 2 * phases) + sizeof(c2i_segment) * phases * kw
        + sizeof(float *) * (kd * kh + phases) + sizeof(float) * phases * nt;
}

/// Taps of one dim per image index: column offsets `tap * tap_stride + grid_index * grid_stride`.
static void c2i_dim_lists(ptrdiff_t image, ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t dilation, ptrdiff_t pad,
                          ptrdiff_t grid, size_t tap_stride, size_t grid_stride, size_t *count, size_t *offset) {
    for (ptrdiff_t o = 0; o < image; o++) {
        size_t n = 0;
        for (ptrdiff_t k = 0; k < kernel; k++) {
            const ptrdiff_t g = c2i_grid_index(o + pad - k * dilation, stride, grid);
            if (g >= 0) offset[(size_t)o * (size_t)kernel + n++] = (size_t)k * tap_stride + (size_t)g * grid_stride;
        }
        count[o] = n;
    }
}

static c2i_plan c2i_make_plan(const convrt_window3d *w, size_t ld, void *workspace) {
    c2i_plan p;
    const ptrdiff_t OD = c2i_positive(w->image[0]), OH = c2i_positive(w->image[1]), OW = c2i_positive(w->image[2]);
    const ptrdiff_t KD = w->kernel[0], KH = w->kernel[1], KW = w->kernel[2], SW = w->stride[2];
    const ptrdiff_t GH = w->grid[1], GW = w->grid[2];
    p.phases = SW < OW ? SW : OW;
    p.nt = OW > 0 ? (OW + SW - 1) / SW : 0;
    p.kw = (size_t)KW;
    char *cursor = (char *)workspace;
#define C2I_TAKE(type, n) ((type *)((cursor += sizeof(type) * (size_t)(n)) - sizeof(type) * (size_t)(n)))
    p.count_d = C2I_TAKE(size_t, OD);
    p.offset_d = C2I_TAKE(size_t, OD * KD);
    p.count_h = C2I_TAKE(size_t, OH);
    p.offset_h = C2I_TAKE(size_t, OH * KH);
    p.count_w = C2I_TAKE(size_t, p.phases);
    p.length_w = C2I_TAKE(size_t, p.phases);
    p.segments = C2I_TAKE(c2i_segment, p.phases * KW);
    p.bases = C2I_TAKE(const float *, KD * KH);
    p.phase = C2I_TAKE(const float *, p.phases);
    p.acc = C2I_TAKE(float, p.phases * p.nt);
#undef C2I_TAKE
    c2i_dim_lists(OD, KD, w->stride[0], w->dilation[0], w->pad[0], w->grid[0], (size_t)(KH * KW) * ld,
                  (size_t)(GH * GW), p.count_d, p.offset_d);
    c2i_dim_lists(OH, KH, w->stride[1], w->dilation[1], w->pad[1], GH, (size_t)KW * ld, (size_t)GW, p.count_h,
                  p.offset_h);
    for (ptrdiff_t r = 0; r < p.phases; r++) {
        const ptrdiff_t n = (OW - r + SW - 1) / SW;
        size_t count = 0;
        for (ptrdiff_t k = 0; k < KW; k++) {
            // Image column r + t*SW reads grid column t + shift through tap k.
            const ptrdiff_t num = r + w->pad[2] - k * w->dilation[2];
            if (c2i_mod(num, SW) != 0) continue;
            const ptrdiff_t shift = num / SW;
            const ptrdiff_t lo = shift < 0 ? -shift : 0;
            const ptrdiff_t hi = n < GW - shift ? n : GW - shift;
            if (lo >= hi) continue;
            c2i_segment seg = {(size_t)k * ld + (size_t)(lo + shift), (size_t)lo, (size_t)(hi - lo)};
            p.segments[(size_t)r * (size_t)KW + count++] = seg;
        }
        p.count_w[r] = count;
        p.length_w[r] = (size_t)n;
    }
    return p;
}

#define C2I_TARGET
#define C2I_SUFFIX portable
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX

#if defined(__x86_64__) || defined(_M_X64)
#define C2I_TARGET __attribute__((target("avx2")))
#define C2I_SUFFIX avx2
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX

#define C2I_TARGET __attribute__((target("avx512f")))
#define C2I_SUFFIX avx512
#include "col2im_template.h"
#undef C2I_TARGET
#undef C2I_SUFFIX
#endif

size_t convrt_col2im_workspace_bytes(const convrt_window3d *w) { return c2i_plan_bytes(w) + 64; }

void convrt_col2im(const convrt_window3d *w, const float *columns, size_t ld, float *image,
                   size_t row_begin, size_t row_end, const convrt_col2im_epilogue *epilogue,
                   void *workspace) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (convrt_isa_best()) {
    case CONVRT_ISA_AVX512:
        c2i_col2im_avx512(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
        return;
    case CONVRT_ISA_AVX2:
        c2i_col2im_avx2(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
        return;
    default: break;
    }
#endif
    c2i_col2im_portable(w, columns, ld, image, row_begin, row_end, epilogue, workspace);
}

void convrt_im2col(const convrt_window3d *w, const float *image, float *columns, size_t ld) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (convrt_isa_best()) {
    case CONVRT_ISA_AVX512: c2i_im2col_avx512(w, image, columns, ld); return;
    case CONVRT_ISA_AVX2: c2i_im2col_avx2(w, image, columns, ld); return;
    default: break;
    }
#endif
    c2i_im2col_portable(w, image, columns, ld);
}
