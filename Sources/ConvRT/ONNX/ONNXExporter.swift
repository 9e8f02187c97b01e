import Foundation
import SwiftProtobuf

/// Exports convrt graphs as ONNX models (default-domain opset 17, IR version 8; opset 18 when the
/// graph has a Fold, which needs `Col2Im`), so that a model can move on to other runtimes.
///
/// The graph is exported as shape inference leaves it, before any planner fusion: every layer
/// keeps its own node (Conv, then BatchNormalization, then Relu), named like the layer, and every
/// parameter becomes an initializer named like its `.npz` key (`layer1.0.conv1.weight`).
/// Where ONNX has no single operator with the layer's exact semantics, the layer is written as a
/// short chain of exact ONNX operators (SiLU as `Mul(x, Sigmoid(x))`, a convolution's reflect
/// padding as `Pad` + `Conv`, circular padding as `Slice` + `Concat`, Unfold as `Pad` + `Gather` +
/// `Transpose` + `Reshape`). A graph with layers that have no exact ONNX form is rejected with one
/// `ConvRTError` naming every such layer.
public enum ONNXExporter {
    /// The opset exports use unless they need a newer operator.
    public static let defaultOpset = 17
    /// The opset of a graph with a Fold (`Col2Im` first appears in opset 18).
    public static let col2ImOpset = 18
    /// ONNX IR version 8 covers opsets 17 and 18.
    public static let irVersion: Int64 = 8

    /// The default-domain opset an export of `graph` is written for.
    public static func opset(for graph: Graph) -> Int {
        let hasFold = graph.nodes.contains { if case .fold = $0.op { return true } else { return false } }
        return hasFold ? col2ImOpset : defaultOpset
    }

    /// The serialized ONNX `ModelProto` of a shape-inferred graph.
    ///
    /// - Parameters:
    ///   - inferred: the graph and its shapes, as `ModelCompiler.load` returns them.
    ///   - graphName: the ONNX graph's name (e.g. the model file's base name).
    /// - Throws: `ConvRTError` listing every layer that has no exact ONNX equivalent.
    public static func export(_ inferred: InferredGraph, graphName: String = "convrt") throws -> Data {
        try model(inferred, graphName: graphName).serializedBytes()
    }

    /// Exports `inferred` and writes it to `url` in one step; nothing is written when the export fails.
    public static func write(_ inferred: InferredGraph, to url: URL, graphName: String = "convrt") throws {
        let data = try export(inferred, graphName: graphName)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ConvRTError("cannot write \(url.relativePath): \(error.localizedDescription)")
        }
    }

    /// The ONNX model of `inferred`.
    static func model(_ inferred: InferredGraph, graphName: String) throws -> Onnx_ModelProto {
        let opset = opset(for: inferred.graph)
        var session = ONNXExportSession(inferred: inferred, opset: opset)
        var graph = try session.run()
        graph.name = graphName
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "convrt"
        model.graph = graph
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        model.opsetImport = [set]
        return model
    }
}

/// The state of one export: the ONNX graph under construction and the ONNX value holding each
/// convrt value.
struct ONNXExportSession {
    let inferred: InferredGraph
    var builder: ONNXExportBuilder
    /// The ONNX value of each convrt value (graph inputs and node outputs).
    var values: [String: String] = [:]

    var graph: Graph { inferred.graph }
    var opset: Int { builder.opset }

    init(inferred: InferredGraph, opset: Int) {
        self.inferred = inferred
        let reserved = Set(inferred.graph.inputs.map(\.name) + inferred.graph.nodes.map(\.name))
        builder = ONNXExportBuilder(opset: opset, reserved: reserved)
        for input in inferred.graph.inputs { values[input.name] = input.name }
    }

    /// Converts every node; layers without an ONNX form are collected and reported together.
    mutating func run() throws -> Onnx_GraphProto {
        var rejected: [String] = []
        for node in graph.nodes {
            do {
                try export(node)
            } catch let rejection as ONNXExportRejection {
                let place = node.location.map { " at \($0)" } ?? ""
                rejected.append("\(node.label)\(place) (\(rejection.reason))")
                values[node.name] = node.name  // lets later layers be checked too
            } catch let error as ConvRTError {
                throw error.located(at: node.location, context: node.label)
            }
        }
        if !rejected.isEmpty {
            let count = rejected.count == 1 ? "1 layer has" : "\(rejected.count) layers have"
            throw ConvRTError("cannot export to ONNX: \(count) no exact ONNX equivalent: \(rejected.joined(separator: "; "))")
        }
        return try assemble()
    }

