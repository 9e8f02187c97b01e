/// Clean-ups on the imported convrt graph: fusing what exporters split apart back into the
/// layers PyTorch had, dropping unused nodes, and naming outputs as the ONNX file does.
enum ONNXGraphPasses {
    static func simplify(_ graph: inout Graph) {
        fusePadIntoConv(&graph)
        fuseCircularSlicesIntoConv(&graph)
        fuseLinearBias(&graph)
        fuseSiLU(&graph)
        removeDeadNodes(&graph)
    }

    /// How many times each value is read (graph outputs count as reads).
    static func uses(_ graph: Graph) -> [String: Int] {
        var count: [String: Int] = [:]
        for node in graph.nodes { for input in node.inputs { count[input, default: 0] += 1 } }
        for output in graph.outputs { count[output, default: 0] += 1 }
        return count
    }

    /// `Pad(reflect|edge|wrap)` or a zero `Pad` of exactly the spatial dims, symmetric, read only
    /// by an unpadded convolution: the convolution's own `padding` and `padding_mode` (how
    /// PyTorch exports `padding_mode='reflect'`, `'replicate'`, `'circular'`).
    static func fusePadIntoConv(_ graph: inout Graph) {
        let modes: [PadAttributes.Mode: ConvAttributes.PaddingMode] = [.constant: .zeros, .reflect: .reflect, .replicate: .replicate, .circular: .circular]
        var removed = Set<String>()
        for index in graph.nodes.indices {
            guard case .conv(var a) = graph.nodes[index].op, !a.transposed, a.paddingMode == .zeros,
                  isZero(a.padding, rank: a.spatialRank),
                  let padName = graph.nodes[index].inputs.first, uses(graph)[padName] == 1,
                  let pad = graph.node(named: padName), case .pad(let p) = pad.op,
                  p.begin.count == a.spatialRank, p.begin == p.end, p.begin.allSatisfy({ $0 >= 0 }),
                  p.mode != .constant || p.value == 0, let mode = modes[p.mode] else { continue }
            a.padding = .explicit(p.begin)
            a.paddingMode = mode
            graph.nodes[index].op = .conv(a)
            graph.nodes[index].inputs[0] = pad.inputs[0]
            removed.insert(padName)
        }
        graph.nodes.removeAll { removed.contains($0.name) }
    }

    /// `Concat(x[..., -p:], x, x[..., :p])` along a spatial dim, nested once per padded dim, read
    /// only by an unpadded convolution: how the TorchScript exporter writes `padding_mode='circular'`.
    static func fuseCircularSlicesIntoConv(_ graph: inout Graph) {
        for index in graph.nodes.indices {
            guard case .conv(var a) = graph.nodes[index].op, !a.transposed, a.paddingMode == .zeros,
                  isZero(a.padding, rank: a.spatialRank), let input = graph.nodes[index].inputs.first else { continue }
            var pads = [Int](repeating: 0, count: a.spatialRank)
            var value = input
            var chain: [String] = []
            while let step = circularStep(graph, value, rank: a.spatialRank + 2), step.axis >= 2,
                  step.axis < a.spatialRank + 2, pads[step.axis - 2] == 0 {
                pads[step.axis - 2] = step.pad
                chain += [value] + step.slices
                value = step.source
            }
            // Every value of the chain may only feed the chain itself and this convolution.
            let allowed = Set(chain + [graph.nodes[index].name])
            guard !chain.isEmpty, !chain.contains(where: graph.outputs.contains),
                  graph.nodes.allSatisfy({ allowed.contains($0.name) || !$0.inputs.contains(where: chain.contains) }) else { continue }
            a.padding = .explicit(pads)
            a.paddingMode = .circular
            graph.nodes[index].op = .conv(a)
            graph.nodes[index].inputs[0] = value
        }
        removeDeadNodes(&graph)
    }

    /// `name = Concat(x[-p:], x, x[:p])` along one axis: `(x, axis, p, [the two slices])`.
    private static func circularStep(_ graph: Graph, _ name: String, rank: Int) -> (source: String, axis: Int, pad: Int, slices: [String])? {
        guard let concat = graph.node(named: name), case .concat(let rawAxis) = concat.op, concat.inputs.count == 3 else { return nil }
        let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
        let source = concat.inputs[1]
        func slice(_ n: String) -> SliceAttributes? {
            guard let node = graph.node(named: n), node.inputs == [source], case .slice(let s) = node.op, s.axes.count == 1,
                  (s.axes[0] < 0 ? s.axes[0] + rank : s.axes[0]) == axis, s.steps == [1] else { return nil }
            return s
        }
        guard let head = slice(concat.inputs[0]), let tail = slice(concat.inputs[2]),
              let p = tail.ends.first, p > 0, tail.starts == [0], head.starts == [-p], head.ends[0] >= Limits.maxDimension else { return nil }
        return (source, axis, p, [concat.inputs[0], concat.inputs[2]])
    }

