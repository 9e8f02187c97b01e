import Foundation

/// Reference kernels of the dense and tensor-manipulation ops: multi-index loops written for
/// clarity, sums and products accumulated in `Double` and rounded once.
extension ReferenceKernels {
    /// Runs one tensor op (shapes already validated by shape inference on the concrete inputs).
    static func tensorOp(_ node: Node, _ x: [Tensor], outputShape: [Int], weights: [String: Tensor]) throws -> Tensor {
        func parameter(_ suffix: String) throws -> Tensor {
            guard let t = weights["\(node.name).\(suffix)"] else {
                throw ConvRTError("missing weight '\(node.name).\(suffix)'", context: node.label, at: node.location)
            }
            return t
        }
        switch node.op {
        case .linear(let a):
            return linear(x[0], weight: try parameter("weight"), bias: a.hasBias ? try parameter("bias") : nil)
        case .matmul: return matmul(x[0], x[1], outputShape: outputShape)
        case .binary(let op): return broadcast(x[0], x[1]) { op.apply($0, $1) }
        case .concat(let axis): return concat(x, axis: try TensorAxis.wrap(axis, rank: outputShape.count), outputShape: outputShape)
        case .flatten, .reshape, .squeeze, .unsqueeze: return x[0].reshaped(outputShape)
        case .transpose(let perm): return transpose(x[0], permutation: try TensorAxis.permutation(perm, rank: x[0].rank))
        case .slice(let s): return slice(x[0], try SliceGeometry.walk(s, shape: x[0].shape))
        case .gather(let g): return try gather(x[0], g)
        case .softmax(let axis, let log): return softmax(x[0], axis: try TensorAxis.wrap(axis, rank: x[0].rank), log: log)
        case .reduceMean(let axes, _):
            return reduceMean(x[0], axes: try TensorAxis.reduced(axes, rank: x[0].rank), outputShape: outputShape)
        case .constant: return try parameter("value").reshaped(outputShape)
        default: throw ConvRTError("internal error: \(node.op.displayName) is not a tensor op", context: node.label)
        }
    }

