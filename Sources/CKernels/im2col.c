// Blocked im2col (see convrt_im2col.h).
//
// Tap by tap (kd, kh, kw), the block's output pixels are walked as runs along output rows;
// a run of a slab row is a zero prefix (left padding), a copy with the stride and a zero
// suffix (all zeros when its input row is in the padding). The runs depend on the tap alone,
// so they are built once and replayed for every input channel, whose rows differ only in
// their base pointer: channel by channel, all taps of a group, so a channel's input is read
// from L1 by all its taps, with the input of a few channels ahead prefetched. Replaying is
// short vector copies: AVX2 on x86-64 when the CPU has it (chosen at run time), plain C
// otherwise.
#include "convrt_im2col.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define IM2COL_X86 1
#endif

/// One run of a slab row: `z0` zeros from column `t`, then `n` floats copied from the channel
/// plane at `src` (input columns src, src + stride, ...), then `z1` zeros.
typedef struct {
    uint32_t t, z0, n, z1;
    ptrdiff_t src;
} run;

/// Runs built at a time (6 KiB on the stack), the most runs of one tap in a batch, and the
/// most input ranges prefetched per channel.
#define RUN_CAPACITY 256
#define MAX_RUNS 64
#define MAX_PREFETCHES 64
/// How many channels ahead of the copies the input is prefetched.
#define PREFETCH_CHANNELS 4

/// Input a channel's runs read, relative to its plane, in bytes.
typedef struct {
    ptrdiff_t offset;
    size_t bytes;
} byte_range;

/// The runs of `width` consecutive taps (from `tap0`), where their rows go, and what to prefetch.
typedef struct {
    const convrt_conv_geometry *g;
    const run *runs;
    const size_t *first;  // tap tap0 + i has runs [first[i], first[i + 1])
    size_t tap0, width, taps;
    const float *x;
    size_t plane;
    size_t row0, rows;  // the slab rows wanted: (channel, tap) rows [row0, row0 + rows)
    float *dst;         // row row0
    size_t ldd;
    const byte_range *prefetch;
    size_t prefetches;
} tap_group;

typedef void (*replay_fn)(const tap_group *group);

static inline void prefetch_channel(const tap_group *q, const float *x) {
    for (size_t i = 0; i < q->prefetches; i++) {
        const char *p = (const char *)x + q->prefetch[i].offset;
        for (size_t o = 0; o < q->prefetch[i].bytes; o += 64) __builtin_prefetch(p + o, 0, 3);
    }
}

