/// A persistent thread pool for parallel loops (pthreads; Linux and macOS).
///
/// Workers are created on first use and live for the process. Between loops they spin
/// briefly (so back-to-back layers start without a wake-up system call), then sleep on a
/// condition variable, so an idle pool costs no CPU.
///
/// One loop runs on the pool at a time. A caller that finds the pool busy (another thread's
/// loop, e.g. a second model run concurrently from another task), or that calls from inside
/// a loop (nesting), runs its loop serially on its own thread instead of waiting: no caller
/// ever blocks on another, so concurrent and nested use cannot deadlock.
#ifndef CONVRT_POOL_H
#define CONVRT_POOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One loop body call: item `item` of the loop, run by worker `worker` (0 is the calling
/// thread; every worker index is below the loop's thread count, and no two calls running
/// at the same time have the same worker index, so it can select a per-thread buffer).
typedef void (*convrt_pool_body)(void *context, size_t item, size_t worker);

/// Calls `body(context, i, worker)` exactly once for each `i` in [0, count), on at most
/// `threads` threads (the calling thread included), claiming items dynamically in
/// increasing order. Returns when every call has returned.
void convrt_pool_parallel_for(size_t count, size_t threads, convrt_pool_body body, void *context);

/// The number of worker threads the pool has started so far (not counting callers).
size_t convrt_pool_worker_count(void);

#ifdef __cplusplus
}
#endif

#endif
