// Persistent thread pool (see convrt_pool.h).
//
// The caller of a loop publishes it in `pool.job`, opens the job's gate (a sequence number,
// a closed bit and a count of helpers inside, in one atomic word), then bumps the tickets
// of the workers it asks to help. A worker spins on its ticket for a short while after each
// loop, then sleeps on `pool.wake` (the caller broadcasts only when someone sleeps). A woken
// worker enters the job through the gate only while it is open, then claims items from one
// atomic counter, so a thread slowed by other load on the machine simply takes fewer items.
// The caller takes items too; when none are left it closes the gate and waits (spinning,
// then on `pool.done`) only for the helpers that entered: a helper the OS has not run yet
// costs the loop nothing, and finds the gate closed when it does run. Once no helper is
// inside a closed gate, the job may be overwritten by the next loop.
#include "convrt_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define POOL_MAX_WORKERS 255
#define POOL_SPIN_NS 100000L  // how long an idle thread polls before it sleeps

// The gate: bits 0-31 helpers inside, bit 32 closed, bits 33-63 the job's sequence number.
#define GATE_INSIDE 0xffffffffull
#define GATE_CLOSED (1ull << 32)
#define GATE_SEQ_SHIFT 33

typedef struct {
    convrt_pool_body body;
    void *context;
    size_t count;
    _Atomic size_t next;  // the next unclaimed item
} pool_job;

typedef struct {
    _Alignas(64) _Atomic uint64_t ticket;  // the sequence number of the last job offered to it
} worker_slot;

static struct {
    pthread_mutex_t lock;    // guards sleepers, caller_waiting and worker creation
    pthread_cond_t wake;     // idle workers sleep here
    pthread_cond_t done;     // a caller waiting for its helpers sleeps here
    pthread_mutex_t region;  // held by the caller of the loop running on the pool
    size_t workers;          // started so far; worker w (1-based) owns slots[w]
    size_t sleepers;
    int caller_waiting;
    uint64_t seq;            // the last job's sequence number (written under region)
    _Alignas(64) _Atomic uint64_t gate;
    pool_job job;
    worker_slot slots[POOL_MAX_WORKERS + 1];
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .region = PTHREAD_MUTEX_INITIALIZER,
    .gate = GATE_CLOSED,
};

// Set on pool workers, and on a caller while its loop runs: a loop started there is nested.
static _Thread_local int inside_loop;

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

// Polls until `done(arg)` or POOL_SPIN_NS have passed; returns done(arg).
static int spin_until(int (*done)(const void *), const void *arg) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned i = 1;; i++) {
        if (done(arg)) return 1;
        cpu_relax();
        if (i % 64 == 0 && elapsed_ns(&start) > POOL_SPIN_NS) return done(arg);
    }
}

static void run_items(pool_job *job, size_t worker) {
    for (;;) {
        const size_t i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (i >= job->count) return;
        job->body(job->context, i, worker);
    }
}

