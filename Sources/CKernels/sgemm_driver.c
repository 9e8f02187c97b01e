// SGEMM driver: ISA choice, packing of A, the plan (cache blocks and the work
// units threads share) and the blocked loop nest around the micro-kernels.
//
// One thread's units [u0, u1) of C[M x N] = epilogue(A[M x K] * B[K x N]):
//   for each N chunk the units touch (NC columns; units are chunk-major)
//     for each K block (KC rows; a function of K alone, so the bits never depend
//                       on the thread split)
//       pack B [kc x chunk] when B is not read in place (else a ragged last panel only)
//       for each M tile (MC rows) and NR-wide panel q of it
//         for each MR-row panel of A: micro-kernel, which loads/stores C and, on the
//                                     last K block, applies bias, residual, activation
#include "sgemm_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// MARK: - ISA selection

static const sgemm_kernel_set *kernel_set(convrt_isa isa) {
    switch (isa) {
    case CONVRT_ISA_PORTABLE: return sgemm_kernels_portable();
    case CONVRT_ISA_AVX2: return sgemm_kernels_avx2();
    case CONVRT_ISA_AVX512: return sgemm_kernels_avx512();
    case CONVRT_ISA_NEON: return sgemm_kernels_neon();
    default: return NULL;
    }
}

static int cpu_runs(convrt_isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    switch (isa) {
    case CONVRT_ISA_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case CONVRT_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: break;
    }
#endif
    return isa == CONVRT_ISA_PORTABLE || isa == CONVRT_ISA_NEON;
}

int convrt_isa_supported(convrt_isa isa) {
    if (isa == CONVRT_ISA_AUTO) return 1;
    return kernel_set(isa) != NULL && cpu_runs(isa);
}

convrt_isa convrt_isa_best(void) {
    static const convrt_isa order[] = {CONVRT_ISA_AVX512, CONVRT_ISA_AVX2, CONVRT_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (convrt_isa_supported(order[i])) return order[i];
    return CONVRT_ISA_PORTABLE;
}

/// The kernel set of a supported path (AUTO resolved), else NULL.
static const sgemm_kernel_set *usable_set(convrt_isa isa) {
    if (isa == CONVRT_ISA_AUTO) isa = convrt_isa_best();
    return convrt_isa_supported(isa) ? kernel_set(isa) : NULL;
}

const char *convrt_sgemm_kernel_name(convrt_isa isa) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? s->name : "";
}

size_t convrt_sgemm_mr(convrt_isa isa) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? s->mr : 0;
}

size_t convrt_sgemm_vector_width(convrt_isa isa) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? s->w : 0;
}

size_t convrt_sgemm_nr(convrt_isa isa) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? s->nr : 0;
}

// MARK: - Packing A (once, at load time)

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

size_t convrt_sgemm_packed_a_count(convrt_isa isa, size_t m, size_t k) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? ceil_div(m, s->mr) * s->mr * k : 0;
}

// Element (i, p) of A at a[i * row_step + p * col_step] -> ceil(m / MR) panels of [k][MR],
// rows past m zero. Full panels of rows adjacent in memory (A given transposed) are
// fixed-size copies, which the compiler turns into vector moves (the element loop stays
// scalar: it cannot rule out overlap).
static void pack_a_strided(const sgemm_kernel_set *s, size_t m, size_t k, const float *a, size_t row_step,
                           size_t col_step, float *packed) {
    const size_t mr = s->mr;
    for (size_t i0 = 0; i0 < m; i0 += mr) {
        float *panel = packed + i0 * k;
        const size_t rows = min_size(mr, m - i0);
        const float *src = a + i0 * row_step;
        if (row_step == 1 && rows == 6 && mr == 6) {
            for (size_t p = 0; p < k; p++) memcpy(panel + p * 6, src + p * col_step, 6 * sizeof(float));
            continue;
        }
        if (row_step == 1 && rows == 8 && mr == 8) {
            for (size_t p = 0; p < k; p++) memcpy(panel + p * 8, src + p * col_step, 8 * sizeof(float));
            continue;
        }
        for (size_t p = 0; p < k; p++) {
            for (size_t r = 0; r < mr; r++)
                panel[p * mr + r] = r < rows ? src[r * row_step + p * col_step] : 0.0f;
        }
    }
}

// [m x k] (row stride lda).
void convrt_sgemm_pack_a(convrt_isa isa, size_t m, size_t k, const float *a, size_t lda,
                         float *packed) {
    const sgemm_kernel_set *s = usable_set(isa);
    if (s) pack_a_strided(s, m, k, a, lda, 1, packed);
}

// [k x m] At (row stride ldat) -> A = At^T.
void convrt_sgemm_pack_a_transposed(convrt_isa isa, size_t m, size_t k, const float *at,
                                    size_t ldat, float *packed) {
    const sgemm_kernel_set *s = usable_set(isa);
    if (s) pack_a_strided(s, m, k, at, 1, ldat, packed);
}

