/// What an ONNX value is during import.
enum ImportedValue {
    /// Computed at run time: a convrt graph input or node, with its shape.
    case runtime(name: String, shape: SymbolicShape)
    /// Known at import (initializers, `Constant`, folded shape computations).
    case constant(ONNXConstant)
    /// An output convrt does not compute (MaxPool's indices, Dropout's mask): an error if read.
    case unavailable(String)
}

/// Accumulates the convrt graph: unique names, nodes with their parameters, and the shape of
/// every value (needed to fold `Shape`, resolve `auto_pad` and map rank-dependent attributes).
struct GraphBuilder {
    var inputs: [GraphInput] = []
    var nodes: [Node] = []
    var weights: [String: Tensor] = [:]
    var shapes: [String: SymbolicShape] = [:]
    private var taken: Set<String> = []
    /// Constant nodes already emitted, by ONNX value name and shape.
    private var constantNodes: [String: String] = [:]

    /// Keeps `name` from being handed out (graph input and output names).
    mutating func reserve(_ name: String) { taken.insert(name) }

    /// `base`, or `base_1`, `base_2`, ... if taken.
    mutating func uniqueName(_ base: String) -> String {
        let stem = base.isEmpty ? "node" : base
        var name = stem
        var i = 0
        while taken.contains(name) {
            i += 1
            name = "\(stem)_\(i)"
        }
        taken.insert(name)
        return name
    }

    mutating func addInput(_ name: String, shape: SymbolicShape) {
        taken.insert(name)
        inputs.append(GraphInput(name: name, shape: shape))
        shapes[name] = shape
    }

    /// Appends a node named after `base`, infers its output shape, and stores its parameters
    /// as `<node>.<suffix>`.
    mutating func emit(_ op: Op, inputs: [String], name base: String, parameters: [String: Tensor] = [:]) throws -> ImportedValue {
        let operands = inputs.map { shapes[$0] ?? [] }
        let (resolved, shape) = try Self.infer(op, operands: operands)
        let name = uniqueName(base)
        nodes.append(Node(name: name, op: resolved, inputs: inputs))
        shapes[name] = shape
        for (suffix, tensor) in parameters { weights["\(name).\(suffix)"] = tensor }
        return .runtime(name: name, shape: shape)
    }

    /// The node holding a constant operand (a `.constant` node with `<node>.value`), emitted once.
    mutating func materialize(_ constant: ONNXConstant, role: String) throws -> (name: String, shape: SymbolicShape) {
        let key = "\(constant.name)\(constant.shape)"
        if let name = constantNodes[key], let shape = shapes[name] { return (name, shape) }
        let tensor = try constant.floatTensor(for: role)
        guard case .runtime(let name, let shape) = try emit(.constant(shape: constant.shape), inputs: [], name: constant.name,
                                                            parameters: ["value": tensor]) else {
            throw ConvRTError("internal error: a constant node has no value")
        }
        constantNodes[key] = name
        return (name, shape)
    }

    /// Shape inference for one op, as the IR's shape inference does it.
    static func infer(_ op: Op, operands: [SymbolicShape]) throws -> (Op, SymbolicShape) {
        try ShapeInference.infer(op, operands: operands)
    }
}
