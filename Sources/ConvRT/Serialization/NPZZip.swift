import Foundation
import ZIPFoundation

/// One file of a zip archive, located and bounds-checked against the archive's bytes.
struct ZipEntry {
    var name: String
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    /// Offset of the entry's (possibly compressed) bytes in the archive.
    var dataOffset: Int

    var isDirectory: Bool { name.hasSuffix("/") }
}

/// A small, bounds-checked zip reader (PKWARE APPNOTE central directory, ZIP64 included) for `.npz`.
///
/// Reading does not go through ZIPFoundation's `Archive` because 0.9.20 spins forever on Linux when a
/// deflate stream ends before its end marker (weichsel/ZIPFoundation#389) and converts ZIP64 offsets
/// to `off_t` unchecked (a trap above `Int64.max`): both reachable from a crafted file. Inflation
/// still comes from ZIPFoundation (zlib), fed from a provider that cannot run past the entry.
enum ZipReader {
    /// Chunk size for inflation, in both directions.
    static let chunkSize = 1 << 20

    /// Lists the archive's entries in central-directory order.
    static func entries(in raw: UnsafeRawBufferPointer) throws -> [ZipEntry] {
        let bytes = LittleEndianBytes(raw: raw)
        let directory = try centralDirectory(bytes)
        var entries: [ZipEntry] = []
        var position = directory.offset
        let end = directory.offset + directory.size
        for index in 0..<directory.count {
            guard position < end else { throw ConvRTError("corrupt zip central directory (entry \(index))") }
            let (entry, next) = try centralEntry(bytes, at: position, index: index)
            entries.append(entry)
            position = next
        }
        return entries
    }