    /// Converts one node and names its result after it: the last ONNX node written for it is
    /// renamed to the layer's name, so the ONNX graph reads like the convrt one.
    private mutating func export(_ node: Node) throws {
        if case .constant = node.op {
            values[node.name] = try builder.floats("\(node.name).value", weight(node, "value"))
            return
        }
        let start = builder.nodes.count
        let result = try convert(node)
        builder.finish(result, as: node.name, producedAfter: start)
        values[node.name] = node.name
    }

    /// Inputs, outputs (an `Identity` where an output is an initializer) and the nodes.
    private mutating func assemble() throws -> Onnx_GraphProto {
        var proto = Onnx_GraphProto()
        let declared = Set(graph.inputs.flatMap { $0.shape.compactMap { $0.value == nil ? $0.description : nil } })
        proto.input = graph.inputs.map { valueInfo($0.name, $0.shape, declared: declared) }
        var outputs: [Onnx_ValueInfoProto] = []
        for name in graph.outputs {
            guard let value = values[name] else { throw ConvRTError("internal error: output '\(name)' has no ONNX value") }
            if value != name { builder.node("Identity", [value], output: name) }
            outputs.append(valueInfo(name, inferred.shape(of: name), declared: declared))
        }
        proto.output = outputs
        proto.node = builder.nodes
        proto.initializer = builder.initializers
        return proto
    }

    /// A float32 tensor type: known dims as values, the inputs' own symbols as `dim_param`, derived
    /// expressions (`(H+1)/2`) left unnamed.
    private func valueInfo(_ name: String, _ shape: SymbolicShape, declared: Set<String>) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .known(let v): dim.dimValue = Int64(v)
            case .symbol(let s) where declared.contains(s): dim.dimParam = s
            case .symbol: break
            }
            return dim
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensor
        return info
    }
}

// MARK: - Reading the convrt node

extension ONNXExportSession {
    /// The ONNX value of operand `index`.
    func input(_ node: Node, _ index: Int = 0) throws -> String {
        guard index < node.inputs.count, let value = values[node.inputs[index]] else {
            throw ConvRTError("internal error: operand \(index) has no ONNX value")
        }
        return value
    }

    /// The ONNX values of every operand.
    func inputs(_ node: Node) throws -> [String] {
        try node.inputs.indices.map { try input(node, $0) }
    }

    /// The inferred shape of operand `index`.
    func shape(_ node: Node, _ index: Int = 0) -> SymbolicShape {
        index < node.inputs.count ? inferred.shape(of: node.inputs[index]) : []
    }

    /// The inferred shape of the node's output.
    func outputShape(_ node: Node) -> SymbolicShape { inferred.shape(of: node.name) }

    /// The parameter `<node>.<key>`.
    func weight(_ node: Node, _ key: String) throws -> Tensor {
        guard let t = graph.weights["\(node.name).\(key)"] else {
            throw ConvRTError("the parameter '\(node.name).\(key)' is missing")
        }
        return t
    }

    /// The parameter as an initializer named like its key.
    mutating func initializer(_ node: Node, _ key: String) throws -> String {
        builder.floats("\(node.name).\(key)", try weight(node, key))
    }

    /// An int64 `axes`-style initializer for a helper of `node`.
    mutating func ints(_ node: Node, _ role: String, _ values: [Int], shape: [Int]? = nil) -> String {
        builder.int64s("\(node.name)/\(role)", values, shape: shape)
    }

    /// Runs `body` on `x` with a leading unit dim when `batched` is false (ONNX's Conv, pools and
    /// Col2Im take batched inputs only), and removes the dim again from the result.
    mutating func withBatchDim(_ node: Node, _ x: String, batched: Bool,
                               _ body: (inout ONNXExportSession, String) throws -> String) throws -> String {
        guard !batched else { return try body(&self, x) }
        let axes = ints(node, "axes", [0])
        let lifted = builder.helper("Unsqueeze", [x, axes], base: "\(node.name)/batched")
        let result = try body(&self, lifted)
        return builder.helper("Squeeze", [result, axes], base: "\(node.name)/unbatched")
    }
}

extension ONNXExportBuilder {
    /// Gives `value`, the result of a layer, the layer's name: the node that wrote it (the last
    /// one, when written after `start`) is renamed, else an `Identity` copies it.
    mutating func finish(_ value: String, as name: String, producedAfter start: Int) {
        if nodes.count > start, nodes[nodes.count - 1].output == [value] {
            renameLast(to: name)
        } else {
            node("Identity", [value], output: name)
        }
    }
}
