/// A numpy element type that convrt can turn into float32: floats, integers and bool.
struct NPYDType: Equatable {
    enum Kind: Equatable { case float, signed, unsigned, bool }

    var kind: Kind
    /// Bytes per element.
    var size: Int
    /// Whether multi-byte elements are stored most significant byte first.
    var bigEndian: Bool

    private static let hostIsBigEndian = 1.bigEndian == 1

    /// Parses a descr string such as `<f4`, `>i8`, `|b1` or `=u2`.
    ///
    /// `=` and `|` (and no prefix) mean the host's order, as in numpy.
    init?(descr: String) {
        var body = Substring(descr)
        var bigEndian = Self.hostIsBigEndian
        switch body.first {
        case "<": bigEndian = false; body.removeFirst()
        case ">", "!": bigEndian = true; body.removeFirst()
        case "=", "|": body.removeFirst()
        default: break
        }
        if body == "?" { body = "b1" }
        guard let code = body.first, let size = Int(body.dropFirst()), !body.dropFirst().hasPrefix("+") else {
            return nil
        }
        switch (code, size) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: return nil
        }
        self.size = size
        self.bigEndian = bigEndian
    }

    /// numpy's name for the type, e.g. `float64`, `uint8`, `bool`.
    var name: String {
        switch kind {
        case .float: return "float\(size * 8)"
        case .signed: return "int\(size * 8)"
        case .unsigned: return "uint\(size * 8)"
        case .bool: return "bool"
        }
    }

    /// Whether the stored byte order differs from the host's.
    var needsSwap: Bool { size > 1 && bigEndian != Self.hostIsBigEndian }

    /// Converts `count` elements from `raw` (exactly `count * size` bytes) to float32.
    ///
    /// Returns how many values changed in the conversion (rounded or overflowed), for a note.
    func convert(_ raw: UnsafeRawBufferPointer, count: Int) -> (values: [Float], inexact: Int) {
        let swap = needsSwap
        var inexact = 0
        let values: [Float]
        switch (kind, size) {
        case (.float, 4) where !swap:
            values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
                initialized = count
            }
        case (.float, 4): values = map(raw, count, swap) { (bits: UInt32) in Float(bitPattern: bits) }
        case (.float, 2): values = map(raw, count, swap) { (bits: UInt16) in Self.float(fromHalf: bits) }
        case (.float, _):
            values = map(raw, count, swap) { (bits: UInt64) in
                let double = Double(bitPattern: bits)
                let float = Float(double)
                if Double(float) != double && !double.isNaN { inexact += 1 }
                return float
            }
        case (.bool, _): values = map(raw, count, false) { (byte: UInt8) in byte != 0 ? 1 : 0 }
        case (.signed, 1): values = integers(raw, count, swap, as: Int8.self, inexact: &inexact)
        case (.signed, 2): values = integers(raw, count, swap, as: Int16.self, inexact: &inexact)
        case (.signed, 4): values = integers(raw, count, swap, as: Int32.self, inexact: &inexact)
        case (.signed, _): values = integers(raw, count, swap, as: Int64.self, inexact: &inexact)
        case (.unsigned, 1): values = integers(raw, count, swap, as: UInt8.self, inexact: &inexact)
        case (.unsigned, 2): values = integers(raw, count, swap, as: UInt16.self, inexact: &inexact)
        case (.unsigned, 4): values = integers(raw, count, swap, as: UInt32.self, inexact: &inexact)
        case (.unsigned, _): values = integers(raw, count, swap, as: UInt64.self, inexact: &inexact)
        }
        return (values, inexact)
    }

    /// Loads each element's bits (unaligned, byte-swapped if needed) and maps it to a float.
    private func map<Bits: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer, _ count: Int, _ swap: Bool, _ transform: (Bits) -> Float
    ) -> [Float] {
        let stride = MemoryLayout<Bits>.size
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: i * stride, as: Bits.self)
                buffer[i] = transform(swap ? bits.byteSwapped : bits)
            }
            initialized = count
        }
    }

    private func integers<I: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer, _ count: Int, _ swap: Bool, as type: I.Type, inexact: inout Int
    ) -> [Float] {
        var changed = 0
        let values = map(raw, count, swap) { (value: I) -> Float in
            let float = Float(value)  // rounds to nearest even, like numpy's astype(float32)
            if I.bitWidth > 16 && I(exactly: float) != value { changed += 1 }
            return float
        }
        inexact += changed
        return values
    }

    /// IEEE 754 binary16 to binary32, exact for every input (subnormals, infinities, NaN payloads).
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exactly representable in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

extension NPY {
    /// Reorders Fortran-order (column-major) `values` of `shape` into C (row-major) order.
    ///
    /// Walks the C-order output with an odometer over the indices, keeping the Fortran offset
    /// (strides 1, d0, d0*d1, ...) up to date incrementally, so any rank works in O(count).
    static func cOrder(fromFortran values: [Float], shape: [Int]) -> [Float] {
        let rank = shape.count
        guard rank >= 2, !values.isEmpty else { return values }
        var strides = [Int](repeating: 1, count: rank)
        for k in 1..<rank { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: rank)
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                var offset = 0
                for c in 0..<values.count {
                    output[c] = input[offset]
                    var k = rank - 1
                    while k >= 0 {
                        index[k] += 1
                        offset += strides[k]
                        if index[k] < shape[k] { break }
                        offset -= strides[k] * shape[k]
                        index[k] = 0
                        k -= 1
                    }
                }
            }
            initialized = values.count
        }
    }
}
