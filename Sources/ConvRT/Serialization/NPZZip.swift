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
/// to `off_t` unchecked (a trap above `Int64.max`): both reachable from a crafted file. Inflation and
/// CRC-32 still come from ZIPFoundation (zlib), fed from a provider that cannot run past the entry.
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

    /// The entry's uncompressed bytes, checked against its declared size and CRC-32.
    ///
    /// Inflation stops as soon as the output would exceed the declared size, so a zip bomb costs
    /// no more memory than the size it declares (which callers cap).
    static func contents(of entry: ZipEntry, in raw: UnsafeRawBufferPointer) throws -> [UInt8] {
        let source = UnsafeRawBufferPointer(rebasing: raw[entry.dataOffset..<(entry.dataOffset + entry.compressedSize)])
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw ConvRTError("stored entry's sizes disagree (\(entry.compressedSize) vs \(entry.uncompressedSize) bytes)")
            }
            output = Array(source)
        case 8:
            output = try inflate(source, expectedSize: entry.uncompressedSize)
        default:
            throw ConvRTError("unsupported zip compression method \(entry.method)")
        }
        guard output.count == entry.uncompressedSize else {
            throw ConvRTError("entry is truncated: \(output.count) of \(entry.uncompressedSize) bytes")
        }
        let crc = output.withUnsafeBytes { Data($0).crc32(checksum: 0) }
        guard crc == entry.crc32 else { throw ConvRTError("CRC-32 mismatch: the archive is corrupt") }
        return output
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
