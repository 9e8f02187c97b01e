/// The result of shape inference: the graph with Lazy channel counts resolved, and
/// the shape of every value (graph inputs and node outputs), symbolic where unbound.
public struct InferredGraph: Sendable {
    public var graph: Graph
    public var shapes: [String: SymbolicShape]

    /// The shape of a value, or an empty shape for an unknown name.
    public func shape(of name: String) -> SymbolicShape { shapes[name] ?? [] }
}

/// Computes every value's shape, validates every layer against PyTorch's rules and
/// resolves Lazy layers' `in_channels`. Later passes never see unresolved channels.
public enum ShapeInference {
    /// Infers shapes from the graph's declared input shapes.
    public static func run(_ graph: Graph) throws -> InferredGraph {
        try run(graph, inputShapes: Dictionary(graph.inputs.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Infers shapes for the given input shapes (e.g. concrete shapes bound at run time).
    public static func run(_ graph: Graph, inputShapes: [String: SymbolicShape]) throws -> InferredGraph {
        try GraphVerifier.verify(graph)
        var resolved = graph
        var shapes: [String: SymbolicShape] = [:]
        for input in graph.inputs {
            let shape = inputShapes[input.name] ?? input.shape
            if let bad = shape.first(where: { ($0.value ?? 0) < 0 }) {
                throw ConvRTError("input '\(input.name)' has a negative dimension \(bad) in \(shape.rendered)")
            }
            try Limits.checkDims(shape, of: input.name)
            if let long = shape.first(where: { $0.value == nil && $0.description.count > Limits.maxSymbolLength }) {
                throw ConvRTError("input '\(input.name)' has a dimension name of \(long.description.count) characters, more than the limit of \(Limits.maxSymbolLength)")
            }
            try Limits.checkElements(shape, "input '\(input.name)'")
            shapes[input.name] = shape
        }
        for index in resolved.nodes.indices {
            let node = resolved.nodes[index]
            let operands = node.inputs.map { shapes[$0] ?? [] }
            do {
                try Limits.checkAttributes(node.op)
                let (op, shape) = try infer(node.op, operands: operands)
                try Limits.checkElements(shape, "output")
                resolved.nodes[index].op = op
                shapes[node.name] = shape.map(SymbolicArithmetic.bounded)
            } catch let error as ConvRTError {
                throw error.located(at: node.location, context: node.label)
            }
        }
        return InferredGraph(graph: resolved, shapes: shapes)
    }

    /// One node's shape function; returns the op with anything inferred filled in.
    static func infer(_ op: Op, operands: [SymbolicShape]) throws -> (Op, SymbolicShape) {
        switch op {
        case .conv(let attributes):
            let (resolved, shape) = try ConvShapeFunction(attributes: attributes, input: operands[0]).infer()
            return (.conv(resolved), shape)
        case .unfold(let window):
            return (op, try FoldShapeFunction.unfold(window, input: operands[0]))
        case .fold(let attributes):
            return (op, try FoldShapeFunction.fold(attributes, input: operands[0]))
        case .activation(.hardtanh(let low, let high)) where high < low:
            // The DSL rejects max_val <= min_val at the layer, with the values as written. This catches
            // `.pb` models; equal bounds pass here, as float32 rounding may have made them equal.
            throw ConvRTError("max_val (\(pythonRepr(high))) must be greater than min_val (\(pythonRepr(low)))")
        case .activation, .identity:
            return (op, operands[0])
        case .add:
            return (op, try ElementwiseShapeFunction.broadcast(operands[0], operands[1]))
        case .batchNorm(let attributes):
            let (resolved, shape) = try BatchNormShapeFunction.infer(attributes, input: operands[0])
            return (.batchNorm(resolved), shape)
        case .linear, .matmul, .binary, .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather,
             .softmax, .reduceMean, .constant:
            return try TensorShapeFunctions.infer(op, operands: operands)
        case .pool(let a): return (op, try PoolShapeFunction(attributes: a, input: operands[0]).infer())
        case .adaptivePool(let a): let (r, s) = try AdaptivePoolShapeFunction(attributes: a, input: operands[0]).infer(); return (.adaptivePool(r), s)
        case .pad(let p): return (op, try PadShapeFunction.infer(p, input: operands[0]))
        case .resize(let a): let (r, s) = try ResizeShapeFunction(attributes: a, input: operands[0]).infer(); return (.resize(r), s)
        }
    }

    /// Binds concrete tensor shapes to the graph's declared inputs, checking ranks,
    /// concrete dims and that each symbol gets one value across all inputs.
    public static func bindInputs(_ graph: Graph, shapes actual: [String: [Int]]) throws -> [String: SymbolicShape] {
        var symbols: [String: Int] = [:]
        var bound: [String: SymbolicShape] = [:]
        for input in graph.inputs {
            guard let shape = actual[input.name] else {
                throw ConvRTError("missing input '\(input.name)' (expected shape \(input.shape.rendered))")
            }
            let mismatch = ConvRTError("input '\(input.name)' expects shape \(input.shape.rendered), but got \(shape.bracketed)")
            guard shape.count == input.shape.count else { throw mismatch }
            for (declared, size) in zip(input.shape, shape) {
                switch declared {
                case .known(let v): guard v == size else { throw mismatch }
                case .symbol(let s):
                    if let previous = symbols[s], previous != size {
                        throw ConvRTError("input '\(input.name)' binds \(s)=\(size), but \(s) is already \(previous)")
                    }
                    symbols[s] = size
                }
            }
            bound[input.name] = shape.dims
        }
        if let extra = actual.keys.sorted().first(where: { name in !graph.inputs.contains { $0.name == name } }) {
            throw ConvRTError("unknown input '\(extra)'; the model's inputs are \(graph.inputs.map(\.name).joined(separator: ", "))")
        }
        return bound
    }
}
