/// Decodes a `GraphProto` and checks its structure: inputs (float32, with a shape), initializers,
/// every value defined exactly once, no dangling reads, no cycles.
struct ONNXGraphReader {
    var inputs: [GraphInput] = []
    var initializers: [String: ONNXConstant] = [:]
    var nodes: [ONNXNode]
    var outputs: [String]

    init(graph: Onnx_GraphProto) throws {
        if let sparse = graph.sparseInitializer.first {
            throw ConvRTError("sparse initializer '\(sparse.values.name)' is not supported")
        }
        for tensor in graph.initializer {
            guard !tensor.name.isEmpty else { throw ConvRTError("an initializer has no name") }
            guard initializers[tensor.name] == nil else { throw ConvRTError("initializer '\(tensor.name)' is defined twice") }
            initializers[tensor.name] = try ONNXConstant.decode(tensor, name: tensor.name)
        }
        // Older exporters list initializers as inputs too; those are weights, not model inputs.
        for input in graph.input where initializers[input.name] == nil {
            guard inputs.allSatisfy({ $0.name != input.name }) else { throw ConvRTError("input '\(input.name)' is declared twice") }
            inputs.append(try Self.graphInput(input))
        }
        nodes = graph.node.map(ONNXNode.init)
        outputs = graph.output.map(\.name)
        guard !outputs.isEmpty else { throw ConvRTError("the graph has no outputs") }
        try checkDefinitions()
    }

    /// A float32 graph input; `dim_param` becomes a symbol, a dim with neither value nor
    /// parameter gets a symbol of its own.
    static func graphInput(_ info: Onnx_ValueInfoProto) throws -> GraphInput {
        let name = info.name
        guard !name.isEmpty else { throw ConvRTError("a graph input has no name") }
        guard case .tensorType(let type)? = info.type.value else {
            throw ConvRTError("input '\(name)' is not a tensor")
        }
        guard type.elemType == Onnx_TensorProto.DataType.float.rawValue else {
            let t = Onnx_TensorProto.DataType(rawValue: Int(type.elemType))?.onnxName ?? "type \(type.elemType)"
            throw ConvRTError("input '\(name)' has element type \(t); convrt runs float32 models only")
        }
        guard type.hasShape else { throw ConvRTError("input '\(name)' has no shape; convrt needs at least its rank") }
        let shape = try type.shape.dim.enumerated().map { i, d -> Dim in
            switch d.value {
            case .dimValue(let v)?:
                guard v >= 0, v <= Int64(Limits.maxDimension) else { throw ConvRTError("input '\(name)' has an invalid dimension \(v)") }
                return .known(Int(v))
            case .dimParam(let p)? where !p.isEmpty:
                return .symbol(p)
            default:
                return .symbol("\(name)_dim\(i)")
            }
        }
        return GraphInput(name: name, shape: shape)
    }

    /// Every value is produced once, and every read names an input, initializer or node output.
    private func checkDefinitions() throws {
        var producer: [String: String] = [:]
        for input in inputs { producer[input.name] = "graph input" }
        for name in initializers.keys { producer[name] = "initializer" }
        for node in nodes {
            for output in node.outputs where !output.isEmpty {
                if let other = producer[output] {
                    throw ConvRTError("\(node.label) writes '\(output)', which is already a \(other == "graph input" || other == "initializer" ? other : "output of \(other)")")
                }
                producer[output] = node.label
            }
        }
        for node in nodes {
            for input in node.inputs where !input.isEmpty && producer[input] == nil {
                throw ConvRTError("\(node.label) reads '\(input)', which no node, graph input or initializer produces")
            }
        }
        for output in outputs where producer[output] == nil {
            throw ConvRTError("graph output '\(output)' is not produced by any node, graph input or initializer")
        }
    }

    /// The nodes in a topological order (the file's order where it is one already).
    func sortedNodes() throws -> [ONNXNode] {
        var producerIndex: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producerIndex[output] = i }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for p in Set(node.inputs.compactMap({ producerIndex[$0] })) {
                pending[i] += 1
                consumers[p].append(i)
            }
        }
        // A min-heap would be asymptotically better; graphs are small and mostly already sorted.
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed().map { $0 }
        var order: [Int] = []
        while let next = ready.popLast() {
            order.append(next)
            for c in consumers[next] {
                pending[c] -= 1
                if pending[c] == 0 {
                    let at = ready.firstIndex(where: { $0 < c }) ?? ready.count
                    ready.insert(c, at: at)
                }
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).filter { pending[$0] > 0 }.map { "'\(nodes[$0].name)'" }
            let shown = stuck.prefix(8).joined(separator: ", ") + (stuck.count > 8 ? ", ..." : "")
            throw ConvRTError("the graph has a cycle through nodes \(shown)")
        }
        return order.map { nodes[$0] }
    }

    /// The nodes the outputs depend on, in the given order.
    static func live(_ nodes: [ONNXNode], outputs: [String]) -> [ONNXNode] {
        var needed = Set(outputs)
        var keep = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() where nodes[i].outputs.contains(where: needed.contains) {
            keep[i] = true
            needed.formUnion(nodes[i].inputs.filter { !$0.isEmpty })
        }
        return nodes.indices.filter { keep[$0] }.map { nodes[$0] }
    }
}
