import Foundation

/// Dispatch, activations, the elementwise and dense ops, and tensor manipulation.
extension ONNXExportSession {
    /// Writes the ONNX nodes of one convrt node; returns the value holding its result.
    mutating func convert(_ node: Node) throws -> String {
        switch node.op {
        case .conv(let a): return try a.transposed ? convTranspose(node, a) : conv(node, a)
        case .unfold(let w): return try unfold(node, w)
        case .fold(let f): return try fold(node, f)
        case .activation(let a): return try activation(node, a)
        case .add: return try elementwise("Add", node)
        case .binary(let b): return try elementwise(["sub": "Sub", "mul": "Mul", "div": "Div"][b.rawValue] ?? "Div", node)
        case .matmul: return try elementwise("MatMul", node)
        case .identity: return try elementwise("Identity", node)
        case .batchNorm(let b): return try batchNorm(node, b)
        case .pool(let p): return try pool(node, p)
        case .adaptivePool(let p): return try adaptivePool(node, p)
        case .linear(let l): return try linear(node, l)
        case .concat(let axis):
            return builder.helper("Concat", try inputs(node), base: "\(node.name)/Concat", [ONNXAttribute.int("axis", axis)])
        case .flatten(let start, let end): return try flatten(node, start: start, end: end)
        case .reshape(let r):
            let target = ints(node, "shape", r.shape)
            return builder.helper("Reshape", [try input(node), target], base: "\(node.name)/Reshape",
                                  r.allowZero ? [ONNXAttribute.int("allowzero", 1)] : [])
        case .transpose(let perm):
            let full = try TensorAxis.permutation(perm, rank: shape(node).count)
            return builder.helper("Transpose", [try input(node)], base: "\(node.name)/Transpose", [ONNXAttribute.ints("perm", full)])
        case .squeeze(let axes): return try squeeze(node, axes: axes)
        case .unsqueeze(let axes):
            return builder.helper("Unsqueeze", [try input(node), ints(node, "axes", axes)], base: "\(node.name)/Unsqueeze")
        case .slice(let s): return slice(node, try input(node), starts: s.starts, ends: s.ends, axes: s.axes, steps: s.steps)
        case .gather(let g):
            let indices = ints(node, "indices", g.indices, shape: g.indicesShape)
            return builder.helper("Gather", [try input(node), indices], base: "\(node.name)/Gather", [ONNXAttribute.int("axis", g.axis)])
        case .pad(let p): return try padLayer(node, p)
        case .resize(let r): return try resize(node, r)
        case .softmax(let axis, let log):
            let op = log ? "LogSoftmax" : "Softmax"
            // ONNX's Softmax needs a dim: a 0-d input is normalised as a 1-element vector.
            return try withBatchDim(node, try input(node), batched: !shape(node).isEmpty) { session, x in
                session.builder.helper(op, [x], base: "\(node.name)/\(op)", [ONNXAttribute.int("axis", axis)])
            }
        case .reduceMean(let axes, let keepDims):
            let all = try TensorAxis.reduced(axes, rank: shape(node).count)
            return reduceMean(node, try input(node), axes: all, keepDims: keepDims)
        case .constant:
            throw ConvRTError("internal error: a constant is an initializer, not a node")
        }
    }

    /// An operator applied to the node's operands as they are.
    private mutating func elementwise(_ op: String, _ node: Node) throws -> String {
        builder.helper(op, try inputs(node), base: "\(node.name)/\(op)")
    }

    /// The activations. ReLU6 and Hardtanh are `Clip`; SiLU is `Mul(x, Sigmoid(x))` and GELU is
    /// spelt out with `Erf` (or `Tanh`), as PyTorch exports them before opset 20.
    mutating func activation(_ node: Node, _ a: Activation) throws -> String {
        let x = try input(node)
        let name = node.name
        switch a {
        case .relu: return builder.helper("Relu", [x], base: "\(name)/Relu")
        case .relu6: return clip(node, x, 0, 6)
        case .hardtanh(let lo, let hi): return clip(node, x, lo, hi)
        case .leakyReLU(let slope):
            return builder.helper("LeakyRelu", [x], base: "\(name)/LeakyRelu", [ONNXAttribute.float("alpha", slope)])
        case .sigmoid: return builder.helper("Sigmoid", [x], base: "\(name)/Sigmoid")
        case .tanh: return builder.helper("Tanh", [x], base: "\(name)/Tanh")
        case .silu:
            let sigmoid = builder.helper("Sigmoid", [x], base: "\(name)/Sigmoid")
            return builder.helper("Mul", [x, sigmoid], base: "\(name)/Mul")
        case .hardswish: return builder.helper("HardSwish", [x], base: "\(name)/HardSwish")
        case .hardSigmoid(let alpha, let beta):
            return builder.helper("HardSigmoid", [x], base: "\(name)/HardSigmoid",
                                  [ONNXAttribute.float("alpha", alpha), ONNXAttribute.float("beta", beta)])
        case .gelu(let approximate):
            return approximate ? tanhGELU(node, x) : erfGELU(node, x)
        }
    }

    private mutating func clip(_ node: Node, _ x: String, _ lo: Float, _ hi: Float) -> String {
        let bounds = [builder.scalar("\(node.name)/min", lo), builder.scalar("\(node.name)/max", hi)]
        return builder.helper("Clip", [x] + bounds, base: "\(node.name)/Clip")
    }

