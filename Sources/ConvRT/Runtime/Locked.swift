import Foundation

/// A value that is only ever read or written while holding its lock.
///
/// The one audited place where shared mutable state crosses threads: `@unchecked Sendable` is
/// sound because `value` is private and only `withLock` touches it, and only for `Sendable`
/// values, so nothing that escapes the closure can alias unprotected state.
final class Locked<Value>: @unchecked Sendable where Value: Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
