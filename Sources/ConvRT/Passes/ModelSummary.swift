/// One row of `convrt inspect`: what a node computes, its shapes and its cost.
public struct NodeSummary: Sendable {
    public var name: String
    public var op: String
    public var inputs: [String]
    public var inputShapes: [SymbolicShape]
    public var outputShape: SymbolicShape
    /// Key attributes, e.g. `k=3x3 s=2 p=1 g=4`.
    public var attributes: String
    public var parameterCount: Int
    /// Floating-point operations (a multiply-add counts 2); `nil` while dims are symbolic.
    public var flops: Int?
}

/// Per-node shapes, parameter counts and FLOPs of a shape-inferred graph.
public struct ModelSummary: Sendable {
    public var inputs: [(name: String, shape: SymbolicShape)]
    public var nodes: [NodeSummary]
    public var outputs: [String]

    public var totalParameters: Int { nodes.reduce(0) { $0 + $1.parameterCount } }
    /// Sum of all FLOPs, or `nil` if any node's count depends on unbound dims.
    public var totalFLOPs: Int? {
        nodes.reduce(Optional(0)) { sum, node in sum.flatMap { s in node.flops.map { s + $0 } } }
    }

    public init(_ inferred: InferredGraph) {
        let graph = inferred.graph
        inputs = graph.inputs.map { ($0.name, inferred.shape(of: $0.name)) }
        outputs = graph.outputs
        nodes = graph.nodes.map { node in
            let inShapes = node.inputs.map { inferred.shape(of: $0) }
            let outShape = inferred.shape(of: node.name)
            // Learnable parameters only, like `sum(p.numel() for p in model.parameters())`:
            // BatchNorm's running stats are buffers.
            let params = WeightBinding.parameters(of: Graph(inputs: [], nodes: [node], outputs: []))
                .filter { !$0.isBuffer }.reduce(0) { $0 + $1.shape.reduce(1, *) }
            return NodeSummary(
                name: node.name, op: node.op.displayName, inputs: node.inputs, inputShapes: inShapes,
                outputShape: outShape, attributes: Self.attributes(of: node.op), parameterCount: params,
                flops: Self.flops(node.op, input: inShapes.first ?? [], output: outShape))
        }
    }

    static func attributes(of op: Op) -> String {
        func list(_ v: [Int]) -> String { Set(v).count == 1 ? String(v[0]) : v.map(String.init).joined(separator: "x") }
        switch op {
        case .conv(let a):
            var parts = ["k=\(list(a.kernelSize))", "s=\(list(a.stride))"]
            switch a.padding {
            case .explicit(let p): parts.append("p=\(list(p))")
            case .same: parts.append("p=same")
            case .valid: parts.append("p=valid")
            }
            if a.dilation.contains(where: { $0 != 1 }) { parts.append("d=\(list(a.dilation))") }
            if a.groups != 1 { parts.append("g=\(a.groups)") }
            if a.transposed, a.outputPadding.contains(where: { $0 != 0 }) { parts.append("op=\(list(a.outputPadding))") }
            if let size = a.outputSize { parts.append("out=\(size.map(String.init).joined(separator: "x"))") }
            if a.paddingMode != .zeros { parts.append("mode=\(a.paddingMode.rawValue)") }
            if !a.hasBias { parts.append("bias=false") }
            parts.append("\(a.inChannels.map(String.init) ?? "?")->\(a.outChannels)")
            return parts.joined(separator: " ")
        case .unfold(let w):
            return "k=\(list(w.kernelSize)) s=\(list(w.stride)) p=\(list(w.padding)) d=\(list(w.dilation))"
        case .fold(let f):
            return "out=\(f.outputSize.map(String.init).joined(separator: "x")) k=\(list(f.window.kernelSize)) s=\(list(f.window.stride)) p=\(list(f.window.padding)) d=\(list(f.window.dilation))"
        case .batchNorm(let b):
            var parts = ["C=\(b.numFeatures.map(String.init) ?? "?")", "eps=\(b.eps)"]
            if !b.affine { parts.append("affine=false") }
            if !b.trackRunningStats { parts.append("batch-stats") }
            return parts.joined(separator: " ")
        case .activation(let a):
            switch a {
            case .leakyReLU(let slope): return "slope=\(slope)"
            case .hardtanh(let lo, let hi): return "min=\(lo) max=\(hi)"
            case .gelu(let approximate): return approximate ? "approximate=tanh" : ""
            case .hardSigmoid(let alpha, let beta): return "alpha=\(alpha) beta=\(beta)"
            default: return ""
            }
        case .add, .identity:
            return ""
        case .linear, .matmul, .binary, .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather,
             .softmax, .reduceMean, .constant:
            return tensorAttributes(of: op)
        case .pool, .adaptivePool, .pad, .resize: return SpatialLayerSummary.attributes(of: op)
        }
    }

