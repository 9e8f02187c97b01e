/// Rewrites of ONNX subgraphs into the single operators they decompose (before opset 20
/// exporters spell GELU with Erf).
enum ONNXPatterns {
    /// Replaces `x * 0.5 * (1 + erf(x / sqrt(2)))`, in the orders PyTorch exports it
    /// (`Div`/`Erf`/`Add`/`Mul`/`Mul`, or with `Mul(x, 1/sqrt(2))` and `Mul(x, 0.5)` first), by `Gelu`.
    static func fuseDecomposedGELU(_ nodes: inout [ONNXNode], constants: [String: ONNXConstant], outputs: Set<String>) throws {
        let scalars = try scalarValues(nodes, constants)
        while let match = findGELU(nodes, scalars: scalars, outputs: outputs) {
            let final = nodes[match.final]
            let gelu = ONNXNode(name: final.name, opType: "Gelu", inputs: [match.x], outputs: Array(final.outputs.prefix(1)))
            let removed = Set(match.nodes)
            var rewritten: [ONNXNode] = []
            for (i, node) in nodes.enumerated() {
                if i == match.final { rewritten.append(gelu) } else if !removed.contains(i) { rewritten.append(node) }
            }
            nodes = rewritten
        }
    }

    private struct Match {
        var x: String
        /// Indices of every node of the pattern, `final` included.
        var nodes: [Int]
        var final: Int
    }

    /// One-element constants by value name: initializers and `Constant` nodes.
    private static func scalarValues(_ nodes: [ONNXNode], _ constants: [String: ONNXConstant]) throws -> [String: Double] {
        var scalars: [String: Double] = [:]
        for (name, c) in constants where c.count == 1 && c.isFloat { scalars[name] = try c.scalar(for: name) }
        for node in nodes where node.opType == "Constant" && node.domain.isEmpty {
            if let t = try? node.tensor("value"), let c = try? ONNXConstant.decode(t, name: ""), c.count == 1, c.isFloat,
               let out = node.outputs.first {
                scalars[out] = try c.scalar(for: out)
            }
        }
        return scalars
    }

    private static func findGELU(_ nodes: [ONNXNode], scalars: [String: Double], outputs: Set<String>) -> Match? {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for o in node.outputs { producer[o] = i }
            for input in node.inputs { consumers[input, default: []].append(i) }
        }
        func isScalar(_ name: String, _ value: Double) -> Bool {
            guard let v = scalars[name] else { return false }
            return abs(v - value) <= 1e-5 * max(1, abs(value))
        }
        /// The operand of a two-input node other than `name`, when the node has it once.
        func other(_ node: ONNXNode, _ name: String) -> String? {
            guard node.inputs.count == 2 else { return nil }
            if node.inputs[0] == name { return node.inputs[1] }
            return node.inputs[1] == name ? node.inputs[0] : nil
        }
        /// The single consumer of an intermediate value that is not a graph output.
        func only(_ value: String, _ type: String) -> Int? {
            guard !outputs.contains(value), let list = consumers[value], list.count == 1,
                  nodes[list[0]].opType == type, nodes[list[0]].domain.isEmpty else { return nil }
            return list[0]
        }
        for (e, erf) in nodes.enumerated() where erf.opType == "Erf" && erf.domain.isEmpty && erf.inputs.count == 1 {
            guard let d = producer[erf.inputs[0]], only(erf.inputs[0], "Erf") == e, nodes[d].inputs.count == 2 else { continue }
            let div = nodes[d]
            let x: String
            if div.opType == "Div", isScalar(div.inputs[1], 2.0.squareRoot()) {
                x = div.inputs[0]
            } else if div.opType == "Mul", let c = [div.inputs[1], div.inputs[0]].first(where: { isScalar($0, 0.5.squareRoot()) }),
                      let operand = other(div, c) {
                x = operand
            } else { continue }
            guard let erfOut = erf.outputs.first, let a = only(erfOut, "Add"),
                  let one = other(nodes[a], erfOut), isScalar(one, 1),
                  let aOut = nodes[a].outputs.first, let m = only(aOut, "Mul"), let mOther = other(nodes[m], aOut),
                  let mOut = nodes[m].outputs.first else { continue }
            if mOther == x, let f = only(mOut, "Mul"), let half = other(nodes[f], mOut), isScalar(half, 0.5) {
                return Match(x: x, nodes: [d, e, a, m, f], final: f)
            }
            if let h = producer[mOther], only(mOther, "Mul") == m, let half = other(nodes[h], x), isScalar(half, 0.5) {
                return Match(x: x, nodes: [d, e, a, m, h], final: m)
            }
        }
        return nil
    }
}