    /// Calls `body` with the entry's uncompressed bytes, checked against its declared size and CRC-32.
    ///
    /// Stored entries are passed in place (no copy). Inflation stops as soon as the output would
    /// exceed the declared size, so a zip bomb costs no more memory than it declares (callers cap that).
    static func withContents<T>(of entry: ZipEntry, in raw: UnsafeRawBufferPointer,
                                _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let source = UnsafeRawBufferPointer(rebasing: raw[entry.dataOffset..<(entry.dataOffset + entry.compressedSize)])
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw ConvRTError("stored entry's sizes disagree (\(entry.compressedSize) vs \(entry.uncompressedSize) bytes)")
            }
            try verify(source, entry)
            return try body(source)
        case 8:
            let output = try inflate(source, expectedSize: entry.uncompressedSize)
            return try output.withUnsafeBytes { bytes in
                try verify(bytes, entry)
                return try body(bytes)
            }
        default:
            throw ConvRTError("unsupported zip compression method \(entry.method)")
        }
    }

    private static func verify(_ bytes: UnsafeRawBufferPointer, _ entry: ZipEntry) throws {
        guard bytes.count == entry.uncompressedSize else {
            throw ConvRTError("entry is truncated: \(bytes.count) of \(entry.uncompressedSize) bytes")
        }
        guard CRC32.checksum(bytes) == entry.crc32 else { throw ConvRTError("CRC-32 mismatch: the archive is corrupt") }
    }

    private static func inflate(_ source: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(expectedSize, 64 << 20))
        do {
            _ = try Data.decompress(
                size: Int64(source.count), bufferSize: chunkSize, skipCRC32: true,
                provider: { position, length in
                    guard length > 0 else { return Data() }
                    guard position >= 0, position < source.count else {
                        throw ConvRTError("deflate stream is truncated")
                    }
                    // Zero-padded to `length`: ZIPFoundation hands zlib a full buffer whatever we return.
                    let start = Int(position), available = min(length, source.count - start)
                    var chunk = Data(count: length)
                    chunk.withUnsafeMutableBytes {
                        $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + available)]))
                    }
                    return chunk
                },
                consumer: { piece in
                    guard piece.count <= expectedSize - output.count else {
                        throw ConvRTError("entry inflates to more than its declared size of \(expectedSize) bytes")
                    }
                    output.append(contentsOf: piece)
                })
        } catch let error as ConvRTError {
            throw error
        } catch {
            throw ConvRTError("deflate data is corrupt (\(error))")
        }
        return output
    }

    // MARK: - Directory structures

    private struct Directory { var count: Int, size: Int, offset: Int }

    /// Finds the end-of-central-directory record (ZIP64 if present) and checks the directory's bounds.
    private static func centralDirectory(_ bytes: LittleEndianBytes) throws -> Directory {
        let eocd = try endRecordOffset(bytes)
        var count = Int(try bytes.u16(eocd + 10))
        var size = Int(try bytes.u32(eocd + 12))
        var offset = Int(try bytes.u32(eocd + 16))
        if eocd >= 20, try bytes.u32(eocd - 20) == 0x0706_4B50 {
            let record = try bytes.int(bytes.u64(eocd - 20 + 8), "ZIP64 record offset")
            guard try bytes.u32(record) == 0x0606_4B50 else { throw ConvRTError("corrupt ZIP64 end of central directory") }
            count = try bytes.int(bytes.u64(record + 32), "entry count")
            size = try bytes.int(bytes.u64(record + 40), "central directory size")
            offset = try bytes.int(bytes.u64(record + 48), "central directory offset")
        }
        guard offset <= bytes.raw.count, size <= bytes.raw.count - offset, count <= size / 46 else {
            throw ConvRTError("corrupt zip central directory (\(count) entries, \(size) bytes at offset \(offset))")
        }
        return Directory(count: count, size: size, offset: offset)
    }

    /// The end record sits in the last 22 + 65535 (comment) bytes; scan backwards for its signature.
    private static func endRecordOffset(_ bytes: LittleEndianBytes) throws -> Int {
        let last = bytes.raw.count - 22
        if last >= 0 {
            for offset in stride(from: last, through: max(0, last - 0xFFFF), by: -1) {
                if try bytes.u32(offset) == 0x0605_4B50 { return offset }
            }
        }
        throw ConvRTError("not a zip archive (no end of central directory record)")
    }

    /// Parses the central-directory entry at `position` and its local header; returns the next position.
    private static func centralEntry(_ bytes: LittleEndianBytes, at position: Int, index: Int) throws -> (ZipEntry, Int) {
        guard try bytes.u32(position) == 0x0201_4B50 else {
            throw ConvRTError("corrupt zip central directory (entry \(index))")
        }
        let flags = try bytes.u16(position + 8)
        let nameLength = Int(try bytes.u16(position + 28))
        let extraLength = Int(try bytes.u16(position + 30))
        let commentLength = Int(try bytes.u16(position + 32))
        let name = try bytes.text(at: position + 46, count: nameLength)
        guard flags & 1 == 0 else { throw ConvRTError("entry '\(name)' is encrypted, which is not supported") }
        var sizes = [UInt64(try bytes.u32(position + 24)), UInt64(try bytes.u32(position + 20)),
                     UInt64(try bytes.u32(position + 42))]  // uncompressed, compressed, local header offset
        try applyZIP64(bytes, extraAt: position + 46 + nameLength, count: extraLength, to: &sizes)
        guard let uncompressed = Int(exactly: sizes[0]) else { throw ConvRTError("entry '\(name)' is too large") }
        let compressed = try bytes.int(sizes[1], "compressed size")
        let dataOffset = try localDataOffset(bytes, header: bytes.int(sizes[2], "local header offset"), name: name)
        guard compressed <= bytes.raw.count - dataOffset else {
            throw ConvRTError("entry '\(name)' extends past the end of the archive")
        }
        let entry = ZipEntry(name: name, method: try bytes.u16(position + 10), crc32: try bytes.u32(position + 16),
                             compressedSize: compressed, uncompressedSize: uncompressed, dataOffset: dataOffset)
        return (entry, position + 46 + nameLength + extraLength + commentLength)
    }

    /// Replaces the 0xFFFFFFFF placeholders in `sizes`, in order, from the ZIP64 extra field (id 1).
    private static func applyZIP64(_ bytes: LittleEndianBytes, extraAt start: Int, count: Int,
                                   to sizes: inout [UInt64]) throws {
        var field = start
        while field + 4 <= start + count {
            let id = try bytes.u16(field), length = Int(try bytes.u16(field + 2))
            let body = field + 4
            guard body + length <= start + count else { throw ConvRTError("corrupt zip extra field") }
            if id == 1 {
                var read = body
                for i in sizes.indices where sizes[i] == 0xFFFF_FFFF {
                    guard read + 8 <= body + length else { throw ConvRTError("corrupt ZIP64 extra field") }
                    sizes[i] = try bytes.u64(read)
                    read += 8
                }
            }
            field = body + length
        }
    }

    private static func localDataOffset(_ bytes: LittleEndianBytes, header: Int, name: String) throws -> Int {
        guard try bytes.u32(header) == 0x0403_4B50 else {
            throw ConvRTError("entry '\(name)' has no local file header at offset \(header)")
        }
        let nameLength = Int(try bytes.u16(header + 26)), extraLength = Int(try bytes.u16(header + 28))
        let offset = header + 30 + nameLength + extraLength
        guard offset <= bytes.raw.count else { throw ConvRTError("entry '\(name)' extends past the end of the archive") }
        return offset
    }
}

