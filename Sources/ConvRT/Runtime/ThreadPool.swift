import Dispatch

/// Runs independent work items on up to `threads` threads. Every kernel that splits work
/// goes through here, so there is one place that owns the threads.
///
/// Callers must make the result independent of how items land on threads (split over
/// output tiles, never over a reduction), so results are identical for any thread count.
public enum ThreadPool {
    /// Calls `body(i)` for every `i` in `0..<count`, on at most `threads` threads
    /// (the calling thread included). Returns when all calls have returned.
    static func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // Static split: worker w runs items w, w+workers, ... (cheap and deterministic).
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < count {
                    box.value(i)
                    i += workers
                }
            }
        }
    }
}

/// Carries a non-Sendable value into concurrently run work whose safety the caller guarantees.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
