// Blocked im2col (see convrt_im2col.h).
//
// Row by row (one input channel and kernel tap each), the block's output pixels are walked
// as runs along output rows; a run is a zero prefix (left padding), a copy with the
// stride, and a zero suffix, or all zeros when its input row is in the padding. Stride-1
// copies are memcpy; strided ones are plain loops the compiler vectorises (x86-64 gets an
// AVX2 version picked at run time).
#include "convrt_im2col.h"

#include <stdatomic.h>
#include <string.h>

typedef void (*strided_copy_fn)(float *dst, const float *src, size_t n, size_t stride);

#define STRIDED_COPY_BODY                                                  \
    if (stride == 2) {                                                     \
        for (size_t j = 0; j < n; j++) dst[j] = src[2 * j];                \
    } else {                                                               \
        for (size_t j = 0; j < n; j++) dst[j] = src[j * stride];           \
    }

static void strided_copy_portable(float *restrict dst, const float *restrict src, size_t n,
                                  size_t stride) {
    STRIDED_COPY_BODY
}

#if defined(__x86_64__) || defined(_M_X64)
__attribute__((target("avx2"))) static void strided_copy_avx2(float *restrict dst,
                                                              const float *restrict src, size_t n,
                                                              size_t stride) {
    STRIDED_COPY_BODY
}
#endif

static strided_copy_fn pick_strided_copy(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return strided_copy_avx2;
#endif
    return strided_copy_portable;
}

/// First output index o in [0, out) with 0 <= o * stride + shift, and the end of those with
/// o * stride + shift < in: the outputs whose tap lands inside the input along one dim.
static void valid_range(ptrdiff_t shift, size_t stride, size_t in, size_t out, size_t *lo,
                        size_t *hi) {
    const ptrdiff_t s = (ptrdiff_t)stride;
    ptrdiff_t a = shift >= 0 ? 0 : (-shift + s - 1) / s;
    ptrdiff_t b = (ptrdiff_t)in - shift <= 0 ? 0 : ((ptrdiff_t)in - shift + s - 1) / s;
    if (a > (ptrdiff_t)out) a = (ptrdiff_t)out;
    if (b > (ptrdiff_t)out) b = (ptrdiff_t)out;
    if (b < a) b = a;
    *lo = (size_t)a, *hi = (size_t)b;
}

typedef struct {
    const convrt_conv_geometry *g;
    size_t od0, oh0, ow0;  // the block's first output pixel
    size_t count;
    strided_copy_fn copy;
} block_walk;

// One row of the block: tap (kd, kh, kw) of channel plane `xc`.
static void gather_row(const block_walk *w, const float *xc, size_t kd, size_t kh, size_t kw,
                       float *dst) {
    const convrt_conv_geometry *g = w->g;
    const ptrdiff_t shift_d = (ptrdiff_t)(kd * g->dilation_d) - (ptrdiff_t)g->pad_d;
    const ptrdiff_t shift_h = (ptrdiff_t)(kh * g->dilation_h) - (ptrdiff_t)g->pad_h;
    const ptrdiff_t shift_w = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_w;
    size_t lo, hi;
    valid_range(shift_w, g->stride_w, g->in_w, g->out_w, &lo, &hi);
    size_t od = w->od0, oh = w->oh0, ow = w->ow0;
    for (size_t t = 0; t < w->count;) {
        const size_t end = ow + (g->out_w - ow < w->count - t ? g->out_w - ow : w->count - t);
        const ptrdiff_t id = (ptrdiff_t)(od * g->stride_d) + shift_d;
        const ptrdiff_t ih = (ptrdiff_t)(oh * g->stride_h) + shift_h;
        float *d = dst + t;  // d[o - ow] is output column o of this run
        if (id < 0 || id >= (ptrdiff_t)g->in_d || ih < 0 || ih >= (ptrdiff_t)g->in_h) {
            memset(d, 0, (end - ow) * sizeof(float));
        } else {
            const size_t a = lo < ow ? ow : lo > end ? end : lo;
            const size_t b = hi < a ? a : hi > end ? end : hi;
            if (a > ow) memset(d, 0, (a - ow) * sizeof(float));
            if (b > a) {
                const float *src = xc + ((size_t)id * g->in_h + (size_t)ih) * g->in_w +
                                   (size_t)((ptrdiff_t)(a * g->stride_w) + shift_w);
                if (g->stride_w == 1) {
                    memcpy(d + (a - ow), src, (b - a) * sizeof(float));
                } else {
                    w->copy(d + (a - ow), src, b - a, g->stride_w);
                }
            }
            if (end > b) memset(d + (b - ow), 0, (end - b) * sizeof(float));
        }
        t += end - ow;
        ow = 0;
        if (++oh == g->out_h) oh = 0, od++;
    }
}

void convrt_im2col_block(const convrt_conv_geometry *g, const float *x, size_t n0, size_t count,
                         float *dst, size_t ldd) {
    static _Atomic(strided_copy_fn) picked;
    strided_copy_fn copy = atomic_load_explicit(&picked, memory_order_relaxed);
    if (!copy) {  // every thread picks the same function
        copy = pick_strided_copy();
        atomic_store_explicit(&picked, copy, memory_order_relaxed);
    }
    const size_t out_hw = g->out_h * g->out_w, plane = g->in_d * g->in_h * g->in_w;
    const block_walk w = {g, n0 / out_hw, n0 % out_hw / g->out_w, n0 % g->out_w, count, copy};
    float *row = dst;
    for (size_t c = 0; c < g->channels; c++) {
        const float *xc = x + c * plane;
        for (size_t kd = 0; kd < g->k_d; kd++)
            for (size_t kh = 0; kh < g->k_h; kh++)
                for (size_t kw = 0; kw < g->k_w; kw++, row += ldd) gather_row(&w, xc, kd, kh, kw, row);
    }
}