/// CRC-32 (IEEE 802.3, reflected 0xEDB88320) as zip uses it, slicing-by-8.
///
/// ZIPFoundation's `Data.crc32` on Linux is a byte-at-a-time Swift loop (its `zlib` import does
/// not resolve there), several times slower on large arrays.
enum CRC32 {
    /// `table[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes, for k in 0..<8.
    private static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            table[byte] = crc
        }
        for index in 256..<(8 * 256) {
            let previous = table[index - 256]
            table[index] = (previous >> 8) ^ table[Int(previous & 0xFF)]
        }
        return table
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var crc: UInt32 = 0xFFFF_FFFF
            var i = 0
            while i + 8 <= bytes.count {
                let low = crc ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = t[1792 + Int(low & 0xFF)] ^ t[1536 + Int((low >> 8) & 0xFF)]
                    ^ t[1280 + Int((low >> 16) & 0xFF)] ^ t[1024 + Int(low >> 24)]
                    ^ t[768 + Int(high & 0xFF)] ^ t[512 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < bytes.count {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
            return ~crc
        }
    }
}

/// Bounds-checked little-endian reads; anything out of range is a ``ConvRTError``, never a trap.
struct LittleEndianBytes {
    let raw: UnsafeRawBufferPointer

    private func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) throws -> T {
        guard offset >= 0, offset <= raw.count - MemoryLayout<T>.size else {
            throw ConvRTError("zip structure at offset \(offset) lies outside the file (\(raw.count) bytes)")
        }
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func u16(_ offset: Int) throws -> UInt16 { try load(offset, as: UInt16.self) }
    func u32(_ offset: Int) throws -> UInt32 { try load(offset, as: UInt32.self) }
    func u64(_ offset: Int) throws -> UInt64 { try load(offset, as: UInt64.self) }

    /// A 64-bit size or offset as `Int`, rejecting values past the end of the file.
    func int(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(raw.count) else { throw ConvRTError("zip \(what) \(value) is larger than the file") }
        return Int(value)
    }

    /// An entry name: UTF-8 when valid (always, when the UTF-8 flag is set), else one byte per character.
    func text(at offset: Int, count: Int) throws -> String {
        guard offset >= 0, count >= 0, offset <= raw.count - count else {
            throw ConvRTError("zip entry name at offset \(offset) lies outside the file")
        }
        let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count)])
        if let string = String(validating: slice, as: UTF8.self) { return string }
        return String(String.UnicodeScalarView(slice.map { Unicode.Scalar($0) }))
    }
}
