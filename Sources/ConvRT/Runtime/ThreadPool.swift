import CKernels

/// Runs independent work items on up to `threads` threads. Every kernel that splits work
/// goes through here, so there is one place that owns the threads.
///
/// The threads are a persistent pool (`convrt_pool.h`): started on first use, they poll
/// briefly after each loop, so consecutive layers start without a wake-up system call,
/// then sleep. One loop runs on the pool at a time; a loop started while the pool is busy
/// (another model running concurrently from another task) or from inside a loop body
/// (nesting) runs serially on its caller's thread instead of waiting, so concurrent and
/// nested callers never deadlock.
///
/// Callers must make the result independent of how items land on threads (split over
/// output tiles, never over a reduction), so results are identical for any thread count.
public enum ThreadPool {
    /// Calls `body(i)` for every `i` in `0..<count`, on at most `threads` threads
    /// (the calling thread included). Returns when all calls have returned.
    static func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        parallelFor(count, threads: threads) { item, _ in body(item) }
    }

    /// Calls `body(item, worker)` for every `item` in `0..<count`, on at most `threads`
    /// threads. `worker` is in `0..<threads` and unique among calls running at the same
    /// time: it can pick a per-thread buffer.
    static func parallelFor(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { context in
                convrt_pool_parallel_for(count, threads, { context, item, worker in
                    context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(item, worker)
                }, context)
            }
        }
    }

    /// Worker threads the pool has started (for tests).
    static var startedWorkers: Int { convrt_pool_worker_count() }
}

/// Carries a non-Sendable value into concurrently run work whose safety the caller guarantees.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
