import Foundation

/// Reading and writing NumPy `.npy` files as float32 ``Tensor``s.
///
/// Reads format versions 1.0, 2.0 and 3.0 with float (`f2`, `f4`, `f8`), integer (`i1`...`i8`,
/// `u1`...`u8`) and bool (`b1`) elements in either byte order and either memory order; anything
/// that is not already little-endian C-order float32 is converted, with a note saying so.
/// Writes little-endian C-order float32 exactly as `numpy.save` does.
public enum NPY {
    /// The most dimensions a header may declare (numpy's `NPY_MAXDIMS`).
    static let maxRank = 64
    /// Sanity cap on the element count of one array (16 GiB of float32).
    static let maxElements = 1 << 32

    /// Decodes the contents of a `.npy` file.
    ///
    /// - Parameters:
    ///   - data: The whole file.
    ///   - name: How to name the source in errors, usually its path.
    /// - Returns: The array as float32 in C order, plus human-readable notes about conversions
    ///   (e.g. "converted float64 to float32").
    /// - Throws: ``ConvRTError`` naming `name` for a malformed file or an unsupported dtype.
    ///   - limit: Cap on the float32 array's size, checked before it is allocated.
    public static func decode(_ data: Data, name: String, limit: MemoryLimit = .default) throws -> (tensor: Tensor, notes: [String]) {
        try data.withUnsafeBytes { try decode(raw: $0, name: name, limit: limit) }
    }

    /// Decodes the contents of a `.npy` file held as bytes; as the `Data` overload does.
    public static func decode(_ bytes: [UInt8], name: String, limit: MemoryLimit = .default) throws -> (tensor: Tensor, notes: [String]) {
        try bytes.withUnsafeBytes { try decode(raw: $0, name: name, limit: limit) }
    }

    /// Reads and decodes a `.npy` file (memory-mapped, so only the float32 array counts
    /// against `limit`); errors name the file's path.
    public static func read(contentsOf url: URL, limit: MemoryLimit = .default) throws -> (tensor: Tensor, notes: [String]) {
        try decode(try FileAccess.read(url, mapped: true), name: FileAccess.displayName(url), limit: limit)
    }

    /// Encodes `tensor` as a `.npy` file: little-endian float32 (`<f4`), C order, format 1.0
    /// (2.0 if the header would not fit), header padded to 64 bytes, byte-identical to `numpy.save`.
    public static func encode(_ tensor: Tensor) -> Data {
        var file = Data(header(shape: tensor.shape))
        let payloadStart = file.count
        file.count += tensor.count * 4
        guard !tensor.data.isEmpty else { return file }
        file.withUnsafeMutableBytes { bytes in
            let payload = UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart...])
            tensor.data.withUnsafeBytes { source in
                if 1.littleEndian == 1 {
                    payload.copyMemory(from: source)
                } else {
                    for (i, value) in tensor.data.enumerated() {
                        payload.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                    }
                }
            }
        }
        return file
    }

    /// Writes `tensor` to `url` as a `.npy` file (see ``encode(_:)``), replacing any existing file.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try FileAccess.write(encode(tensor), to: url)
    }

    // MARK: - Internals

    /// Decodes a whole `.npy` image; every error message is prefixed with `name`.
    static func decode(raw: UnsafeRawBufferPointer, name: String, limit: MemoryLimit) throws -> (tensor: Tensor, notes: [String]) {
        do {
            return try decode(raw: raw, limit: limit)
        } catch let error as ConvRTError {
            throw ConvRTError("\(name): \(error.message)")
        }
    }

    /// Decodes a whole `.npy` image; errors carry no file name.
    ///
    /// `used` bytes of `limit` are already taken (by earlier arrays of the same `.npz`).
    static func decode(raw: UnsafeRawBufferPointer, limit: MemoryLimit = .unlimited, used: Int = 0) throws -> (tensor: Tensor, notes: [String]) {
        let header = try NPYHeader.parse(raw)
        guard case .string(let descr) = header.descr, let dtype = NPYDType(descr: descr) else {
            throw ConvRTError("unsupported dtype \(header.descr)")
        }
        let count = try elementCount(header.shape)
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw ConvRTError("shape \(header.shape.bracketed) is too large") }
        let available = raw.count - header.dataOffset
        guard available >= byteCount else {
            throw ConvRTError("data is truncated: shape \(header.shape.bracketed) of '\(descr)' needs "
                              + "\(byteCount) bytes, found \(available)")
        }
        guard available == byteCount else {
            throw ConvRTError("\(available - byteCount) unexpected bytes after the array data")
        }
        try limit.check(used + floatBytes(header), (used > 0 ? "with the arrays before it, " : "")
                        + "the float32 array of shape \(header.shape.bracketed)")
        let payload = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
        var (values, inexact) = dtype.convert(payload, count: count)
        var notes: [String] = []
        if dtype.kind != .float || dtype.size != 4 {
            notes.append("converted \(dtype.name) to float32"
                         + (inexact > 0 ? " (\(inexact) value\(inexact == 1 ? "" : "s") rounded)" : ""))
        }
        if dtype.needsSwap { notes.append("byte-swapped big-endian data") }
        if header.fortranOrder && header.shape.count >= 2 && count > 0 {
            values = cOrder(fromFortran: values, shape: header.shape)
            notes.append("transposed Fortran-order data to C order")
        }
        return (Tensor(shape: header.shape, data: values), notes)
    }

    /// The bytes decoding takes: the float32 array, twice when a Fortran-order copy is reordered.
    /// Only called on shapes `elementCount` accepted, so it cannot overflow.
    static func floatBytes(_ header: NPYHeader) -> Int {
        let count = header.shape.contains(0) ? 0 : header.shape.reduce(1, *)
        return count * 4 * (header.fortranOrder && header.shape.count >= 2 ? 2 : 1)
    }

    /// The element count, rejecting shapes whose non-zero dimensions multiply past the sanity cap
    /// (so no later product over the shape, in any order, can overflow).
    static func elementCount(_ shape: [Int]) throws -> Int {
        var nonZero = 1
        for dim in shape where dim != 0 {
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= maxElements else {
                throw ConvRTError("shape \(shape.bracketed) is too large (limit \(maxElements) elements)")
            }
            nonZero = product
        }
        return shape.contains(0) ? 0 : nonZero
    }

    /// numpy's header for a `<f4` C-order array: the dict as `repr` writes it, 21-digit growth
    /// room for the first axis, then spaces and a newline so the data starts 64-byte aligned.
    static func header(shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let text = Array(dict.utf8)
        let lengthWithNewline = text.count + 1
        var prefixSize = 10
        var padding = 64 - (prefixSize + lengthWithNewline) % 64
        if lengthWithNewline + padding > Int(UInt16.max) {
            prefixSize = 12
            padding = 64 - (prefixSize + lengthWithNewline) % 64
        }
        let length = lengthWithNewline + padding
        var bytes = NPYHeader.magic + (prefixSize == 10 ? [1, 0] : [2, 0])
        bytes += (0..<(prefixSize - 8)).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) }
        bytes += text + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        return bytes
    }
}