    /// FLOPs with a multiply-add counted as 2; elementwise ops count one per output element.
    static func flops(_ op: Op, input: SymbolicShape, output: SymbolicShape) -> Int? {
        guard let count = flopFactors(op, input: input, output: output) else { return nil }
        return Limits.product(count)
    }

    /// The factors whose product is the FLOP count (multiplied with overflow checks by the caller).
    private static func flopFactors(_ op: Op, input: SymbolicShape, output: SymbolicShape) -> [Int]? {
        guard let inShape = input.concrete, let outShape = output.concrete else { return nil }
        guard let outCount = Limits.product(outShape), let inCount = Limits.product(inShape) else { return nil }
        switch op {
        case .conv(let a):
            guard let kernel = Limits.product(a.kernelSize) else { return nil }
            if a.transposed {
                let outPerGroup = a.outChannels / max(a.groups, 1)
                return [2, inCount, outPerGroup, kernel]
            }
            let inPerGroup = (a.inChannels ?? 0) / max(a.groups, 1)
            return [2, outCount, inPerGroup, kernel]
        case .fold:
            return [inCount]
        case .unfold, .identity:
            return [0]
        case .activation, .add, .binary:
            return [outCount]
        case .batchNorm:
            return [2, outCount]
        case .linear, .matmul:
            // A multiply-add per output element and contracted element (K: the first operand's last dim).
            return [2, outCount, inShape.last ?? 1]
        case .softmax:
            // max, subtract, exp, sum and divide (or log) per element.
            return [5, outCount]
        case .reduceMean:
            return [inCount]
        case .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather, .constant:
            return [0]
        case .pool, .adaptivePool, .pad, .resize: return SpatialLayerSummary.flopFactors(op, inCount: inCount, outCount: outCount)
        }
    }

    /// Key attributes of the dense and tensor ops: `512->1000`, `dim=1`, `perm=[0, 2, 3, 1]`.
    private static func tensorAttributes(of op: Op) -> String {
        switch op {
        case .linear(let l): return "\(l.inFeatures.map(String.init) ?? "?")->\(l.outFeatures)" + (l.hasBias ? "" : " bias=false")
        case .concat(let axis): return "dim=\(axis)"
        case .flatten(let start, let end): return "start_dim=\(start) end_dim=\(end)"
        case .reshape(let r): return "shape=\(r.shape.bracketed)" + (r.allowZero ? " allowzero" : "")
        case .transpose(let perm): return perm.isEmpty ? "perm=reversed" : "perm=\(perm.bracketed)"
        case .squeeze(let axes): return axes.isEmpty ? "all size-1 dims" : "axes=\(axes.bracketed)"
        case .unsqueeze(let axes): return "axes=\(axes.bracketed)"
        case .slice(let s):
            func bound(_ v: Int) -> String { v >= Limits.maxDimension ? "inf" : v <= -Limits.maxDimension ? "-inf" : String(v) }
            return "starts=[\(s.starts.map(bound).joined(separator: ", "))] ends=[\(s.ends.map(bound).joined(separator: ", "))] axes=\(s.axes.bracketed)" + (s.steps.allSatisfy { $0 == 1 } ? "" : " steps=\(s.steps.bracketed)")
        case .gather(let g):
            let indices = g.indices.count <= 8 ? g.indices.bracketed : "\(g.indices.count) indices"
            return "axis=\(g.axis) indices=\(indices)" + (g.indicesShape.isEmpty ? " (scalar)" : "")
        case .softmax(let axis, _): return "dim=\(axis)"
        case .reduceMean(let axes, let keep): return (axes.isEmpty ? "all dims" : "axes=\(axes.bracketed)") + (keep ? " keepdims" : "")
        case .constant(let shape): return "shape=\(shape.bracketed)"
        default: return ""
        }
    }
}
