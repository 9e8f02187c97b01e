import Dispatch
import Foundation
import Testing
@testable import ConvRT

/// The persistent pool behind `ThreadPool.parallelFor`: every item runs exactly once, worker
/// indices are in range and never shared by calls running at once, and nested or concurrent
/// callers neither deadlock nor lose items.
@Suite struct ThreadPoolTests {
    /// Per-item run counts and per-worker busy flags, checked under a lock.
    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private var runs: [Int]
        private var busy: [Bool]
        private(set) var violations: [String] = []

        init(items: Int, threads: Int) {
            runs = [Int](repeating: 0, count: items)
            busy = [Bool](repeating: false, count: max(threads, 1))
        }

        func enter(_ item: Int, _ worker: Int) {
            lock.lock()
            defer { lock.unlock() }
            runs[item] += 1
            guard worker >= 0, worker < busy.count else { return violations.append("worker \(worker) out of range") }
            if busy[worker] { violations.append("worker \(worker) ran two items at once") }
            busy[worker] = true
        }

        func leave(_ worker: Int) {
            lock.lock()
            defer { lock.unlock() }
            if worker >= 0, worker < busy.count { busy[worker] = false }
        }

        var everyItemOnce: Bool {
            lock.lock()
            defer { lock.unlock() }
            return runs.allSatisfy { $0 == 1 }
        }
    }

    /// A little work, so items overlap in time.
    static func spin(_ n: Int) -> Int {
        var x = n
        for i in 0..<200 { x = x &* 31 &+ i }
        return x
    }

    @Test(arguments: [0, 1, 2, 5, 97, 1000], [1, 2, 3, 8])
    func everyItemRunsOnce(count: Int, threads: Int) {
        let ledger = Ledger(items: count, threads: threads)
        ThreadPool.parallelFor(count, threads: threads) { item, worker in
            ledger.enter(item, worker)
            _ = Self.spin(item)
            ledger.leave(worker)
        }
        #expect(ledger.everyItemOnce)
        #expect(ledger.violations.isEmpty, "\(ledger.violations.prefix(3))")
    }

    @Test func nestedLoopsRunInline() {
        let ledger = Ledger(items: 16 * 9, threads: 1)
        ThreadPool.parallelFor(16, threads: 3) { outer, _ in
            ThreadPool.parallelFor(9, threads: 3) { inner, _ in
                ledger.enter(outer * 9 + inner, 0)
                ledger.leave(0)
            }
        }
        #expect(ledger.everyItemOnce)
    }

    @Test func concurrentCallersAllFinish() {
        let callers = 6, rounds = 20, items = 50
        let ledgers = (0..<callers).map { _ in Ledger(items: rounds * items, threads: 3) }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for round in 0..<rounds {
                ThreadPool.parallelFor(items, threads: 3) { item, worker in
                    ledgers[caller].enter(round * items + item, worker)
                    _ = Self.spin(item)
                    ledgers[caller].leave(worker)
                }
            }
        }
        for ledger in ledgers {
            #expect(ledger.everyItemOnce)
            #expect(ledger.violations.isEmpty, "\(ledger.violations.prefix(3))")
        }
    }

    /// Threads are started once, not per loop (other suites' loops may share the pool, and a
    /// loop finding it busy runs inline, so this only bounds the count).
    @Test func workersPersistAcrossLoops() {
        for _ in 0..<1000 where ThreadPool.startedWorkers < 2 {
            ThreadPool.parallelFor(8, threads: 3) { _, _ in _ = Self.spin(1) }
        }
        #expect(ThreadPool.startedWorkers >= 2)
        for _ in 0..<50 { ThreadPool.parallelFor(8, threads: 3) { _, _ in } }
        #expect(ThreadPool.startedWorkers <= 7, "at most the 8-thread loops' 7 helpers")
    }
}
