import Foundation

/// One arena allocation, 64-byte aligned.
///
/// `@unchecked Sendable`: an arena is owned by exactly one party at a time (the pool's idle list,
/// or the one run that took it), and moves between them under the pool's lock.
struct Arena: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int
}

/// Reusable arenas for a model's runs: a run takes one (or allocates it), and gives it back
/// when done, so steady-state inference allocates nothing and touches warm pages. Concurrent
/// runs each hold their own arena, never the same one.
final class ArenaPool: Sendable {
    private let idle = Locked<[Arena]>([])
    /// Idle arenas kept for reuse; more are freed on return (a burst of concurrent runs
    /// should not pin its peak memory forever).
    private let keep: Int

    init(keep: Int = 4) { self.keep = keep }

    /// Runs `body` with an arena of at least `bytes` bytes, 64-byte aligned, that no other
    /// run uses until `body` returns.
    func withArena<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let arena = take(bytes: max(bytes, 1))
        defer { giveBack(arena) }
        return try body(arena.pointer)
    }

    private func take(bytes: Int) -> Arena {
        let reused = idle.withLock { idle -> Arena? in
            // The smallest idle arena that fits, so a small plan does not hold a large arena.
            let fits = idle.indices.filter { idle[$0].bytes >= bytes }
            guard let best = fits.min(by: { idle[$0].bytes < idle[$1].bytes }) else { return nil }
            return idle.remove(at: best)
        }
        // Allocate outside the lock: a large allocation must not stall other runs.
        return reused ?? Arena(pointer: .allocate(byteCount: bytes, alignment: MemoryPlanner.alignment), bytes: bytes)
    }

    private func giveBack(_ arena: Arena) {
        let evicted = idle.withLock { idle -> Arena? in
            idle.append(arena)
            guard idle.count > keep, let smallest = idle.indices.min(by: { idle[$0].bytes < idle[$1].bytes }) else { return nil }
            return idle.remove(at: smallest)
        }
        evicted?.pointer.deallocate()
    }

    /// Arenas currently idle (for tests).
    var idleCount: Int { idle.withLock { $0.count } }

    deinit {
        idle.withLock { idle in idle.forEach { $0.pointer.deallocate() } }
    }
}
