// Blocked im2col (see convrt_im2col.h).
//
// Tap by tap (kd, kh, kw), the block's output pixels are walked as runs along output rows,
// and each run becomes up to three segments of its slab row: a zero prefix (left padding),
// a copy with the stride, a zero suffix (or one zero segment when the run's input row is in
// the padding). The segments depend on the tap alone, so they are built once and replayed
// for every input channel, whose rows differ only in their base pointer: channel by channel,
// all taps of a group, so a channel's input is read from L1 by all its taps, with the input
// of a few channels ahead prefetched. Replaying is short vector copies: AVX2 on x86-64 when
// the CPU has it (chosen at run time), plain C otherwise.
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

/// Segments built at a time (12 KiB on the stack), at most three per run, and the most runs
/// in one batch.
#define SEGMENT_CAPACITY 768
#define MAX_RUNS 64
/// How many channels ahead of the copies the input is prefetched.
#define PREFETCH_CHANNELS 4

/// The segments of `width` consecutive taps (from `tap0`) and where their rows go.
typedef struct {
    const convrt_conv_geometry *g;
    const segment *segs;
    const size_t *first;  // tap tap0 + i has segments [first[i], first[i + 1])
    size_t tap0, width, taps;
    const float *x;
    size_t plane;
    float *dst;
    size_t ldd;
} tap_group;

typedef void (*replay_fn)(const tap_group *group);

/// Warms the cache with the input channel plane `x`'s segments of the group will read: taps
/// with kw = 0 only, `extra` floats past each for the taps along w that follow.
static inline void prefetch_channel(const tap_group *q, const float *x) {
    const convrt_conv_geometry *g = q->g;
    const size_t extra = (g->k_w - 1) * g->dilation_w;
    for (size_t i = 0; i < q->width; i++) {
        if ((q->tap0 + i) % g->k_w != 0) continue;
        for (size_t s = q->first[i]; s < q->first[i + 1]; s++) {
            if (q->segs[s].src < 0) continue;
            const char *p = (const char *)(x + q->segs[s].src);
            const size_t bytes = ((q->segs[s].n - 1) * g->stride_w + 1 + extra) * sizeof(float);
            for (size_t o = 0; o < bytes + 63; o += 64) __builtin_prefetch(p + o, 0, 3);
        }
    }
}