    /// `(x * 0.5) * (1 + erf(x * M_SQRT1_2))`, in the order of PyTorch's kernel and its exporter.
    private mutating func erfGELU(_ node: Node, _ x: String) -> String {
        let n = node.name
        let scaled = builder.helper("Mul", [x, builder.scalar("\(n)/sqrt1_2", Float(0.5.squareRoot()))], base: "\(n)/Mul")
        let erf = builder.helper("Erf", [scaled], base: "\(n)/Erf")
        let sum = builder.helper("Add", [erf, builder.scalar("\(n)/one", 1)], base: "\(n)/Add")
        let half = builder.helper("Mul", [x, builder.scalar("\(n)/half", 0.5)], base: "\(n)/Mul")
        return builder.helper("Mul", [half, sum], base: "\(n)/Mul")
    }

    /// `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`, with PyTorch's constants.
    private mutating func tanhGELU(_ node: Node, _ x: String) -> String {
        let n = node.name
        let square = mul(node, x, x)
        let cube = mul(node, square, x)
        let term = mul(node, cube, builder.scalar("\(n)/kappa", 0.044715))
        let inner = builder.helper("Add", [x, term], base: "\(n)/Add")
        let scaled = mul(node, inner, builder.scalar("\(n)/beta", 0.7978845608028654))
        let tanh = builder.helper("Tanh", [scaled], base: "\(n)/Tanh")
        let sum = builder.helper("Add", [tanh, builder.scalar("\(n)/one", 1)], base: "\(n)/Add")
        let half = mul(node, x, builder.scalar("\(n)/half", 0.5))
        return mul(node, half, sum)
    }

    private mutating func mul(_ node: Node, _ a: String, _ b: String) -> String {
        builder.helper("Mul", [a, b], base: "\(node.name)/Mul")
    }

    /// Linear: `Gemm(x, W, b, transB=1)` for a matrix input, else `MatMul(x, W^T)` plus the bias
    /// (Gemm takes matrices only).
    mutating func linear(_ node: Node, _ l: LinearAttributes) throws -> String {
        let x = try input(node)
        let bias = l.hasBias ? try initializer(node, "bias") : nil
        if shape(node).count == 2 {
            let w = try initializer(node, "weight")
            return builder.helper("Gemm", [x, w] + (bias.map { [$0] } ?? []), base: "\(node.name)/Gemm", [ONNXAttribute.int("transB", 1)])
        }
        let w = try weight(node, "weight")
        guard w.rank == 2 else { throw ConvRTError("the weight has shape \(w.shape.bracketed), but Linear needs a matrix") }
        let (rows, columns) = (w.shape[0], w.shape[1])
        let transposed = Tensor(shape: [columns, rows], data: (0..<(rows * columns)).map { i in w.data[(i % rows) * columns + i / rows] })
        let y = builder.helper("MatMul", [x, builder.floats("\(node.name).weight_transposed", transposed)], base: "\(node.name)/MatMul")
        guard let bias else { return y }
        return builder.helper("Add", [y, bias], base: "\(node.name)/Add")
    }

    /// `torch.flatten`: ONNX Flatten for `(N, rest)`, else a Reshape.
    private mutating func flatten(_ node: Node, start: Int, end: Int) throws -> String {
        let x = try input(node)
        let input = shape(node)
        let r = input.count
        if r >= 2, try TensorAxis.wrap(start, rank: r) == 1, try TensorAxis.wrap(end, rank: r) == r - 1 {
            return builder.helper("Flatten", [x], base: "\(node.name)/Flatten", [ONNXAttribute.int("axis", 1)])
        }
        guard let target = Self.reshapeTarget(from: input, to: outputShape(node)) else {
            throw ONNXExportRejection("the result \(outputShape(node).rendered) has symbolic dims a Reshape target cannot spell")
        }
        return builder.helper("Reshape", [x, ints(node, "shape", target)], base: "\(node.name)/Reshape")
    }

    /// A Reshape target giving `output`: `0` where a symbolic dim stays at its index, at most one
    /// `-1` for another symbolic dim, known sizes as they are; `nil` if that cannot be spelt.
    static func reshapeTarget(from input: SymbolicShape, to output: SymbolicShape) -> [Int]? {
        var target: [Int] = []
        for (i, d) in output.enumerated() {
            if let v = d.value, v != 0 {
                target.append(v)
            } else if i < input.count, input[i] == d {
                target.append(0)
            } else if d.value == nil, !target.contains(-1) {
                target.append(-1)
            } else {
                return nil
            }
        }
        return target
    }

    /// Squeeze; no axes means every dim shape inference knows to be 1 (symbolic dims are not).
    private mutating func squeeze(_ node: Node, axes: [Int]) throws -> String {
        let x = try input(node)
        let list = axes.isEmpty ? shape(node).indices.filter { shape(node)[$0] == .known(1) } : axes
        guard !list.isEmpty else { return x }
        return builder.helper("Squeeze", [x, ints(node, "axes", list)], base: "\(node.name)/Squeeze")
    }

    /// ReduceMean over explicit axes: an attribute before opset 18, an input from 18.
    mutating func reduceMean(_ node: Node, _ x: String, axes: [Int], keepDims: Bool) -> String {
        let keep = ONNXAttribute.int("keepdims", keepDims ? 1 : 0)
        if opset >= 18 {
            return builder.helper("ReduceMean", [x, ints(node, "axes", axes)], base: "\(node.name)/ReduceMean", [keep])
        }
        return builder.helper("ReduceMean", [x], base: "\(node.name)/ReduceMean", [ONNXAttribute.ints("axes", axes), keep])
    }
}
