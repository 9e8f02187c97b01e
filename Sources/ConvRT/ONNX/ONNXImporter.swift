import Foundation
import SwiftProtobuf

/// Imports ONNX models (default-domain opsets 11 to 21) as convrt graphs.
///
/// Initializers become parameters in PyTorch's layouts (`<node>.weight`, ...), or are consumed
/// at import when they only feed shape computations. `Shape`/`Cast`/`Gather`/... chains over
/// known shapes are evaluated at import; graph inputs with `dim_param` get symbolic dims.
/// Every problem is one `ConvRTError` line naming the file (and the node, where there is one);
/// a model with unsupported operators is rejected with a single error listing all of them.
public enum ONNXImporter {
    /// The default-domain opset versions the importer reads.
    public static let supportedOpsets: ClosedRange<Int> = 11...21

    /// Reads and imports the `.onnx` file at `url`.
    public static func importModel(contentsOf url: URL) throws -> Graph {
        try importModel(try FileAccess.read(url), file: FileAccess.displayName(url))
    }

    /// Imports a serialized `ModelProto`; `file` names it in error messages.
    public static func importModel(_ data: Data, file: String) throws -> Graph {
        guard !data.isEmpty else { throw ConvRTError("\(file): not a valid ONNX model: the file is empty") }
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 200
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ConvRTError("\(file): not a valid ONNX model: \(describe(error))")
        }
        return try importModel(model, file: file)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? BinaryDecodingError {
        case .truncated?: return "data is truncated"
        case .invalidUTF8?: return "a string is not valid UTF-8"
        case .malformedProtobuf?: return "malformed protobuf data"
        case .messageDepthLimit?: return "messages are nested too deeply"
        default: return "\(error)"
        }
    }

    static func importModel(_ model: Onnx_ModelProto, file: String) throws -> Graph {
        do {
            guard model.hasGraph else { throw ConvRTError("the model has no graph") }
            var session = try ImportSession(opset: try opset(of: model), graph: model.graph)
            return try session.run()
        } catch let error as ConvRTError {
            throw ConvRTError("\(file): \(error.description)")
        }
    }

    /// The default-domain opset version from `opset_import`.
    static func opset(of model: Onnx_ModelProto) throws -> Int {
        guard let entry = model.opsetImport.last(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ConvRTError("the model imports no default-domain opset (opset_import)")
        }
        guard let version = Int(exactly: entry.version), supportedOpsets.contains(version) else {
            throw ConvRTError("opset \(entry.version) is not supported; convrt reads opsets \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound) (re-export with opset_version=17)")
        }
        return version
    }
}

/// The state of one import: the ONNX graph in topological order, what each ONNX value maps to,
/// and the convrt graph under construction.
struct ImportSession {
    let opset: Int
    /// Live nodes in a topological order.
    var nodes: [ONNXNode]
    /// Every node, for the unsupported-operator report.
    let allNodes: [ONNXNode]
    let outputNames: [String]
    var values: [String: ImportedValue] = [:]
    var builder = GraphBuilder()

    init(opset: Int, graph: Onnx_GraphProto) throws {
        self.opset = opset
        let reader = try ONNXGraphReader(graph: graph)
        var nodes = try reader.sortedNodes()
        try ONNXPatterns.fuseDecomposedGELU(&nodes, constants: reader.initializers, outputs: Set(reader.outputs))
        allNodes = nodes
        try Self.rejectUnsupported(nodes)
        self.nodes = ONNXGraphReader.live(nodes, outputs: reader.outputs)
        outputNames = reader.outputs
        for name in reader.outputs { builder.reserve(name) }
        for (name, constant) in reader.initializers { values[name] = .constant(constant) }
        for input in reader.inputs {
            builder.addInput(input.name, shape: input.shape)
            values[input.name] = .runtime(name: input.name, shape: input.shape)
        }
    }

    /// Converts every live node, then names the outputs and runs the clean-up passes.
    mutating func run() throws -> Graph {
        for node in nodes {
            do {
                let result = try convert(node)
                for (i, output) in node.outputs.enumerated() where !output.isEmpty {
                    values[output] = i == 0 ? result
                        : .unavailable("output \(i) ('\(output)') of \(node.label) is not supported; convrt computes only the first output")
                }
            } catch let error as ConvRTError {
                throw ConvRTError("\(node.label): \(error.description)")
            }
        }
        var outputs: [String] = []
        for name in outputNames { outputs.append(try outputValue(name)) }
        var graph = Graph(inputs: builder.inputs, nodes: builder.nodes, outputs: outputs, weights: builder.weights)
        ONNXGraphPasses.simplify(&graph)
        try ONNXGraphPasses.nameOutputs(&graph, as: outputNames)
        return graph
    }