// Every channel, every tap of the group: the same loop for each ISA, with its own copies.
#define REPLAY_GROUP(q, ZERO, COPY1, COPY2)                                                      \
    do {                                                                                         \
        const convrt_conv_geometry *g_ = (q)->g;                                                 \
        const size_t stride_ = g_->stride_w;                                                     \
        for (size_t c = 0; c < g_->channels; c++) {                                              \
            if (c == 0)                                                                          \
                for (size_t p = 0; p < PREFETCH_CHANNELS && p < g_->channels; p++)               \
                    prefetch_channel((q), (q)->x + p * (q)->plane);                              \
            if (c + PREFETCH_CHANNELS < g_->channels)                                            \
                prefetch_channel((q), (q)->x + (c + PREFETCH_CHANNELS) * (q)->plane);            \
            const float *xc = (q)->x + c * (q)->plane;                                           \
            for (size_t i = 0; i < (q)->width; i++) {                                            \
                float *row = (q)->dst + (c * (q)->taps + (q)->tap0 + i) * (q)->ldd;              \
                for (size_t s = (q)->first[i]; s < (q)->first[i + 1]; s++) {                     \
                    const segment sg = (q)->segs[s];                                             \
                    float *d = row + sg.t;                                                       \
                    if (sg.src < 0) {                                                            \
                        ZERO(d, sg.n);                                                           \
                    } else if (stride_ == 1) {                                                   \
                        COPY1(d, xc + sg.src, sg.n);                                             \
                    } else if (stride_ == 2) {                                                   \
                        COPY2(d, xc + sg.src, sg.n);                                             \
                    } else {                                                                     \
                        const float *s_ = xc + sg.src;                                           \
                        for (size_t j = 0; j < sg.n; j++) d[j] = s_[j * stride_];                \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    } while (0)

// MARK: - Portable replay

static inline void zero_portable(float *d, size_t n) { memset(d, 0, n * sizeof(float)); }
static inline void copy1_portable(float *d, const float *s, size_t n) { memcpy(d, s, n * sizeof(float)); }
static inline void copy2_portable(float *restrict d, const float *restrict s, size_t n) {
    for (size_t j = 0; j < n; j++) d[j] = s[2 * j];
}

static void replay_portable(const tap_group *q) {
    REPLAY_GROUP(q, zero_portable, copy1_portable, copy2_portable);
}

// MARK: - AVX2 replay

#ifdef IM2COL_X86
#define AVX2 __attribute__((target("avx2")))

// Tails are whole vectors ending at the run's end, overlapping the previous ones (the same
// values are written twice): AMD before Zen 4 microcodes masked stores (~40 uops), and a
// plain tail loop would become a memset/memcpy call. Runs under 4 floats store one by one.
AVX2 static inline void zero_avx2(float *d, size_t n) {
    const __m256 z = _mm256_setzero_ps();
    if (n >= 8) {
        size_t j = 0;
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(d + j, z);
        if (j < n) _mm256_storeu_ps(d + n - 8, z);
    } else if (n >= 4) {
        _mm_storeu_ps(d, _mm256_castps256_ps128(z));
        _mm_storeu_ps(d + n - 4, _mm256_castps256_ps128(z));
    } else {
        d[0] = 0.0f;
        if (n > 1) d[1] = 0.0f;
        if (n > 2) d[2] = 0.0f;
    }
}

AVX2 static inline void copy1_avx2(float *d, const float *s, size_t n) {
    if (n >= 8) {
        size_t j = 0;
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
        if (j < n) _mm256_storeu_ps(d + n - 8, _mm256_loadu_ps(s + n - 8));
    } else if (n >= 4) {
        _mm_storeu_ps(d, _mm_loadu_ps(s));
        _mm_storeu_ps(d + n - 4, _mm_loadu_ps(s + n - 4));
    } else {
        d[0] = s[0];
        if (n > 1) d[1] = s[1];
        if (n > 2) d[2] = s[2];
    }
}

// Every other float: two loads, the even lanes picked and put in order. A step reads
// s[0..15], so it runs only while s[16] is still needed (the run's last read is s[2n - 2]).
AVX2 static inline void copy2_avx2(float *d, const float *s, size_t n) {
    size_t j = 0;
    for (; j + 8 < n; j += 8) {
        const __m256 lo = _mm256_loadu_ps(s + 2 * j), hi = _mm256_loadu_ps(s + 2 * j + 8);
        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
        _mm256_storeu_ps(d + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8)));
    }
    for (; j < n; j++) d[j] = s[2 * j];
}

AVX2 static void replay_avx2(const tap_group *q) { REPLAY_GROUP(q, zero_avx2, copy1_avx2, copy2_avx2); }
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

/// Segments of tap (kd, kh, kw) for up to `runs` runs from `*pos` (advanced past them) to slab
/// column `end`.
static size_t build_segments(const convrt_conv_geometry *g, size_t kd, size_t kh, size_t kw,
                             walk_pos *pos, size_t end, size_t runs, segment *segs) {
    const ptrdiff_t shift_d = (ptrdiff_t)(kd * g->dilation_d) - (ptrdiff_t)g->pad_d;
    const ptrdiff_t shift_h = (ptrdiff_t)(kh * g->dilation_h) - (ptrdiff_t)g->pad_h;
    const ptrdiff_t shift_w = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_w;
    size_t lo, hi;
    valid_range(shift_w, g->stride_w, g->in_w, g->out_w, &lo, &hi);
    size_t count = 0;
    walk_pos p = *pos;
    for (size_t run = 0; run < runs && p.t < end; run++) {
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
    const size_t out_hw = g->out_h * g->out_w;
    const size_t taps = g->k_d * g->k_h * g->k_w;
    // Segments of `group` taps x `runs` runs at a time (at most 3 per run).
    size_t runs = SEGMENT_CAPACITY / (3 * taps);
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
    const size_t group = SEGMENT_CAPACITY / (3 * runs) < taps ? SEGMENT_CAPACITY / (3 * runs) : taps;
    segment segs[SEGMENT_CAPACITY];
    size_t first[SEGMENT_CAPACITY / 3 + 1];
    tap_group q = {g, segs, first, 0, 0, taps, x, g->in_d * g->in_h * g->in_w, dst, ldd};
    walk_pos batch = {0, n0 / out_hw, n0 % out_hw / g->out_w, n0 % g->out_w};
    while (batch.t < count) {
        walk_pos next = batch;
        for (q.tap0 = 0; q.tap0 < taps; q.tap0 += group) {
            q.width = taps - q.tap0 < group ? taps - q.tap0 : group;
            first[0] = 0;
            for (size_t i = 0; i < q.width; i++) {
                const size_t tap = q.tap0 + i;
                const size_t kw = tap % g->k_w, kh = tap / g->k_w % g->k_h, kd = tap / (g->k_w * g->k_h);
                next = batch;
                first[i + 1] = first[i] + build_segments(g, kd, kh, kw, &next, count, runs, segs + first[i]);
            }
            replay(&q);
        }
        batch = next;
    }
}
