import Foundation
import ZIPFoundation

/// Reading and writing NumPy `.npz` archives (zips of `.npy` files, as `numpy.savez` and
/// `numpy.savez_compressed` write them) as named float32 ``Tensor``s.
public enum NPZ {
    /// Default cap on the total uncompressed size of an archive's arrays for
    /// ``read(contentsOf:maxBytes:)``: 4 GiB.
    public static let defaultMaxBytes = 4 << 30

    /// Reads every array in a `.npz` archive; stored and deflated entries are both accepted.
    ///
    /// - Parameters:
    ///   - url: The archive (memory-mapped: only what is inflated or converted counts).
    ///   - limit: Cap on the memory the arrays take, checked before each allocation: each deflated
    ///     entry's declared size before inflating it (inflation stops at the declared size, so a
    ///     zip bomb costs no more than it declares), and each array's float32 size before
    ///     converting it, counting the arrays already read.
    /// - Returns: Entries in archive order, keys without the `.npy` suffix, each with notes about
    ///   conversions to float32 (as `NPY.decode` reports them).
    /// - Throws: ``ConvRTError`` naming the file, and the key where one is at fault, e.g.
    ///   `weights.npz: key 'conv.weight': unsupported dtype '<c8'`.
    public static func read(
        contentsOf url: URL, limit: MemoryLimit = .default
    ) throws -> [(name: String, tensor: Tensor, notes: [String])] {
        try decode(try FileAccess.read(url, mapped: true), name: FileAccess.displayName(url), limit: limit)
    }

    /// ``read(contentsOf:limit:)`` with a cap of `maxBytes` on the arrays' total size.
    public static func read(
        contentsOf url: URL, maxBytes: Int
    ) throws -> [(name: String, tensor: Tensor, notes: [String])] {
        try read(contentsOf: url, limit: MemoryLimit(bytes: maxBytes, name: "the limit"))
    }

    /// Decodes a whole `.npz` archive held in memory; as ``read(contentsOf:limit:)`` does, with
    /// errors naming `name`.
    public static func decode(
        _ data: Data, name path: String, limit: MemoryLimit = .default
    ) throws -> [(name: String, tensor: Tensor, notes: [String])] {
        try data.withUnsafeBytes { raw in
            let entries = try prefixingErrors(with: path) { try ZipReader.entries(in: raw) }
            var result: [(name: String, tensor: Tensor, notes: [String])] = []
            var keys: Set<String> = []
            var used = 0
            for entry in entries where !entry.isDirectory {
                guard entry.name.hasSuffix(".npy") else {
                    throw ConvRTError("\(path): entry '\(entry.name)' is not a .npy array")
                }
                let key = String(entry.name.dropLast(4))
                let context = "\(path): key '\(key)'"
                guard keys.insert(key).inserted else { throw ConvRTError("\(context): duplicate key") }
                guard entry.uncompressedSize <= limit.bytes - used else {
                    let left = used > 0 ? " (\(MemoryLimit.format(limit.bytes - used)) left)" : ""
                    throw ConvRTError("\(context): uncompressed size \(MemoryLimit.format(entry.uncompressedSize)) exceeds "
                                      + "\(limit) for the archive\(left)")
                }
                let (tensor, notes) = try prefixingErrors(with: context) {
                    try ZipReader.withContents(of: entry, in: raw) { try NPY.decode(raw: $0, limit: limit, used: used) }
                }
                // The inflated bytes and the float32 copy are alive together only briefly: count the larger.
                used += max(entry.uncompressedSize, tensor.count * 4)
                result.append((key, tensor, notes))
            }
            return result
        }
    }

    /// Writes arrays as a `.npz` archive that `numpy.load` reads, replacing any existing file.
    ///
    /// - Parameters:
    ///   - entries: Keys (stored as `<key>.npy`) and arrays, in archive order; keys must be unique.
    ///   - url: Destination file.
    ///   - compressed: Deflate the entries, like `numpy.savez_compressed`; stored otherwise, like `numpy.savez`.
    public static func write(_ entries: [(name: String, tensor: Tensor)], to url: URL, compressed: Bool = false) throws {
        let path = FileAccess.displayName(url)
        var keys: Set<String> = []
        for entry in entries where !keys.insert(entry.name).inserted {
            throw ConvRTError("\(path): duplicate key '\(entry.name)'")
        }
        // Build next to the destination, then rename over it, so a failure leaves no partial file.
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try writeArchive(entries, to: temporary, method: compressed ? .deflate : .none)
            guard rename(temporary.path, path) == 0 else {
                throw ConvRTError("rename failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            let reason = (error as? ConvRTError)?.message ?? "\(error)"
            throw ConvRTError("\(path): cannot write archive: \(reason)")
        }
    }

    /// Writes a fresh archive; the `Archive` is released (and its file closed) on return.
    private static func writeArchive(_ entries: [(name: String, tensor: Tensor)], to url: URL,
                                     method: CompressionMethod) throws {
        let archive = try Archive(url: url, accessMode: .create)
        for (name, tensor) in entries {
            let data = NPY.encode(tensor)
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: method) { position, size in
                let start = Int(position)
                return data.subdata(in: start..<(start + size))
            }
        }
    }

    /// Runs `body`, prefixing any ``ConvRTError`` message with `prefix: `.
    private static func prefixingErrors<T>(with prefix: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ConvRTError {
            throw ConvRTError("\(prefix): \(error.message)")
        }
    }
}