    private static func isZero(_ padding: ConvAttributes.Padding, rank: Int) -> Bool {
        switch padding {
        case .explicit(let p): return p.allSatisfy { $0 == 0 }
        case .valid: return true
        case .same: return false
        }
    }

    /// `Add(Linear without bias, constant row)`: MatMul + Add exports of `nn.Linear` become one Linear.
    static func fuseLinearBias(_ graph: inout Graph) {
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            let add = graph.nodes[index]
            guard case .add = add.op else { continue }
            let count = uses(graph)
            for (l, c) in [(0, 1), (1, 0)] {
                guard let linear = graph.node(named: add.inputs[l]), case .linear(var attributes) = linear.op,
                      !attributes.hasBias, count[linear.name] == 1,
                      let constant = graph.node(named: add.inputs[c]), case .constant(let shape) = constant.op, count[constant.name] == 1,
                      shape.last == attributes.outFeatures, shape.dropLast().allSatisfy({ $0 == 1 }),
                      let bias = graph.weights["\(constant.name).value"], let weight = graph.weights["\(linear.name).weight"]
                else { continue }
                attributes.hasBias = true
                graph.weights["\(add.name).weight"] = weight
                graph.weights["\(add.name).bias"] = bias.reshaped([attributes.outFeatures])
                graph.nodes[index] = Node(name: add.name, op: .linear(attributes), inputs: linear.inputs)
                graph.nodes.removeAll { $0.name == linear.name || $0.name == constant.name }
                for key in ["\(linear.name).weight", "\(constant.name).value"] { graph.weights[key] = nil }
                index = -1  // Indices moved: rescan (graphs are small and the pattern rare).
                break
            }
        }
    }

    /// `Mul(x, Sigmoid(x))`, PyTorch's export of SiLU, becomes one SiLU activation.
    static func fuseSiLU(_ graph: inout Graph) {
        var removed = Set<String>()
        let count = uses(graph)
        for index in graph.nodes.indices {
            let mul = graph.nodes[index]
            guard case .binary(.mul) = mul.op else { continue }
            for (s, x) in [(0, 1), (1, 0)] {
                guard let sigmoid = graph.node(named: mul.inputs[s]), case .activation(.sigmoid) = sigmoid.op,
                      sigmoid.inputs == [mul.inputs[x]], count[sigmoid.name] == 1 else { continue }
                graph.nodes[index] = Node(name: mul.name, op: .activation(.silu), inputs: [mul.inputs[x]])
                removed.insert(sigmoid.name)
                break
            }
        }
        graph.nodes.removeAll { removed.contains($0.name) }
    }

    /// Drops nodes no output depends on, and their weights.
    static func removeDeadNodes(_ graph: inout Graph) {
        var needed = Set(graph.outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() where needed.contains(node.name) {
            needed.formUnion(node.inputs)
            kept.append(node)
        }
        graph.nodes = kept.reversed()
        let names = Set(graph.nodes.map(\.name))
        graph.weights = graph.weights.filter { key, _ in
            guard let dot = key.lastIndex(of: ".") else { return false }
            return names.contains(String(key[..<dot]))
        }
    }

    /// Gives each output the ONNX output's name: the producing node is renamed (its weights
    /// too), or, when it cannot be (an alias of an input or another output), an Identity is added.
    static func nameOutputs(_ graph: inout Graph, as names: [String]) throws {
        var taken = Set(graph.inputs.map(\.name)).union(graph.nodes.map(\.name))
        var claimed = Set<String>()  // values already named after an earlier output
        for (i, wanted) in names.enumerated() {
            let current = graph.outputs[i]
            defer { claimed.insert(graph.outputs[i]) }
            if current == wanted { continue }
            guard !taken.contains(wanted) else {
                throw ConvRTError("output '\(wanted)' has the name of another value of the graph")
            }
            if graph.nodes.contains(where: { $0.name == current }) && !claimed.contains(current) {
                rename(&graph, current, to: wanted)
                taken.remove(current)
            } else {
                graph.nodes.append(Node(name: wanted, op: .identity, inputs: [current]))
                graph.outputs[i] = wanted
            }
            taken.insert(wanted)
        }
    }

    private static func rename(_ graph: inout Graph, _ old: String, to new: String) {
        for i in graph.nodes.indices {
            if graph.nodes[i].name == old { graph.nodes[i].name = new }
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == old ? new : $0 }
        }
        for i in graph.outputs.indices where graph.outputs[i] == old { graph.outputs[i] = new }
        let prefix = old + "."
        for key in graph.weights.keys where key.hasPrefix(prefix) {
            let suffix = key.dropFirst(prefix.count)
            guard !suffix.contains(".") else { continue }  // `old.x.weight` belongs to node `old.x`.
            graph.weights["\(new).\(suffix)"] = graph.weights.removeValue(forKey: key)
        }
    }
}
