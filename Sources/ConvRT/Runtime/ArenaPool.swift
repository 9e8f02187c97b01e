import Foundation

/// Reusable arenas for a model's runs: a run takes one (or allocates it), and gives it back
/// when done, so steady-state inference allocates nothing and touches warm pages. Concurrent
/// runs each hold their own arena.
final class ArenaPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    /// Runs `body` with an arena of at least `bytes` bytes, 64-byte aligned.
    func withArena<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let arena = take(bytes: max(bytes, 1))
        defer { giveBack(arena) }
        return try body(arena.pointer)
    }

    private func take(bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let index = idle.firstIndex(where: { $0.bytes >= bytes }) { return idle.remove(at: index) }
        return (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: MemoryPlanner.alignment), bytes)
    }

    private func giveBack(_ arena: (pointer: UnsafeMutableRawPointer, bytes: Int)) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(arena)
    }

    deinit {
        for arena in idle { arena.pointer.deallocate() }
    }
}