size_t convrt_sgemm_packed_b_count(convrt_isa isa, size_t k, size_t n) {
    const sgemm_kernel_set *s = usable_set(isa);
    return s ? ceil_div(n, s->nr) * s->nr * k : 0;
}

// The per-ISA B packer over the whole K: panel q is [k][NR] at packed + q * k * NR.
void convrt_sgemm_pack_b(convrt_isa isa, size_t k, size_t n, const float *b, size_t ldb,
                         float *packed) {
    const sgemm_kernel_set *s = usable_set(isa);
    if (s && k > 0 && n > 0) s->pack_b(k, n, b, ldb, packed);
}

// MARK: - Plan

int convrt_sgemm_plan_make(convrt_isa isa, size_t m, size_t n, size_t k, size_t threads,
                           convrt_sgemm_plan *plan) {
    const sgemm_kernel_set *s = usable_set(isa);
    if (!s) return -1;
    memset(plan, 0, sizeof *plan);
    threads = max_size(threads, 1);
    plan->isa = s->isa;
    plan->m = m, plan->n = n, plan->k = k;
    plan->mr = s->mr, plan->nr = s->nr;
    // K blocks of equal length (a function of k alone, so the rounding is too).
    plan->k_blocks = max_size(ceil_div(k, s->kc_max), 1);
    plan->kc = ceil_div(k, plan->k_blocks);
    plan->panels = ceil_div(n, s->nr);
    plan->chunk_panels = max_size(s->nc_max / s->nr, 1);
    // M tiles: as few as L2 allows, more when too few column panels to share.
    const size_t m_panels = max_size(ceil_div(m, s->mr), 1);
    size_t tiles_m = ceil_div(m_panels * s->mr, s->mc_max);
    if (threads > 1 && plan->panels < 4 * threads)
        tiles_m = max_size(tiles_m, min_size(threads, m_panels));
    const size_t panels_per_tile = ceil_div(m_panels, max_size(tiles_m, 1));
    plan->tile_m = panels_per_tile * s->mr;
    plan->tiles_m = ceil_div(m_panels, panels_per_tile);
    plan->units = plan->tiles_m * plan->panels;
    return 0;
}

// Units are ordered chunk by chunk (chunk_panels panels), M tile by M tile
// within a chunk, then panel by panel, so one thread's run of units mostly
// shares one packed B block.
typedef struct {
    size_t chunk, tile, panel;  // panel index is global
} unit_pos;

static unit_pos unit_at(const convrt_sgemm_plan *p, size_t u) {
    const size_t per_chunk = p->tiles_m * p->chunk_panels;
    const size_t chunk = u / per_chunk;
    const size_t first = chunk * p->chunk_panels;
    const size_t width = min_size(p->chunk_panels, p->panels - first);
    const size_t rel = u - chunk * per_chunk;
    return (unit_pos){chunk, rel / width, first + rel % width};
}

static size_t unit_cost(const convrt_sgemm_plan *p, const sgemm_kernel_set *s, size_t u) {
    const unit_pos pos = unit_at(p, u);
    const size_t rows = min_size(p->tile_m, p->m - min_size(p->m, pos.tile * p->tile_m));
    const size_t cols = min_size(p->nr, p->n - pos.panel * p->nr);
    return rows * ceil_div(cols, s->w);
}

void convrt_sgemm_plan_partition(const convrt_sgemm_plan *plan, size_t part, size_t parts,
                                 size_t *begin, size_t *end) {
    const sgemm_kernel_set *s = kernel_set((convrt_isa)plan->isa);
    *begin = *end = 0;
    if (!s || parts == 0 || part >= parts) return;
    if (parts == 1) {  // the whole range, without costing every unit
        *end = plan->units;
        return;
    }
    size_t total = 0;
    for (size_t u = 0; u < plan->units; u++) total += unit_cost(plan, s, u);
    // begin(i) = first unit whose preceding work reaches i/parts of the total.
    const double lo = (double)total * part / parts, hi = (double)total * (part + 1) / parts;
    size_t prefix = 0, u = 0;
    for (; u < plan->units && (double)prefix < lo; u++) prefix += unit_cost(plan, s, u);
    *begin = u;
    for (; u < plan->units && (double)prefix < hi; u++) prefix += unit_cost(plan, s, u);
    *end = part + 1 == parts ? plan->units : u;
}

// MARK: - Per-thread packing buffer

typedef struct {
    float *data;
    size_t count;
} workspace;

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;
static int workspace_key_ok;

static void workspace_free(void *p) {
    workspace *w = p;
    free(w->data);
    free(w);
}

static void workspace_init(void) { workspace_key_ok = pthread_key_create(&workspace_key, workspace_free) == 0; }