    /// The convrt value a graph output reads, materializing a constant output.
    private mutating func outputValue(_ name: String) throws -> String {
        switch try value(name) {
        case .runtime(let value, _): return value
        case .constant(let c): return try builder.materialize(c, role: "output").name
        case .unavailable(let why): throw ConvRTError(why)
        }
    }

    /// Rejects every operator the importer cannot map, all in one error.
    static func rejectUnsupported(_ nodes: [ONNXNode]) throws {
        var order: [String] = []
        var places: [String: [String]] = [:]
        for node in nodes where !(node.domain.isEmpty && ONNXOperators.supported.contains(node.opType)) {
            if places[node.qualifiedType] == nil { order.append(node.qualifiedType) }
            places[node.qualifiedType, default: []].append("'\(node.name)'")
        }
        guard !order.isEmpty else { return }
        let list = order.map { type -> String in
            let names = places[type] ?? []
            // A long list is cut after eight names: the line stays readable.
            let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? " and \(names.count - 8) more" : "")
            return "\(type) (node\(names.count == 1 ? "" : "s") \(shown))"
        }
        throw ConvRTError("unsupported operator\(order.count == 1 ? "" : "s"): \(list.joined(separator: ", "))")
    }
}

// MARK: - Reading node inputs

extension ImportSession {
    /// The value named `name`; reading an unavailable output is an error.
    func value(_ name: String) throws -> ImportedValue {
        guard let v = values[name] else { throw ConvRTError("internal error: value '\(name)' is undefined") }
        if case .unavailable(let why) = v { throw ConvRTError(why) }
        return v
    }

    /// Input `index` as a constant, `nil` when omitted; a run-time value is an error.
    func constant(_ node: ONNXNode, _ index: Int, _ role: String) throws -> ONNXConstant? {
        guard let name = node.input(index) else { return nil }
        switch try value(name) {
        case .constant(let c): return c
        default: throw ConvRTError("\(role) ('\(name)') must be a constant (an initializer or computed from known shapes)")
        }
    }

    /// Input `index` when it is known at import, `nil` when omitted or computed at run time.
    func knownConstant(_ node: ONNXNode, _ index: Int) -> ONNXConstant? {
        guard let name = node.input(index), case .constant(let c)? = values[name] else { return nil }
        return c
    }

    /// A required constant input.
    func requiredConstant(_ node: ONNXNode, _ index: Int, _ role: String) throws -> ONNXConstant {
        guard let c = try constant(node, index, role) else { throw ConvRTError("input \(index) (\(role)) is missing") }
        return c
    }

    /// Input `index` as a run-time value; a constant becomes a `.constant` node.
    mutating func runtime(_ node: ONNXNode, _ index: Int) throws -> (name: String, shape: SymbolicShape) {
        guard let name = node.input(index) else { throw ConvRTError("input \(index) is missing") }
        switch try value(name) {
        case .runtime(let n, let shape): return (n, shape)
        case .constant(let c): return try builder.materialize(c, role: "input \(index)")
        case .unavailable(let why): throw ConvRTError(why)
        }
    }

    /// Whether input `index` is known at import.
    func isConstant(_ node: ONNXNode, _ index: Int) -> Bool {
        guard let name = node.input(index), case .constant = values[name] else { return false }
        return true
    }

    /// Emits a node named after the ONNX node (or `name + suffix` for helper nodes).
    mutating func emit(_ op: Op, _ inputs: [String], for node: ONNXNode, suffix: String = "",
                       parameters: [String: Tensor] = [:]) throws -> ImportedValue {
        try builder.emit(op, inputs: inputs, name: node.name + suffix, parameters: parameters)
    }
}

extension ImportedValue {
    /// The convrt value name of a run-time value.
    var runtimeName: String? {
        if case .runtime(let name, _) = self { return name }
        return nil
    }

    var runtimeShape: SymbolicShape? {
        if case .runtime(_, let shape) = self { return shape }
        return nil
    }
}
