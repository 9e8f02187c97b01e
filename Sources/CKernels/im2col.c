// Blocked im2col (see convrt_im2col.h).
//
// Tap by tap (kd, kh, kw), the block's output pixels are walked as runs along output rows,
// and each run becomes up to three segments of its slab row: a zero prefix (left padding),
// a copy with the stride, a zero suffix (or one zero segment when the run's input row is in
// the padding). The segments depend on the tap alone, so they are built once and replayed
// for every input channel, whose rows differ only in their base pointer. Replaying is short
// vector copies: AVX2 on x86-64 when the CPU has it (chosen at run time), plain C otherwise.
#include "convrt_im2col.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define IM2COL_X86 1
#endif

/// One piece of a slab row: `n` floats at column `t`, copied from the channel plane at `src`
/// (input columns src, src + stride, ...), or zeros when `src` < 0.
typedef struct {
    uint32_t t, n;
    ptrdiff_t src;
} segment;

/// Runs per batch of segments: at most three segments each.
#define RUNS_PER_BATCH 64
#define MAX_SEGMENTS (3 * RUNS_PER_BATCH)

/// Replays `count` segments onto slab row `dst` from channel plane `x`.
typedef void (*replay_fn)(const segment *segs, size_t count, const float *x, size_t stride,
                          float *dst);

// MARK: - Portable replay

static void replay_portable(const segment *segs, size_t count, const float *x, size_t stride,
                            float *dst) {
    for (size_t i = 0; i < count; i++) {
        float *d = dst + segs[i].t;
        const size_t n = segs[i].n;
        if (segs[i].src < 0) {
            memset(d, 0, n * sizeof(float));
        } else if (stride == 1) {
            memcpy(d, x + segs[i].src, n * sizeof(float));
        } else {
            const float *s = x + segs[i].src;
            for (size_t j = 0; j < n; j++) d[j] = s[j * stride];
        }
    }
}

// MARK: - AVX2 replay

#ifdef IM2COL_X86
#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i tail_mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static inline void zero_avx2(float *d, size_t n) {
    const __m256 z = _mm256_setzero_ps();
    for (; n >= 8; n -= 8, d += 8) _mm256_storeu_ps(d, z);
    if (n) _mm256_maskstore_ps(d, tail_mask(n), z);
}

// Masked loads never touch the lanes they leave out, so no read goes past the run.
AVX2 static inline void copy1_avx2(float *d, const float *s, size_t n) {
    for (; n >= 8; n -= 8, d += 8, s += 8) _mm256_storeu_ps(d, _mm256_loadu_ps(s));
    if (n) {
        const __m256i m = tail_mask(n);
        _mm256_maskstore_ps(d, m, _mm256_maskload_ps(s, m));
    }
}

// Every other float: two loads, even lanes picked and put in order. A step reads s[0..15],
// so it runs only while s[16] is still needed (the run's last read is s[2 * (n - 1)]).
AVX2 static inline void copy2_avx2(float *d, const float *s, size_t n) {
    for (; n > 8; n -= 8, d += 8, s += 16) {
        const __m256 lo = _mm256_loadu_ps(s), hi = _mm256_loadu_ps(s + 8);
        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
        _mm256_storeu_ps(d, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8)));
    }
    for (size_t j = 0; j < n; j++) d[j] = s[2 * j];
}

AVX2 static void replay_avx2(const segment *segs, size_t count, const float *x, size_t stride,
                             float *dst) {
    for (size_t i = 0; i < count; i++) {
        float *d = dst + segs[i].t;
        const size_t n = segs[i].n;
        if (segs[i].src < 0) {
            zero_avx2(d, n);
        } else if (stride == 1) {
            copy1_avx2(d, x + segs[i].src, n);
        } else if (stride == 2) {
            copy2_avx2(d, x + segs[i].src, n);
        } else {
            const float *s = x + segs[i].src;
            for (size_t j = 0; j < n; j++) d[j] = s[j * stride];
        }
    }
}
#endif

static replay_fn pick_replay(void) {
#ifdef IM2COL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return replay_avx2;
#endif
    return replay_portable;
}

// MARK: - Segments

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

