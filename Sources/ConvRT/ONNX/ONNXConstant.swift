import Foundation

/// A tensor whose value is known at import: an initializer, a `Constant` node, or the result of
/// folding a shape computation. Integers are `Dim`s so that `Shape` of a symbolic input folds
/// too: data movement (Gather, Concat, Unsqueeze, ...) carries the symbols, arithmetic needs
/// known values.
struct ONNXConstant {
    enum Values {
        case float([Float])
        case int([Dim])
    }

    /// The ONNX value name, for messages.
    var name: String
    var shape: [Int]
    var values: Values
    /// The ONNX element type the values came from (integers of every width share `.int`).
    var elementType: Onnx_TensorProto.DataType

    init(name: String, shape: [Int], values: Values, elementType: Onnx_TensorProto.DataType) {
        self.name = name
        self.shape = shape
        self.values = values
        self.elementType = elementType
    }

    init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, shape: shape, values: .float(floats), elementType: .float)
    }

    init(name: String, shape: [Int], ints: [Dim]) {
        self.init(name: name, shape: shape, values: .int(ints), elementType: .int64)
    }

    var count: Int {
        switch values {
        case .float(let v): return v.count
        case .int(let v): return v.count
        }
    }

    var isFloat: Bool {
        if case .float = values { return true }
        return false
    }

    /// The values as a float tensor, for a float operand (weights, constant operands).
    func floatTensor(for role: String) throws -> Tensor {
        guard case .float(let data) = values else {
            throw ConvRTError("\(role) '\(name)' is a \(elementType.onnxName) tensor, but it must be float32")
        }
        return Tensor(shape: shape, data: data)
    }

    /// Every value as an `Int`: for shapes, axes, pads, indices.
    func ints(for role: String) throws -> [Int] {
        guard case .int(let dims) = values else {
            throw ConvRTError("\(role) '\(name)' is a \(elementType.onnxName) tensor, but it must hold integers")
        }
        return try dims.map { d in
            guard let v = d.value else {
                throw ConvRTError("\(role) '\(name)' depends on the symbolic dim '\(d)'; it must be known at import")
            }
            return v
        }
    }

    /// Integers, symbols allowed (a Reshape target or Resize sizes from `Shape`).
    func dims(for role: String) throws -> [Dim] {
        guard case .int(let dims) = values else {
            throw ConvRTError("\(role) '\(name)' is a \(elementType.onnxName) tensor, but it must hold integers")
        }
        return dims
    }

    /// Every value as a Double, ints included (Clip bounds, scales, pad values).
    func numbers(for role: String) throws -> [Double] {
        switch values {
        case .float(let v): return v.map(Double.init)
        case .int: return try ints(for: role).map(Double.init)
        }
    }

    /// The single value of a scalar or one-element tensor.
    func scalar(for role: String) throws -> Double {
        let values = try numbers(for: role)
        guard values.count == 1 else {
            throw ConvRTError("\(role) '\(name)' must be a scalar, but has shape \(shape.bracketed)")
        }
        return values[0]
    }

    /// The same values with another shape.
    func reshaped(_ newShape: [Int]) -> ONNXConstant {
        var copy = self
        copy.shape = newShape
        return copy
    }
}

extension Onnx_TensorProto.DataType {
    /// ONNX's spelling: `FLOAT`, `INT64`.
    var onnxName: String {
        switch self {
        case .float: return "FLOAT"
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .float16: return "FLOAT16"
        case .double: return "DOUBLE"
        case .uint32: return "UINT32"
        case .uint64: return "UINT64"
        case .bfloat16: return "BFLOAT16"
        default: return "type \(rawValue)"
        }
    }

    /// Integer (and bool) element types, which import as `.int` values.
    var isInteger: Bool {
        [.uint8, .int8, .uint16, .int16, .int32, .int64, .bool, .uint32, .uint64].contains(self)
    }
}

// MARK: - Decoding TensorProto

