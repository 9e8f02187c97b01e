/// A planned dense or tensor-manipulation step: Linear (SGEMM), MatMul (SGEMM), broadcasting
/// Sub/Mul/Div, data movement (Concat, Transpose, Slice, Gather, views) and Softmax/ReduceMean.
///
/// Weights are prepared once when the plan is made; axis and slice geometry is resolved per run
/// from the concrete shapes (a few integer operations), which shape inference has validated.
public enum TensorLayerKernel: Sendable {
    case linear(LinearKernel)
    case matmul(threads: Int)
    case binary(BinaryOperator)
    case concat(axis: Int)
    /// Flatten, Reshape, Squeeze, Unsqueeze: the same elements in the same order. Copied, unless
    /// the memory plan runs the step in place (then nothing moves).
    case view
    case transpose(permutation: [Int])
    case slice(SliceAttributes)
    case gather(GatherAttributes)
    case softmax(axis: Int, log: Bool)
    case reduceMean(axes: [Int])
    /// Writes its value (ONNX Constant).
    case constant(Tensor)

    /// The kernel for a shape-inferred node, with its parameters from `weights`.
    init(_ node: Node, weights: [String: Tensor]) throws {
        func parameter(_ suffix: String) throws -> Tensor {
            guard let t = weights["\(node.name).\(suffix)"] else {
                throw ConvRTError("missing weight '\(node.name).\(suffix)'", context: node.label, at: node.location)
            }
            return t
        }
        switch node.op {
        case .linear(let a):
            self = .linear(LinearKernel(weight: try parameter("weight"), bias: a.hasBias ? try parameter("bias") : nil))
        case .matmul: self = .matmul(threads: 1)
        case .binary(let op): self = .binary(op)
        case .concat(let axis): self = .concat(axis: axis)
        case .flatten, .reshape, .squeeze, .unsqueeze: self = .view
        case .transpose(let perm): self = .transpose(permutation: perm)
        case .slice(let s): self = .slice(s)
        case .gather(let g): self = .gather(g)
        case .softmax(let axis, let log): self = .softmax(axis: axis, log: log)
        case .reduceMean(let axes, _): self = .reduceMean(axes: axes)
        case .constant: self = .constant(try parameter("value"))
        default: throw ConvRTError("internal error: \(node.op.displayName) is not a tensor op", context: node.label)
        }
    }

    /// The same kernel splitting its work over `threads` (the SGEMM-backed ones).
    func using(threads: Int) -> TensorLayerKernel {
        switch self {
        case .linear(var l):
            l.threads = threads
            return .linear(l)
        case .matmul: return .matmul(threads: threads)
        default: return self
        }
    }

    /// Whether output element `i` is input element `i` (so the step may run in place).
    var isView: Bool {
        if case .view = self { return true }
        return false
    }

    /// Display name of the algorithm for `convrt inspect`, where there is a choice.
    var algorithm: String? {
        switch self {
        case .linear: return "gemm (\(SGEMM.kernelName)), gemv at 1-\(LinearKernel.rowsPerGEMV) rows"
        case .matmul: return "gemm (\(SGEMM.kernelName))"
        default: return nil
        }
    }

    /// Runs on operands `x` of `shapes` into `out` of `outShape` (not empty).
    func run(_ x: [UnsafePointer<Float>], shapes: [[Int]], out: UnsafeMutablePointer<Float>, outShape: [Int]) {
        let count = outShape.reduce(1, *)
        switch self {
        case .linear(let l): l.run(x[0], rows: outShape.dropLast().reduce(1, *), out: out)
        case .matmul(let threads): TensorKernels.matmul(x[0], shapes[0], x[1], shapes[1], out: out, threads: threads)
        case .binary(let op): TensorKernels.binary(op, x[0], shapes[0], x[1], shapes[1], out: out, shape: outShape)
        case .concat(let axis):
            TensorKernels.concat(x, shapes: shapes, axis: TensorAxis.normalized(axis, rank: outShape.count), out: out)
        case .view: if UnsafePointer(out) != x[0] { out.update(from: x[0], count: count) }
        case .transpose(let perm):
            TensorKernels.transpose(x[0], shape: shapes[0], permutation: TensorAxis.normalizedPermutation(perm, rank: shapes[0].count), out: out)
        case .slice(let s): TensorKernels.slice(x[0], shape: shapes[0], SliceGeometry.walkValidated(s, shape: shapes[0]), out: out)
        case .gather(let g): TensorKernels.gather(x[0], shape: shapes[0], g, out: out)
        case .softmax(let axis, let log):
            let (outer, length, inner) = TensorAxis.split(outShape, at: TensorAxis.normalized(axis, rank: outShape.count))
            TensorKernels.softmax(x[0], outer: outer, length: length, inner: inner, log: log, out: out)
        case .reduceMean(let axes):
            TensorKernels.reduceMean(x[0], shape: shapes[0], axes: TensorAxis.normalizedReduced(axes, rank: shapes[0].count), out: out)
        case .constant(let value):
            value.data.withUnsafeBufferPointer { v in
                if let base = v.baseAddress { out.update(from: base, count: min(count, v.count)) }
            }
        }
    }
}

extension TensorAxis {
    /// `axis` counted from the front (already validated by shape inference; a 0-d tensor counts as rank 1).
    static func normalized(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + max(rank, 1) : axis }

    /// A validated permutation with negative entries normalised; empty reverses.
    static func normalizedPermutation(_ perm: [Int], rank: Int) -> [Int] {
        perm.isEmpty ? Array((0..<rank).reversed()) : perm.map { $0 < 0 ? $0 + rank : $0 }
    }

    /// ReduceMean's validated axes, normalised and sorted (empty: every dim).
    static func normalizedReduced(_ axes: [Int], rank: Int) -> [Int] {
        axes.isEmpty ? Array(0..<rank) : axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
    }
}