// A 64-byte aligned buffer of at least `count` floats, reused by this thread.
static float *workspace_get(size_t count) {
    count = max_size(count, 16);  // never empty: NULL means failure
    pthread_once(&workspace_once, workspace_init);
    if (!workspace_key_ok) return NULL;
    workspace *w = pthread_getspecific(workspace_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w || pthread_setspecific(workspace_key, w) != 0) {
            free(w);
            return NULL;
        }
    }
    if (w->count < count) {
        free(w->data);
        w->data = NULL, w->count = 0;
        void *p = NULL;
        if (posix_memalign(&p, 64, count * sizeof(float)) != 0) return NULL;
        w->data = p, w->count = count;
    }
    return w->data;
}

// MARK: - Compute

// Reading B in place (no packing) is fastest while one micro-panel's kc rows
// spread over the cache's sets; row strides near a multiple of 4 KiB put them
// all in a few sets, and then B is packed instead. 64 KiB spans the set index
// of the L2s this targets (1024 sets of 64-byte lines).
static int b_in_place(size_t ldb, size_t kc) {
    const size_t span = 65536, stride = (ldb * sizeof(float)) % span;
    size_t g = span, x = stride;  // gcd(stride, span); distinct row offsets = span / gcd
    while (x) {
        const size_t t = g % x;
        g = x, x = t;
    }
    return span / g >= kc / 4;
}

typedef struct {
    const convrt_sgemm_plan *plan;
    const sgemm_kernel_set *set;
    const float *packed_a, *b;  // b: B's row b_row0
    size_t ldb, b_row0;
    size_t kb_begin, kb_end;    // the K blocks to run
    float *c;
    size_t ldc;
    const convrt_sgemm_epilogue *epi;
    float *bpack;
    int in_place;
    int prepacked;  // b is whole panels from convrt_sgemm_pack_b
} job;

// Where panel q of the current K block is: in place in B, or in the packing buffer.
typedef struct {
    size_t pc;         // first K row of the block
    size_t qbase;      // first packed panel
    size_t kc;
} block;

static const float *panel_b(const job *j, const block *blk, size_t q, size_t *ld) {
    const convrt_sgemm_plan *p = j->plan;
    const size_t cols = min_size(p->nr, p->n - q * p->nr);
    if (j->prepacked) {
        *ld = p->nr;
        return j->b + (q * p->k + blk->pc) * p->nr;
    }
    if (j->in_place && cols % j->set->w == 0) {
        *ld = j->ldb;
        return j->b + (blk->pc - j->b_row0) * j->ldb + q * p->nr;
    }
    *ld = p->nr;
    return j->bpack + (q - blk->qbase) * blk->kc * p->nr;
}

// Panels [q0, q1) of M tile `tile` for one K block: each B micro-panel stays in
// L1 while every MR-row panel of the tile passes over it.
static void run_tile(const job *j, const block *blk, size_t kb, size_t tile, size_t q0, size_t q1) {
    const convrt_sgemm_plan *p = j->plan;
    const convrt_sgemm_epilogue *epi = j->epi;
    const size_t mr = p->mr, nr = p->nr;
    const size_t r_begin = tile * p->tile_m, r_end = min_size(p->m, r_begin + p->tile_m);
    sgemm_tile_epilogue te = {
        .alpha = epi->alpha,
        .load_c = kb > 0 || epi->accumulate,
        .last = kb + 1 == p->k_blocks,
        .ldr = epi->ldr,
        .activation = epi->activation,
        .lo = epi->lo, .hi = epi->hi, .slope = epi->slope,
    };
    for (size_t q = q0; q < q1; q++) {
        const size_t c0 = q * nr, cols = min_size(nr, p->n - c0);
        size_t ldb;
        const float *b = panel_b(j, blk, q, &ldb);
        for (size_t r0 = r_begin; r0 < r_end; r0 += mr) {
            const size_t rows = min_size(mr, r_end - r0);
            const sgemm_ukernel kernel = j->set->kernels[rows - 1][ceil_div(cols, j->set->w) - 1];
            te.bias = te.last && epi->bias ? epi->bias + r0 : NULL;
            te.residual = te.last && epi->residual ? epi->residual + r0 * epi->ldr + c0 : NULL;
            kernel(blk->kc, j->packed_a + r0 * p->k + blk->pc * mr, b, ldb,
                   j->c + r0 * j->ldc + c0, j->ldc, cols, &te);
        }
    }
}

