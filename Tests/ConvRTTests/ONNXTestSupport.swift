import Foundation
import Testing
@testable import ConvRT

/// An attribute value for `ONNXModel.node`.
enum ONNXAttr {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case tensor(Onnx_TensorProto)

    func proto(_ name: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        switch self {
        case .int(let v): a.type = .int; a.i = Int64(v)
        case .ints(let v): a.type = .ints; a.ints = v.map(Int64.init)
        case .float(let v): a.type = .float; a.f = v
        case .floats(let v): a.type = .floats; a.floats = v
        case .string(let v): a.type = .string; a.s = Data(v.utf8)
        case .tensor(let v): a.type = .tensor; a.t = v
        }
        return a
    }
}

/// Builds small ONNX models in Swift for the mapping and rejection tests.
struct ONNXModel {
    var opset = 17
    var graph = Onnx_GraphProto()
    var extraOpsets: [(String, Int)] = []

    init(opset: Int = 17) { self.opset = opset }

    /// A float32 graph input; dims are `Int` sizes or `String` symbols.
    mutating func input(_ name: String, _ dims: [Any], type: Onnx_TensorProto.DataType = .float) {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let v = d as? Int { dim.dimValue = Int64(v) } else if let s = d as? String { dim.dimParam = s }
            return dim
        }
        info.type.tensorType = tensor
        graph.input.append(info)
    }

    mutating func output(_ name: String) {
        var info = Onnx_ValueInfoProto()
        info.name = name
        graph.output.append(info)
    }

    /// A float initializer; values default to a deterministic ramp.
    mutating func weight(_ name: String, _ shape: [Int], _ values: [Float]? = nil) {
        let count = shape.reduce(1, *)
        graph.initializer.append(Self.floatTensor(name, shape, values ?? (0..<count).map { Float($0 % 7) * 0.25 - 0.5 }))
    }

    /// An int64 initializer (shapes, axes, pads).
    mutating func ints(_ name: String, _ values: [Int], shape: [Int]? = nil) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.int64Data = values.map(Int64.init)
        graph.initializer.append(t)
    }

    static func floatTensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = shape.map(Int64.init)
        t.floatData = values
        return t
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                       domain: String = "", _ attributes: [String: ONNXAttr] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name ?? outputs.first ?? op
        if !domain.isEmpty { n.domain = domain }
        n.attribute = attributes.keys.sorted().map { attributes[$0]!.proto($0) }
        graph.node.append(n)
    }

    var proto: Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.graph = graph
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        m.opsetImport = [set] + extraOpsets.map { d, v in
            var s = Onnx_OperatorSetIdProto()
            s.domain = d
            s.version = Int64(v)
            return s
        }
        return m
    }

    func data() throws -> Data { try proto.serializedBytes() }

    func importGraph() throws -> Graph { try ONNXImporter.importModel(try data(), file: "m.onnx") }

    /// The import error's text, or nil when it imports.
    func importError() -> String? {
        do {
            _ = try importGraph()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    /// The imported graph's ops, in order.
    func ops() throws -> [Op] { try importGraph().nodes.map(\.op) }
}

/// A one-node model `y = op(x, ...)` over an input of `shape`.
func singleNode(_ op: String, shape: [Any], opset: Int = 17, inputs extra: [String] = [],
                _ attributes: [String: ONNXAttr] = [:], setup: (inout ONNXModel) -> Void = { _ in }) -> ONNXModel {
    var m = ONNXModel(opset: opset)
    m.input("x", shape)
    setup(&m)
    m.node(op, ["x"] + extra, ["y"], attributes)
    m.output("y")
    return m
}