/// A position in the walk over a block's output pixels: slab column t is pixel (od, oh, ow).
typedef struct {
    size_t t, od, oh, ow;
} walk_pos;

static void push(segment *segs, size_t *count, size_t t, size_t n, ptrdiff_t src) {
    if (n == 0) return;
    segment *last = *count ? &segs[*count - 1] : NULL;
    if (src < 0 && last && last->src < 0 && last->t + last->n == t) {
        last->n += (uint32_t)n;  // one zero segment across padded rows
        return;
    }
    segs[(*count)++] = (segment){(uint32_t)t, (uint32_t)n, src};
}

/// Segments of tap (kd, kh, kw) for up to RUNS_PER_BATCH runs from `*pos` (advanced past them)
/// to slab column `end`.
static size_t build_segments(const convrt_conv_geometry *g, size_t kd, size_t kh, size_t kw,
                             walk_pos *pos, size_t end, segment *segs) {
    const ptrdiff_t shift_d = (ptrdiff_t)(kd * g->dilation_d) - (ptrdiff_t)g->pad_d;
    const ptrdiff_t shift_h = (ptrdiff_t)(kh * g->dilation_h) - (ptrdiff_t)g->pad_h;
    const ptrdiff_t shift_w = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_w;
    size_t lo, hi;
    valid_range(shift_w, g->stride_w, g->in_w, g->out_w, &lo, &hi);
    size_t count = 0;
    walk_pos p = *pos;
    for (size_t run = 0; run < RUNS_PER_BATCH && p.t < end; run++) {
        const size_t stop = p.ow + (g->out_w - p.ow < end - p.t ? g->out_w - p.ow : end - p.t);
        const ptrdiff_t id = (ptrdiff_t)(p.od * g->stride_d) + shift_d;
        const ptrdiff_t ih = (ptrdiff_t)(p.oh * g->stride_h) + shift_h;
        const size_t t0 = p.t - p.ow;  // slab column of output column 0 of this row
        if (id < 0 || id >= (ptrdiff_t)g->in_d || ih < 0 || ih >= (ptrdiff_t)g->in_h) {
            push(segs, &count, p.t, stop - p.ow, -1);
        } else {
            const size_t a = lo < p.ow ? p.ow : lo > stop ? stop : lo;
            const size_t b = hi < a ? a : hi > stop ? stop : hi;
            const ptrdiff_t row = ((ptrdiff_t)id * (ptrdiff_t)g->in_h + ih) * (ptrdiff_t)g->in_w;
            push(segs, &count, p.t, a - p.ow, -1);
            push(segs, &count, t0 + a, b - a, row + (ptrdiff_t)(a * g->stride_w) + shift_w);
            push(segs, &count, t0 + b, stop - b, -1);
        }
        p.t += stop - p.ow;
        p.ow = 0;
        if (++p.oh == g->out_h) p.oh = 0, p.od++;
    }
    *pos = p;
    return count;
}

void convrt_im2col_block(const convrt_conv_geometry *g, const float *x, size_t n0, size_t count,
                         float *dst, size_t ldd) {
    static _Atomic(replay_fn) picked;
    replay_fn replay = atomic_load_explicit(&picked, memory_order_relaxed);
    if (!replay) {  // every thread picks the same function
        replay = pick_replay();
        atomic_store_explicit(&picked, replay, memory_order_relaxed);
    }
    const size_t out_hw = g->out_h * g->out_w, plane = g->in_d * g->in_h * g->in_w;
    const size_t taps = g->k_d * g->k_h * g->k_w;
    segment segs[MAX_SEGMENTS];
    walk_pos batch = {0, n0 / out_hw, n0 % out_hw / g->out_w, n0 % g->out_w};
    while (batch.t < count) {
        walk_pos next = batch;
        for (size_t tap = 0; tap < taps; tap++) {
            const size_t kw = tap % g->k_w, kh = tap / g->k_w % g->k_h, kd = tap / (g->k_w * g->k_h);
            next = batch;
            const size_t n = build_segments(g, kd, kh, kw, &next, count, segs);
            for (size_t c = 0; c < g->channels; c++)
                replay(segs, n, x + c * plane, g->stride_w, dst + (c * taps + tap) * ldd);
        }
        batch = next;
    }
}