// Packs what the block reads from the buffer: the panels [qlo, qhi), or in
// place only a last panel whose width is not whole vectors.
static void pack_block(const job *j, block *blk, size_t qlo, size_t qhi) {
    const convrt_sgemm_plan *p = j->plan;
    blk->qbase = qlo;
    if (j->prepacked) return;
    if (j->in_place) {
        const size_t last = p->panels - 1, cols = p->n - last * p->nr;
        if (qhi != p->panels || cols % j->set->w == 0) return;
        blk->qbase = last, qlo = last;
    }
    const size_t c0 = qlo * p->nr, ncols = min_size(p->n, qhi * p->nr) - c0;
    j->set->pack_b(blk->kc, ncols, j->b + (blk->pc - j->b_row0) * j->ldb + c0, j->ldb, j->bpack);
}

// Units [u0, u1), all inside one chunk (chunk_panels panels).
static void run_chunk(const job *j, size_t u0, size_t u1) {
    const convrt_sgemm_plan *p = j->plan;
    const unit_pos first = unit_at(p, u0), last = unit_at(p, u1 - 1);
    const size_t chunk_first = first.chunk * p->chunk_panels;
    const size_t chunk_end = min_size(p->panels, chunk_first + p->chunk_panels);
    // One tile: only its panels; several: the whole chunk is needed.
    const size_t qlo = first.tile == last.tile ? first.panel : chunk_first;
    const size_t qhi = first.tile == last.tile ? last.panel + 1 : chunk_end;
    for (size_t kb = j->kb_begin; kb < j->kb_end; kb++) {
        block blk = {kb * p->kc, qlo, 0};
        blk.kc = min_size(p->kc, p->k - min_size(p->k, blk.pc));
        pack_block(j, &blk, qlo, qhi);
        for (size_t t = first.tile; t <= last.tile; t++) {
            const size_t q0 = t == first.tile ? first.panel : chunk_first;
            const size_t q1 = t == last.tile ? last.panel + 1 : chunk_end;
            run_tile(j, &blk, kb, t, q0, q1);
        }
    }
}

// K blocks [kb_begin, kb_end) of the units [unit_begin, unit_end); `b` is B's row b_row0.
static int compute(const convrt_sgemm_plan *plan, const float *packed_a, const float *b,
                   size_t ldb, size_t b_row0, float *c, size_t ldc,
                   const convrt_sgemm_epilogue *epilogue, size_t unit_begin, size_t unit_end,
                   size_t kb_begin, size_t kb_end, int prepacked) {
    static const convrt_sgemm_epilogue identity = {.alpha = 1.0f};
    const sgemm_kernel_set *set = kernel_set((convrt_isa)plan->isa);
    if (!set) return -1;
    unit_end = min_size(unit_end, plan->units);
    if (unit_begin >= unit_end) return 0;
    const int in_place = !prepacked && b_in_place(ldb, plan->kc);
    const size_t panels = in_place ? 1 : plan->chunk_panels;
    float *bpack = prepacked ? NULL : workspace_get(plan->kc * panels * plan->nr);
    if (!prepacked && !bpack) return -1;
    const job j = {plan, set, packed_a, b, ldb, b_row0, kb_begin, kb_end, c, ldc,
                   epilogue ? epilogue : &identity, bpack, in_place, prepacked};
    const size_t per_chunk = plan->tiles_m * plan->chunk_panels;
    for (size_t u = unit_begin; u < unit_end;) {
        const size_t chunk = u / per_chunk;
        const size_t width = min_size(plan->chunk_panels, plan->panels - chunk * plan->chunk_panels);
        const size_t next = min_size(unit_end, chunk * per_chunk + plan->tiles_m * width);
        run_chunk(&j, u, next);
        u = next;
    }
    return 0;
}

int convrt_sgemm_compute(const convrt_sgemm_plan *plan, const float *packed_a, const float *b,
                         size_t ldb, float *c, size_t ldc, const convrt_sgemm_epilogue *epilogue,
                         size_t unit_begin, size_t unit_end) {
    return compute(plan, packed_a, b, ldb, 0, c, ldc, epilogue, unit_begin, unit_end, 0,
                   plan->k_blocks, 0);
}

int convrt_sgemm_compute_packed_b(const convrt_sgemm_plan *plan, const float *packed_a,
                                  const float *packed_b, float *c, size_t ldc,
                                  const convrt_sgemm_epilogue *epilogue, size_t unit_begin,
                                  size_t unit_end) {
    return compute(plan, packed_a, packed_b, plan->nr, 0, c, ldc, epilogue, unit_begin, unit_end, 0,
                   plan->k_blocks, 1);
}

int convrt_sgemm_compute_kblock(const convrt_sgemm_plan *plan, const float *packed_a,
                                const float *b_block, size_t ldb, float *c, size_t ldc,
                                const convrt_sgemm_epilogue *epilogue, size_t unit_begin,
                                size_t unit_end, size_t kb) {
    if (kb >= plan->k_blocks) return 0;
    return compute(plan, packed_a, b_block, ldb, kb * plan->kc, c, ldc, epilogue, unit_begin,
                   unit_end, kb, kb + 1, 0);
}