// Every channel, every tap of the group: the same loop for each ISA, with its own copies.
#define REPLAY_GROUP(q, ZERO, COPY1, COPY2)                                                      \
    do {                                                                                         \
        const convrt_conv_geometry *g_ = (q)->g;                                                 \
        const size_t stride_ = g_->stride_w, end_ = (q)->row0 + (q)->rows;                       \
        const size_t c0_ = (q)->row0 / (q)->taps, c1_ = (end_ + (q)->taps - 1) / (q)->taps;      \
        for (size_t c = c0_; c < c1_; c++) {                                                     \
            if (c == c0_)                                                                        \
                for (size_t p = c; p < c + PREFETCH_CHANNELS && p < c1_; p++)                    \
                    prefetch_channel((q), (q)->x + p * (q)->plane);                              \
            if (c + PREFETCH_CHANNELS < c1_)                                                     \
                prefetch_channel((q), (q)->x + (c + PREFETCH_CHANNELS) * (q)->plane);            \
            const float *xc = (q)->x + c * (q)->plane;                                           \
            for (size_t i = 0; i < (q)->width; i++) {                                            \
                const size_t r_ = c * (q)->taps + (q)->tap0 + i;                                 \
                if (r_ < (q)->row0 || r_ >= end_) continue;                                      \
                float *row = (q)->dst + (r_ - (q)->row0) * (q)->ldd;                             \
                for (size_t r = (q)->first[i]; r < (q)->first[i + 1]; r++) {                     \
                    const run u = (q)->runs[r];                                                  \
                    float *d = row + u.t;                                                        \
                    if (u.z0) ZERO(d, u.z0);                                                     \
                    d += u.z0;                                                                   \
                    if (u.n) {                                                                   \
                        if (stride_ == 1) {                                                      \
                            COPY1(d, xc + u.src, u.n);                                           \
                        } else if (stride_ == 2) {                                               \
                            COPY2(d, xc + u.src, u.n);                                           \
                        } else {                                                                 \
                            const float *s_ = xc + u.src;                                        \
                            for (size_t j = 0; j < u.n; j++) d[j] = s_[j * stride_];             \
                        }                                                                        \
                    }                                                                            \
                    if (u.z1) ZERO(d + u.n, u.z1);                                               \
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

// Every other float: s[2j], s[2j + 2], ..., s[2j + 14] from two loads, s[2j..2j+7] and
// s[2j+7..2j+14] (so nothing past the run's last float, s[2n - 2], is read), even lanes of
// the first and odd lanes of the second, put in order. The tail is a whole vector ending at
// the run's end, overlapping the previous one.
AVX2 static inline __m256 even8_avx2(const float *s) {
    const __m256 lo = _mm256_loadu_ps(s), hi = _mm256_loadu_ps(s + 7);
    const __m256 picked = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(picked), 0xD8));
}

AVX2 static inline void copy2_avx2(float *d, const float *s, size_t n) {
    if (n < 8) {
        for (size_t j = 0; j < n; j++) d[j] = s[2 * j];
        return;
    }
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(d + j, even8_avx2(s + 2 * j));
    if (j < n) _mm256_storeu_ps(d + n - 8, even8_avx2(s + 2 * (n - 8)));
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

static void push(run *runs, size_t *count, run u) {
    if (u.n == 0) u.z0 += u.z1, u.z1 = 0;  // all zeros
    run *last = *count ? &runs[*count - 1] : NULL;
    if (u.n == 0 && last && last->t + last->z0 + last->n + last->z1 == u.t) {
        *(last->n ? &last->z1 : &last->z0) += u.z0;  // rows in the padding extend the zeros
        return;
    }
    runs[(*count)++] = u;
}

/// Runs of tap (kd, kh, kw) for up to `limit` output rows from `*pos` (advanced past them) to
/// slab column `end`.
static size_t build_runs(const convrt_conv_geometry *g, size_t kd, size_t kh, size_t kw,
                         walk_pos *pos, size_t end, size_t limit, run *runs) {
    const ptrdiff_t shift_d = (ptrdiff_t)(kd * g->dilation_d) - (ptrdiff_t)g->pad_d;
    const ptrdiff_t shift_h = (ptrdiff_t)(kh * g->dilation_h) - (ptrdiff_t)g->pad_h;
    const ptrdiff_t shift_w = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_w;
    size_t lo, hi;
    valid_range(shift_w, g->stride_w, g->in_w, g->out_w, &lo, &hi);
    size_t count = 0;
    walk_pos p = *pos;
    for (size_t i = 0; i < limit && p.t < end; i++) {
        const size_t stop = p.ow + (g->out_w - p.ow < end - p.t ? g->out_w - p.ow : end - p.t);
        const ptrdiff_t id = (ptrdiff_t)(p.od * g->stride_d) + shift_d;
        const ptrdiff_t ih = (ptrdiff_t)(p.oh * g->stride_h) + shift_h;
        if (id < 0 || id >= (ptrdiff_t)g->in_d || ih < 0 || ih >= (ptrdiff_t)g->in_h) {
            push(runs, &count, (run){(uint32_t)p.t, (uint32_t)(stop - p.ow), 0, 0, 0});
        } else {
            const size_t a = lo < p.ow ? p.ow : lo > stop ? stop : lo;
            const size_t b = hi < a ? a : hi > stop ? stop : hi;
            const ptrdiff_t row = ((ptrdiff_t)id * (ptrdiff_t)g->in_h + ih) * (ptrdiff_t)g->in_w;
            const ptrdiff_t src = b > a ? row + (ptrdiff_t)(a * g->stride_w) + shift_w : 0;
            push(runs, &count, (run){(uint32_t)p.t, (uint32_t)(a - p.ow), (uint32_t)(b - a),
                                     (uint32_t)(stop - b), src});
        }
        p.t += stop - p.ow;
        p.ow = 0;
        if (++p.oh == g->out_h) p.oh = 0, p.od++;
    }
    *pos = p;
    return count;
}

/// What to prefetch of each channel for the group: the span of everything its runs read when
/// that is mostly needed, else the spans of the taps with kw = 0 (the taps along w that
/// follow read `extra` floats more). Returns the number of ranges.
static size_t plan_prefetch(const tap_group *q, byte_range *out) {
    const convrt_conv_geometry *g = q->g;
    const size_t extra = (g->k_w - 1) * g->dilation_w;
    ptrdiff_t lo = PTRDIFF_MAX, hi = PTRDIFF_MIN;
    size_t needed = 0, count = 0;
    for (size_t i = 0; i < q->width; i++) {
        for (size_t r = q->first[i]; r < q->first[i + 1]; r++) {
            const run u = q->runs[r];
            if (u.n == 0) continue;
            const ptrdiff_t end = u.src + (ptrdiff_t)((u.n - 1) * g->stride_w + 1);
            lo = u.src < lo ? u.src : lo;
            hi = end > hi ? end : hi;
            if ((q->tap0 + i) % g->k_w != 0) continue;
            const size_t bytes = ((u.n - 1) * g->stride_w + 1 + extra) * sizeof(float) + 63;
            needed += bytes;
            if (count < MAX_PREFETCHES) out[count++] = (byte_range){u.src * (ptrdiff_t)sizeof(float), bytes};
        }
    }
    if (lo < hi && (size_t)(hi - lo) * sizeof(float) <= 2 * needed) {
        out[0] = (byte_range){lo * (ptrdiff_t)sizeof(float), (size_t)(hi - lo) * sizeof(float) + 63};
        return 1;
    }
    return count;
}

void convrt_im2col_block(const convrt_conv_geometry *g, const float *x, size_t n0, size_t count,
                         size_t row0, size_t rows, float *dst, size_t ldd) {
    static _Atomic(replay_fn) picked;
    replay_fn replay = atomic_load_explicit(&picked, memory_order_relaxed);
    if (!replay) {  // every thread picks the same function
        replay = pick_replay();
        atomic_store_explicit(&picked, replay, memory_order_relaxed);
    }
    const size_t out_hw = g->out_h * g->out_w;
    const size_t taps = g->k_d * g->k_h * g->k_w;
    // Runs of `group` taps x `per_tap` output rows at a time.
    size_t per_tap = RUN_CAPACITY / taps;
    per_tap = per_tap < 1 ? 1 : per_tap > MAX_RUNS ? MAX_RUNS : per_tap;
    const size_t group = RUN_CAPACITY / per_tap < taps ? RUN_CAPACITY / per_tap : taps;
    run runs[RUN_CAPACITY];
    size_t first[RUN_CAPACITY + 1];
    byte_range prefetch[MAX_PREFETCHES];
    tap_group q = {g, runs, first, 0, 0, taps, x, g->in_d * g->in_h * g->in_w, row0, rows, dst, ldd,
                   prefetch, 0};
    // Only the taps of the wanted rows when they are within one channel, else all.
    const int within = rows < taps && row0 % taps + rows <= taps;
    const size_t tap_lo = within ? row0 % taps : 0, tap_hi = within ? row0 % taps + rows : taps;
    walk_pos batch = {0, n0 / out_hw, n0 % out_hw / g->out_w, n0 % g->out_w};
    while (batch.t < count) {
        walk_pos next = batch;
        for (q.tap0 = tap_lo; q.tap0 < tap_hi; q.tap0 += group) {
            q.width = tap_hi - q.tap0 < group ? tap_hi - q.tap0 : group;
            first[0] = 0;
            for (size_t i = 0; i < q.width; i++) {
                const size_t tap = q.tap0 + i;
                const size_t kw = tap % g->k_w, kh = tap / g->k_w % g->k_h, kd = tap / (g->k_w * g->k_h);
                next = batch;
                first[i + 1] = first[i] + build_runs(g, kd, kh, kw, &next, count, per_tap, runs + first[i]);
            }
            q.prefetches = plan_prefetch(&q, prefetch);
            replay(&q);
        }
        batch = next;
    }
}
