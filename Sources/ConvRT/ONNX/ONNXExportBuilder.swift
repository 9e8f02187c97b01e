import Foundation

/// Accumulates the ONNX graph an export writes: nodes, initializers and unique value names.
///
/// Every name handed out (node outputs, helper values, initializers) is unique across the graph,
/// as ONNX's single-assignment form requires; a taken base gets `_1`, `_2`, ... appended.
struct ONNXExportBuilder {
    /// The default-domain opset the nodes are written for.
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var taken: Set<String>

    /// `reserved`: names the graph already uses for its own values (inputs and node outputs).
    init(opset: Int, reserved: Set<String>) {
        self.opset = opset
        self.taken = reserved
    }

    /// `base`, or `base_1`, `base_2`, ... when taken; the result is then taken.
    mutating func uniqueName(_ base: String) -> String {
        var name = base
        var i = 0
        while taken.contains(name) {
            i += 1
            name = "\(base)_\(i)"
        }
        taken.insert(name)
        return name
    }

    /// Appends a node that writes `output` (a name the caller owns: a graph value or a `uniqueName`).
    mutating func node(_ opType: String, _ inputs: [String], output: String, name: String? = nil,
                       _ attributes: [Onnx_AttributeProto] = []) {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = name ?? output
        n.input = inputs
        n.output = [output]
        n.attribute = attributes
        nodes.append(n)
    }

    /// Appends a node writing a fresh helper value named after `base`; returns that value.
    mutating func helper(_ opType: String, _ inputs: [String], base: String, _ attributes: [Onnx_AttributeProto] = []) -> String {
        let output = uniqueName(base)
        node(opType, inputs, output: output, attributes)
        return output
    }

    /// Makes the last node write (and be named) `name` instead of its helper value, which
    /// nothing reads yet.
    mutating func renameLast(to name: String) {
        guard !nodes.isEmpty else { return }
        nodes[nodes.count - 1].output = [name]
        nodes[nodes.count - 1].name = name
    }

    /// A float32 initializer holding `tensor`; returns its (unique) name.
    mutating func floats(_ base: String, _ tensor: Tensor) -> String {
        var t = Onnx_TensorProto()
        t.name = uniqueName(base)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = tensor.shape.map(Int64.init)
        #if _endian(little)
        t.rawData = tensor.data.withUnsafeBufferPointer { Data(buffer: $0) }
        #else
        t.floatData = tensor.data
        #endif
        initializers.append(t)
        return t.name
    }

    /// A float32 scalar (shape `[]`) initializer.
    mutating func scalar(_ base: String, _ value: Float) -> String {
        floats(base, Tensor(shape: [], data: [value]))
    }

    /// An int64 initializer (shapes, axes, pads, indices), 1-D unless `shape` is given.
    mutating func int64s(_ base: String, _ values: [Int], shape: [Int]? = nil) -> String {
        var t = Onnx_TensorProto()
        t.name = uniqueName(base)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.int64Data = values.map(Int64.init)
        initializers.append(t)
        return t.name
    }
}

/// Builders for `AttributeProto`s.
enum ONNXAttribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }
}

/// Why one layer cannot be exported; collected over the whole graph into one `ConvRTError`.
struct ONNXExportRejection: Error {
    var reason: String

    init(_ reason: String) { self.reason = reason }
}