// Enters job `seq` if its gate is still open; returns whether it did.
static int enter(uint64_t seq) {
    uint64_t g = atomic_load_explicit(&pool.gate, memory_order_relaxed);
    for (;;) {
        if ((g >> GATE_SEQ_SHIFT) != seq || (g & GATE_CLOSED)) return 0;
        if (atomic_compare_exchange_weak_explicit(&pool.gate, &g, g + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return 1;
    }
}

static void leave(void) {
    const uint64_t g = atomic_fetch_sub_explicit(&pool.gate, 1, memory_order_release) - 1;
    if ((g & GATE_CLOSED) && (g & GATE_INSIDE) == 0) {
        // The last helper out of a closed job: wake the caller if it went to sleep.
        pthread_mutex_lock(&pool.lock);
        if (pool.caller_waiting) pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
}

typedef struct {
    const worker_slot *slot;
    uint64_t seen;
} ticket_wait;

static int ticket_moved(const void *arg) {
    const ticket_wait *w = arg;
    return atomic_load_explicit(&w->slot->ticket, memory_order_acquire) != w->seen;
}

static void *worker_main(void *arg) {
    const size_t id = (size_t)arg;
    inside_loop = 1;
    ticket_wait wait = {&pool.slots[id], 0};
    for (;;) {
        if (!spin_until(ticket_moved, &wait)) {
            pthread_mutex_lock(&pool.lock);
            while (!ticket_moved(&wait)) {
                pool.sleepers++;
                pthread_cond_wait(&pool.wake, &pool.lock);
                pool.sleepers--;
            }
            pthread_mutex_unlock(&pool.lock);
        }
        wait.seen = atomic_load_explicit(&wait.slot->ticket, memory_order_acquire);
        if (!enter(wait.seen)) continue;  // too late: the caller finished without us
        run_items(&pool.job, id);
        leave();
    }
    return NULL;
}

// Starts workers until there are `wanted`; returns how many there are. Called with region held.
static size_t ensure_workers(size_t wanted) {
    pthread_mutex_lock(&pool.lock);
    while (pool.workers < wanted) {
        pthread_attr_t attr;
        pthread_t thread;
        int ok = pthread_attr_init(&attr) == 0;
        if (ok) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            ok = pthread_create(&thread, &attr, worker_main, (void *)(pool.workers + 1)) == 0;
            pthread_attr_destroy(&attr);
        }
        if (!ok) break;  // run with the workers there are
        pool.workers++;
    }
    const size_t have = pool.workers;
    pthread_mutex_unlock(&pool.lock);
    return have;
}

static int helpers_out(const void *arg) {
    (void)arg;
    return (atomic_load_explicit(&pool.gate, memory_order_acquire) & GATE_INSIDE) == 0;
}

static void run_serially(size_t count, convrt_pool_body body, void *context) {
    const int outer = inside_loop;
    inside_loop = 1;
    for (size_t i = 0; i < count; i++) body(context, i, 0);
    inside_loop = outer;
}

void convrt_pool_parallel_for(size_t count, size_t threads, convrt_pool_body body, void *context) {
    if (count == 0) return;
    size_t helpers = (threads < count ? threads : count);
    helpers = helpers > 0 ? helpers - 1 : 0;
    if (helpers > POOL_MAX_WORKERS) helpers = POOL_MAX_WORKERS;
    if (helpers == 0 || inside_loop || pthread_mutex_trylock(&pool.region) != 0) {
        run_serially(count, body, context);
        return;
    }
    const size_t started = ensure_workers(helpers);
    if (started < helpers) helpers = started;
    if (helpers == 0) {
        pthread_mutex_unlock(&pool.region);
        run_serially(count, body, context);
        return;
    }
    // The previous job's gate is closed with nobody inside: the job is free to rewrite.
    pool_job *job = &pool.job;
    job->body = body;
    job->context = context;
    job->count = count;
    atomic_store_explicit(&job->next, 0, memory_order_relaxed);
    const uint64_t seq = ++pool.seq & ((1ull << (64 - GATE_SEQ_SHIFT)) - 1);
    atomic_store_explicit(&pool.gate, seq << GATE_SEQ_SHIFT, memory_order_release);
    for (size_t w = 1; w <= helpers; w++)
        atomic_store_explicit(&pool.slots[w].ticket, seq, memory_order_release);
    pthread_mutex_lock(&pool.lock);
    if (pool.sleepers > 0) pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    inside_loop = 1;
    run_items(job, 0);
    inside_loop = 0;
    // Every item is claimed: no one else may enter; wait for those inside to finish theirs.
    atomic_fetch_or_explicit(&pool.gate, GATE_CLOSED, memory_order_acq_rel);
    if (!spin_until(helpers_out, NULL)) {
        pthread_mutex_lock(&pool.lock);
        pool.caller_waiting = 1;
        while (!helpers_out(NULL)) pthread_cond_wait(&pool.done, &pool.lock);
        pool.caller_waiting = 0;
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.region);
}

size_t convrt_pool_worker_count(void) {
    pthread_mutex_lock(&pool.lock);
    const size_t n = pool.workers;
    pthread_mutex_unlock(&pool.lock);
    return n;
}