    /// Calls `body` with every multi-index of `shape` in row-major order.
    static func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
        guard !shape.contains(0) else { return }
        var index = [Int](repeating: 0, count: shape.count)
        while true {
            body(index)
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// The row-major offset of `index` given `strides`.
    static func offset(_ index: [Int], _ strides: [Int]) -> Int {
        zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// `y = x W^T + b` over the last dim; `weight` is `(out, in)`.
    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        let rows = x.shape.dropLast().reduce(1, *)
        var y = [Float](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF {
                var sum = 0.0
                for i in 0..<inF { sum += Double(x.data[r * inF + i]) * Double(weight.data[o * inF + i]) }
                y[r * outF + o] = Float(sum + Double(bias?.data[o] ?? 0))
            }
        }
        return Tensor(shape: x.shape.dropLast() + [outF], data: y)
    }

    /// NumPy `matmul`: 1-D operands promoted to a row (first) or column (second) vector, batch dims broadcast.
    static func matmul(_ a: Tensor, _ b: Tensor, outputShape: [Int]) -> Tensor {
        let sa = a.rank == 1 ? [1] + a.shape : a.shape
        let sb = b.rank == 1 ? b.shape + [1] : b.shape
        let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
        let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
        let rank = max(batchA.count, batchB.count)
        let padA = [Int](repeating: 1, count: rank - batchA.count) + batchA
        let padB = [Int](repeating: 1, count: rank - batchB.count) + batchB
        let batch = zip(padA, padB).map { $0 == 1 ? $1 : $0 }
        let stridesA = TensorAxis.strides(padA).enumerated().map { padA[$0.offset] == 1 ? 0 : $0.element * m * k }
        let stridesB = TensorAxis.strides(padB).enumerated().map { padB[$0.offset] == 1 ? 0 : $0.element * k * n }
        var y: [Float] = []
        y.reserveCapacity(outputShape.reduce(1, *))
        forEachIndex(batch) { index in
            let (oa, ob) = (offset(index, stridesA), offset(index, stridesB))
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a.data[oa + i * k + p]) * Double(b.data[ob + p * n + j]) }
                    y.append(Float(sum))
                }
            }
        }
        return Tensor(shape: outputShape, data: y)
    }

    /// `f(a, b)` elementwise with NumPy/PyTorch broadcasting.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let rank = max(a.rank, b.rank)
        let shapeA = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let shapeB = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(shapeA, shapeB).map { $0 == 1 ? $1 : $0 }
        let stridesA = DirectElementwise.broadcastStrides(shapeA, to: shape)
        let stridesB = DirectElementwise.broadcastStrides(shapeB, to: shape)
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        forEachIndex(shape) { index in
            data.append(f(a.data[offset(index, stridesA)], b.data[offset(index, stridesB)]))
        }
        return Tensor(shape: shape, data: data)
    }

    /// Concatenation along `axis`.
    static func concat(_ xs: [Tensor], axis: Int, outputShape: [Int]) -> Tensor {
        let strides = xs.map { TensorAxis.strides($0.shape) }
        var data: [Float] = []
        data.reserveCapacity(outputShape.reduce(1, *))
        forEachIndex(outputShape) { index in
            var i = index, input = 0
            while i[axis] >= xs[input].shape[axis] {
                i[axis] -= xs[input].shape[axis]
                input += 1
            }
            data.append(xs[input].data[offset(i, strides[input])])
        }
        return Tensor(shape: outputShape, data: data)
    }

    /// Output dim `d` is input dim `permutation[d]`.
    static func transpose(_ x: Tensor, permutation: [Int]) -> Tensor {
        let strides = TensorAxis.strides(x.shape)
        let shape = permutation.map { x.shape[$0] }
        let permuted = permutation.map { strides[$0] }
        var data: [Float] = []
        data.reserveCapacity(x.count)
        forEachIndex(shape) { index in data.append(x.data[offset(index, permuted)]) }
        return Tensor(shape: shape, data: data)
    }

    static func slice(_ x: Tensor, _ walk: SliceGeometry.Walk) -> Tensor {
        let strides = TensorAxis.strides(x.shape)
        var data: [Float] = []
        forEachIndex(walk.count) { index in
            let source = index.indices.map { walk.start[$0] + index[$0] * walk.step[$0] }
            data.append(x.data[offset(source, strides)])
        }
        return Tensor(shape: walk.count, data: data)
    }

    static func gather(_ x: Tensor, _ g: GatherAttributes) throws -> Tensor {
        let axis = try GatherGeometry.validate(g, rank: x.rank)
        let indices = try GatherGeometry.normalizedIndices(g, axisSize: x.shape[axis])
        let shape = Array(x.shape[..<axis]) + g.indicesShape + Array(x.shape[(axis + 1)...])
        let strides = TensorAxis.strides(x.shape)
        let indexRank = g.indicesShape.count
        let indexStrides = TensorAxis.strides(g.indicesShape)
        var data: [Float] = []
        forEachIndex(shape) { index in
            let which = offset(Array(index[axis..<(axis + indexRank)]), indexStrides)
            let source = Array(index[..<axis]) + [indices[which]] + Array(index[(axis + indexRank)...])
            data.append(x.data[offset(source, strides)])
        }
        return Tensor(shape: shape, data: data)
    }

    /// `exp(x - max) / sum(exp(x - max))`, or `x - max - log(sum(exp(x - max)))`, along `axis`.
    static func softmax(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        let (outer, length, inner) = TensorAxis.split(x.shape, at: axis)
        var y = x.data
        for o in 0..<outer {
            for i in 0..<inner {
                let at = { (j: Int) in (o * length + j) * inner + i }
                let top = (0..<length).map { Double(x.data[at($0)]) }.max() ?? 0
                let sum = (0..<length).reduce(0.0) { $0 + Foundation.exp(Double(x.data[at($1)]) - top) }
                for j in 0..<length {
                    let shifted = Double(x.data[at(j)]) - top
                    y[at(j)] = Float(log ? shifted - Foundation.log(sum) : Foundation.exp(shifted) / sum)
                }
            }
        }
        return Tensor(shape: x.shape, data: y)
    }

    /// The mean over `axes` (sorted, distinct); an empty reduction gives NaN, as in PyTorch.
    static func reduceMean(_ x: Tensor, axes: [Int], outputShape: [Int]) -> Tensor {
        let kept = x.shape.indices.filter { !axes.contains($0) }
        let keptShape = kept.map { x.shape[$0] }
        var sums = [Double](repeating: 0, count: keptShape.reduce(1, *))
        let keptStrides = TensorAxis.strides(keptShape)
        var i = 0
        forEachIndex(x.shape) { index in
            sums[offset(kept.map { index[$0] }, keptStrides)] += Double(x.data[i])
            i += 1
        }
        let count = Double(axes.map { x.shape[$0] }.reduce(1, *))
        return Tensor(shape: outputShape, data: sums.map { Float($0 / count) })
    }
}

extension BinaryOperator {
    /// The operator on one pair of floats.
    func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        }
    }
}
