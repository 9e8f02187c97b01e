import Foundation

/// Raw-buffer kernels of the planned tensor ops. Data movement runs as block copies along the
/// longest contiguous run; strided walks keep their offsets incrementally (no per-element
/// index arithmetic).
enum TensorKernels {
    /// Calls `body(offsetA, offsetB)` for every index of `shape` (row-major), where each offset is
    /// the index dotted with that operand's strides. Offsets are updated incrementally.
    static func forEachIndex(_ shape: [Int], _ stridesA: [Int], _ stridesB: [Int], _ body: (Int, Int) -> Void) {
        guard !shape.contains(0) else { return }
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var (a, b) = (0, 0)
        while true {
            body(a, b)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                a += stridesA[d]
                b += stridesB[d]
                if index[d] < shape[d] { break }
                a -= stridesA[d] * shape[d]
                b -= stridesB[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// Merges adjacent dims that every operand walks contiguously (or broadcasts together), so the
    /// innermost loop is as long as possible: `[N, C, H, W] * [1, C, 1, 1]` becomes `[N, C, H*W]`.
    static func coalesce(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        guard var outShape = shape.first.map({ [$0] }) else { return (shape, strides) }
        var outStrides = strides.map { [$0[0]] }
        for d in shape.indices.dropFirst() {
            let last = outShape.count - 1
            let mergeable = strides.indices.allSatisfy { s in outStrides[s][last] == strides[s][d] * shape[d] }
            if mergeable || outShape[last] == 1 {
                outShape[last] *= shape[d]
                for s in strides.indices { outStrides[s][last] = strides[s][d] }
            } else if shape[d] != 1 {
                outShape.append(shape[d])
                for s in strides.indices { outStrides[s].append(strides[s][d]) }
            }
        }
        return (outShape, outStrides)
    }

    // MARK: Elementwise

    /// `a op b` with broadcasting into `out` of `shape`.
    static func binary(_ op: BinaryOperator, _ a: UnsafePointer<Float>, _ shapeA: [Int], _ b: UnsafePointer<Float>,
                       _ shapeB: [Int], out: UnsafeMutablePointer<Float>, shape: [Int]) {
        switch op {
        case .sub: broadcast(a, shapeA, b, shapeB, out: out, shape: shape) { $0 - $1 }
        case .mul: broadcast(a, shapeA, b, shapeB, out: out, shape: shape) { $0 * $1 }
        case .div: broadcast(a, shapeA, b, shapeB, out: out, shape: shape) { $0 / $1 }
        }
    }

    /// The broadcast walk: coalesced dims, the innermost one as a plain loop with strides 0 or 1.
    /// Reads `a[i]` and `b[i]` before writing `out[i]`, so `out` may be an operand of the output's shape.
    @inline(__always)
    static func broadcast(_ a: UnsafePointer<Float>, _ shapeA: [Int], _ b: UnsafePointer<Float>, _ shapeB: [Int],
                          out: UnsafeMutablePointer<Float>, shape: [Int], _ f: (Float, Float) -> Float) {
        let count = shape.reduce(1, *)
        if shapeA == shape, shapeB == shape {
            for i in 0..<count { out[i] = f(a[i], b[i]) }
            return
        }
        let (dims, strides) = coalesce(shape, [DirectElementwise.broadcastStrides(shapeA, to: shape),
                                               DirectElementwise.broadcastStrides(shapeB, to: shape)])
        guard let n = dims.last else {
            out[0] = f(a[0], b[0])
            return
        }
        let (ia, ib) = (strides[0][dims.count - 1], strides[1][dims.count - 1])
        var o = out
        forEachIndex(Array(dims.dropLast()), Array(strides[0].dropLast()), Array(strides[1].dropLast())) { oa, ob in
            let (pa, pb) = (a + oa, b + ob)
            switch (ia, ib) {
            case (1, 1): for j in 0..<n { o[j] = f(pa[j], pb[j]) }
            case (1, _): let v = pb[0]; for j in 0..<n { o[j] = f(pa[j], v) }
            case (_, 1): let v = pa[0]; for j in 0..<n { o[j] = f(v, pb[j]) }
            default: let v = f(pa[0], pb[0]); for j in 0..<n { o[j] = v }
            }
            o += n
        }
    }

    // MARK: Data movement

    /// Concatenation along `axis`: per outer index, one block copy per operand.
    static func concat(_ x: [UnsafePointer<Float>], shapes: [[Int]], axis: Int, out: UnsafeMutablePointer<Float>) {
        let blocks = shapes.map { TensorAxis.split($0, at: axis) }
        let outer = blocks.first?.outer ?? 0
        var o = out
        for i in 0..<outer {
            for (p, block) in zip(x, blocks) {
                let n = block.length * block.inner
                o.update(from: p + i * n, count: n)
                o += n
            }
        }
    }

    /// Output dim `d` is input dim `permutation[d]`; the innermost output run is a copy when it is
    /// contiguous in the input.
    static func transpose(_ x: UnsafePointer<Float>, shape: [Int], permutation: [Int], out: UnsafeMutablePointer<Float>) {
        let strides = TensorAxis.strides(shape)
        let (dims, walk) = coalesce(permutation.map { shape[$0] }, [permutation.map { strides[$0] }])
        copyWalk(x, dims: dims, strides: walk[0], out: out)
    }

    /// The elements of `walk` (start, step and count per dim) in row-major order.
    static func slice(_ x: UnsafePointer<Float>, shape: [Int], _ walk: SliceGeometry.Walk, out: UnsafeMutablePointer<Float>) {
        let strides = TensorAxis.strides(shape)
        let base = zip(walk.start, strides).reduce(0) { $0 + $1.0 * $1.1 }
        let (dims, steps) = coalesce(walk.count, [zip(walk.step, strides).map { $0 * $1 }])
        copyWalk(x + base, dims: dims, strides: steps[0], out: out)
    }

    /// Writes `x[index . strides]` for every index of `dims` to `out`, in order.
    private static func copyWalk(_ x: UnsafePointer<Float>, dims: [Int], strides: [Int], out: UnsafeMutablePointer<Float>) {
        guard let n = dims.last, let step = strides.last else {
            out[0] = x[0]
            return
        }
        var o = out
        forEachIndex(Array(dims.dropLast()), Array(strides.dropLast()), [Int](repeating: 0, count: dims.count - 1)) { offset, _ in
            let p = x + offset
            if step == 1 {
                o.update(from: p, count: n)
            } else {
                for j in 0..<n { o[j] = p[j * step] }
            }
            o += n
        }
    }

    /// `out[o, j, :] = x[o, indices[j], :]`, one block copy per index.
    static func gather(_ x: UnsafePointer<Float>, shape: [Int], _ g: GatherAttributes, out: UnsafeMutablePointer<Float>) {
        let axis = g.axis < 0 ? g.axis + shape.count : g.axis
        let (outer, length, inner) = TensorAxis.split(shape, at: axis)
        var o = out
        for i in 0..<outer {
            for index in g.indices {
                o.update(from: x + (i * length + (index < 0 ? index + length : index)) * inner, count: inner)
                o += inner
            }
        }
    }

    // MARK: Matrix products

    /// NumPy `matmul`: one SGEMM per batch entry, A packed per distinct batch entry, B read in place.
    static func matmul(_ a: UnsafePointer<Float>, _ shapeA: [Int], _ b: UnsafePointer<Float>, _ shapeB: [Int],
                       out: UnsafeMutablePointer<Float>, threads: Int) {
        let sa = shapeA.count == 1 ? [1] + shapeA : shapeA
        let sb = shapeB.count == 1 ? shapeB + [1] : shapeB
        let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
        let batch = ElementwiseShapeFunction.broadcastConcrete(Array(sa.dropLast(2)), Array(sb.dropLast(2)))
        let stridesA = DirectElementwise.broadcastStrides(Array(sa.dropLast(2)), to: batch).map { $0 * m * k }
        let stridesB = DirectElementwise.broadcastStrides(Array(sb.dropLast(2)), to: batch).map { $0 * k * n }
        guard k > 0 else {
            out.update(repeating: 0, count: batch.reduce(1, *) * m * n)
            return
        }
        var packed: (offset: Int, matrix: PackedMatrixA)?
        var c = out
        forEachIndex(batch, stridesA, stridesB) { oa, ob in
            if packed?.offset != oa { packed = (oa, PackedMatrixA(rows: m, columns: k, data: a + oa)) }
            if let p = packed?.matrix {
                SGEMM.multiply(packedA: p, b: b + ob, ldb: n, c: c, ldc: n, m: m, n: n, k: k, threads: threads)
            }
            c += m * n
        }
    }

    // MARK: Reductions

    /// Softmax (or LogSoftmax) over the middle dim of `[outer, length, inner]`, max-shifted like
    /// PyTorch's kernels. Rows (`inner == 1`) run directly; otherwise `inner` lanes run side by side.
    static func softmax(_ x: UnsafePointer<Float>, outer: Int, length: Int, inner: Int, log: Bool,
                        out: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * inner) { lanes in
            let top = lanes.baseAddress!, sum = top + inner
            for o in 0..<outer {
                let xo = x + o * length * inner, yo = out + o * length * inner
                top.update(repeating: -.infinity, count: inner)
                sum.update(repeating: 0, count: inner)
                for j in 0..<length {
                    let row = xo + j * inner
                    for i in 0..<inner where row[i] > top[i] { top[i] = row[i] }  // a NaN makes the sum NaN
                }
                for j in 0..<length {
                    let row = xo + j * inner, dst = yo + j * inner
                    for i in 0..<inner {
                        let e = Foundation.exp(row[i] - top[i])
                        sum[i] += e
                        if !log { dst[i] = e }
                    }
                }
                for j in 0..<length {
                    let row = xo + j * inner, dst = yo + j * inner
                    if log {
                        for i in 0..<inner { dst[i] = row[i] - top[i] - Foundation.log(sum[i]) }
                    } else {
                        for i in 0..<inner { dst[i] = dst[i] / sum[i] }
                    }
                }
            }
        }
    }

    /// The mean over the sorted `axes`, accumulated in `Double`. Contiguous axes reduce as
    /// `[outer, reduced, inner]`; others go through a strided walk.
    static func reduceMean(_ x: UnsafePointer<Float>, shape: [Int], axes: [Int], out: UnsafeMutablePointer<Float>) {
        let reducedCount = axes.map { shape[$0] }.reduce(1, *)
        let outCount = keptCount(shape, axes)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(outCount, 1)) { sums in
            let acc = sums.baseAddress!
            acc.update(repeating: 0, count: outCount)
            if let first = axes.first, let last = axes.last, last - first + 1 == axes.count {
                let outer = shape[..<first].reduce(1, *), inner = shape[(last + 1)...].reduce(1, *)
                for o in 0..<outer {
                    for r in 0..<reducedCount {
                        let row = x + (o * reducedCount + r) * inner, dst = acc + o * inner
                        for i in 0..<inner { dst[i] += Double(row[i]) }
                    }
                }
            } else {
                var outStrides = [Int](repeating: 0, count: shape.count)
                var running = 1
                for d in shape.indices.reversed() where !axes.contains(d) {
                    outStrides[d] = running
                    running *= shape[d]
                }
                var i = 0
                forEachIndex(shape, outStrides, outStrides) { o, _ in
                    acc[o] += Double(x[i])
                    i += 1
                }
            }
            let n = Double(reducedCount)
            for i in 0..<outCount { out[i] = Float(acc[i] / n) }
        }
    }

    /// The number of elements of the dims not reduced.
    private static func keptCount(_ shape: [Int], _ axes: [Int]) -> Int {
        shape.indices.filter { !axes.contains($0) }.map { shape[$0] }.reduce(1, *)
    }
}

extension ElementwiseShapeFunction {
    /// `broadcast` on concrete shapes already checked by shape inference.
    static func broadcastConcrete(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        return zip(pa, pb).map { $0 == 1 ? $1 : $0 }
    }
}