extension ONNXConstant {
    /// Decodes an initializer or a `Constant`'s tensor. Float, double and integer types are
    /// read from `raw_data` (little-endian) or the typed fields; external data is rejected.
    static func decode(_ t: Onnx_TensorProto, name: String) throws -> ONNXConstant {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            let location = t.externalData.first(where: { $0.key == "location" })?.value ?? "?"
            throw ConvRTError("tensor '\(name)' keeps its data in an external file ('\(location)'); convrt reads self-contained .onnx files only (save with onnx.save(model, path, save_as_external_data=False))")
        }
        if t.hasSegment { throw ConvRTError("tensor '\(name)' is segmented, which convrt does not support") }
        let shape = try t.dims.map { d -> Int in
            guard d >= 0, d <= Int64(Limits.maxDimension) else { throw ConvRTError("tensor '\(name)' has an invalid dimension \(d)") }
            return Int(d)
        }
        guard let count = Limits.product(shape), count <= Limits.maxElements else {
            throw ConvRTError("tensor '\(name)' of shape \(shape.bracketed) is too large")
        }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) else {
            throw ConvRTError("tensor '\(name)' has an unknown element type \(t.dataType)")
        }
        let reader = TensorDataReader(tensor: t, name: name, count: count, type: type)
        return ONNXConstant(name: name, shape: shape, values: try reader.values(), elementType: type)
    }
}

/// Reads one tensor's elements from `raw_data` or the typed field its element type uses.
private struct TensorDataReader {
    let tensor: Onnx_TensorProto
    let name: String
    let count: Int
    let type: Onnx_TensorProto.DataType

    func values() throws -> ONNXConstant.Values {
        switch type {
        case .float:
            if let fast = rawFloats() { return .float(fast) }
            return .float(try read(width: 4, typed: tensor.floatData) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        case .double:
            return .float(try read(width: 8, typed: tensor.doubleData.map(Float.init)) { Float(Double(bitPattern: $0)) })
        case .int64:
            return .int(try read(width: 8, typed: tensor.int64Data.map { Int($0) }) { Int(Int64(bitPattern: $0)) }.map(Dim.known))
        case .int32:
            return .int(try read(width: 4, typed: tensor.int32Data.map { Int($0) }) { Int(Int32(truncatingIfNeeded: $0)) }.map(Dim.known))
        case .int16:
            return .int(try read(width: 2, typed: tensor.int32Data.map { Int($0) }) { Int(Int16(truncatingIfNeeded: $0)) }.map(Dim.known))
        case .int8:
            return .int(try read(width: 1, typed: tensor.int32Data.map { Int($0) }) { Int(Int8(truncatingIfNeeded: $0)) }.map(Dim.known))
        case .uint8, .bool:
            return .int(try read(width: 1, typed: tensor.int32Data.map { Int($0) }) { Int($0) }.map(Dim.known))
        case .uint16:
            return .int(try read(width: 2, typed: tensor.int32Data.map { Int($0) }) { Int($0) }.map(Dim.known))
        case .uint32:
            return .int(try read(width: 4, typed: tensor.uint64Data.map { Int(truncatingIfNeeded: $0) }) { Int($0) }.map(Dim.known))
        case .uint64:
            return .int(try read(width: 8, typed: tensor.uint64Data.map { Int(truncatingIfNeeded: $0) }) { Int(truncatingIfNeeded: $0) }.map(Dim.known))
        default:
            throw ConvRTError("tensor '\(name)' has element type \(type.onnxName), which convrt does not support (float32 and integer tensors only)")
        }
    }

    /// Float `raw_data` copied in one go on little-endian hosts (weights are most of a model).
    private func rawFloats() -> [Float]? {
        #if _endian(little)
        guard tensor.hasRawData else { return nil }
        let raw = tensor.rawData
        guard raw.count == count * 4 else { return nil }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { _ = raw.copyBytes(to: $0) }
        return out
        #else
        return nil
        #endif
    }

    /// `raw_data` as `width`-byte little-endian words, or the typed field, with the count checked.
    private func read<T>(width: Int, typed: [T], convert: (UInt64) -> T) throws -> [T] {
        if tensor.hasRawData {
            let raw = tensor.rawData
            guard raw.count == count * width else {
                throw ConvRTError("tensor '\(name)' has \(raw.count) bytes of raw data, but its shape needs \(count * width)")
            }
            return raw.withUnsafeBytes { bytes in
                (0..<count).map { i in
                    var word: UInt64 = 0
                    for b in 0..<width { word |= UInt64(bytes[i * width + b]) << (8 * UInt64(b)) }
                    return convert(word)
                }
            }
        }
        guard typed.count == count else {
            throw ConvRTError("tensor '\(name)' has \(typed.count) values, but its shape needs \(count)")
        }
        return typed
    }
}
