import Foundation

/// A cap on the memory that reading a model and its inputs, and running it, may take.
///
/// Every size is checked against the limit *before* the memory is allocated, so a hostile or
/// simply too-large model ends in one error line instead of an out-of-memory kill. What counts:
/// - files read whole (`.convnet`, `.pb`): their size;
/// - `.npz` weights and `.npy` inputs: their float32 size after conversion (and, for deflated
///   `.npz` entries, the declared uncompressed size before inflating);
/// - a seeded init: the parameters' float32 size;
/// - a run: the weights twice (as loaded, and as folded / packed for the kernels), plus the
///   planned arena, plus the graph's inputs and outputs (which live outside the arena).
public struct MemoryLimit: Hashable, Sendable, CustomStringConvertible {
    /// The cap in bytes.
    public var bytes: Int
    /// How errors name the limit, e.g. `--max-memory`; `the memory limit` by default.
    public var name: String

    public init(bytes: Int, name: String = "the memory limit") {
        self.bytes = max(0, bytes)
        self.name = name
    }

    /// No practical limit (for tests and trusted inputs).
    public static let unlimited = MemoryLimit(bytes: Int.max)

    /// Half of the memory this process can use: physical memory, or the Linux cgroup limit
    /// when that is lower. Half leaves room for the rest of the system and for transient copies.
    public static let defaultBytes: Int = {
        var available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let cgroup = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), cgroup > 0 {
            available = min(available, cgroup)
        }
        #endif
        return max(available / 2, 256 << 20)
    }()

    /// The default limit (see ``defaultBytes``).
    public static var `default`: MemoryLimit { MemoryLimit(bytes: defaultBytes) }

    /// `4 GiB (--max-memory)`, as used in messages.
    public var description: String { "\(name) of \(Self.format(bytes))" }

    /// Throws unless `needed` bytes fit: "<what> needs 5.0 GiB, more than --max-memory of 4.0 GiB".
    public func check(_ needed: Int, _ what: @autoclosure () -> String) throws {
        guard needed > bytes else { return }
        throw ConvRTError("\(what()) needs \(Self.format(needed)), more than \(self)")
    }

    /// Sizes as people read them: `512 bytes`, `1.5 KiB`, `4.0 GiB`.
    public static func format(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        guard bytes >= 1024 else { return "\(bytes) bytes" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }

    /// Parses `4G`, `512M`, `1.5GiB`, `100000` (bytes). K, M, G and T are powers of 1024;
    /// an optional `B` or `iB` may follow; case does not matter.
    public static func parseBytes(_ text: String) -> Int? {
        var body = text.trimmingCharacters(in: .whitespaces).uppercased()
        if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
        let scale: Double
        switch body.last {
        case "K": scale = 0x1p10
        case "M": scale = 0x1p20
        case "G": scale = 0x1p30
        case "T": scale = 0x1p40
        default: scale = 1
        }
        if scale > 1 { body.removeLast() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let number = Double(body), number >= 0 else { return nil }
        let bytes = (number * scale).rounded(.down)
        guard bytes < 0x1p63 else { return nil }
        return Int(bytes)
    }

    /// The size of the file at `url`, checked against the limit before it is read whole.
    func checkFile(_ url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return }  // reading it reports the reason
        let size = Int(info.st_size)
        guard size > bytes else { return }
        throw ConvRTError("\(FileAccess.displayName(url)): the file is \(Self.format(size)), more than \(self)")
    }
}
