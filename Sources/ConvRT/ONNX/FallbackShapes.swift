/// Output shapes of the issue-5 ops whose shape inference has not landed in `ShapeInference`
/// yet (`Op.isPendingImplementation`), so that import can already track shapes through them.
/// Validation is left to `ShapeInference`, which runs on the finished graph; sizes derived
/// from symbolic dims become display symbols. Unused (and removable) once every op has its pass.
enum FallbackShapes {
    static func infer(_ op: Op, operands: [SymbolicShape]) throws -> SymbolicShape {
        let x = operands.first ?? []
        switch op {
        case .pool(let p): return try spatial(x, p.spatialRank) { d, n in
            let extent = (p.kernelSize[d] - 1) * p.dilation[d] + 1
            let span = n + p.padBegin[d] + p.padEnd[d] - extent
            var out = (p.ceilMode ? (span + p.stride[d] - 1) / p.stride[d] : span / p.stride[d]) + 1
            if p.ceilMode, (out - 1) * p.stride[d] >= n + p.padBegin[d] { out -= 1 }
            return out
        }
        case .adaptivePool(let p): return try spatial(x, p.spatialRank) { d, n in p.outputSize[d] ?? n }
        case .resize(let r):
            return try spatial(x, x.count - 2) { d, n in
                if let sizes = r.sizes { return sizes[d] }
                return Int((Double(n) * (r.scales?[d] ?? 1)).rounded(.down))
            }
        case .pad(let p):
            let first = x.count - p.begin.count
            guard first >= 0 else { throw ConvRTError("pads cover \(p.begin.count) dims of a rank-\(x.count) input") }
            return x.enumerated().map { i, dim in
                guard i >= first else { return dim }
                return map(dim) { $0 + p.begin[i - first] + p.end[i - first] }
            }
        case .linear(let l): return Array(x.dropLast()) + [.known(l.outFeatures)]
        case .matmul: return try matmul(x, operands[1])
        case .binary: return try ElementwiseShapeFunction.broadcast(x, operands[1])
        case .concat(let axis):
            let a = try TensorShapeRules.axis(axis, rank: x.count)
            var out = x
            let sizes = operands.map { $0.count > a ? $0[a] : .known(0) }
            out[a] = sizes.allSatisfy({ $0.value != nil }) ? .known(sizes.reduce(0) { $0 + ($1.value ?? 0) })
                : .symbol(sizes.map(\.description).joined(separator: "+"))
            return out
        case .flatten(let start, let end):
            let s = try TensorShapeRules.axis(start, rank: x.count), e = try TensorShapeRules.axis(end, rank: x.count)
            guard s <= e else { throw ConvRTError("flatten() has invalid args: start_dim cannot come after end_dim") }
            return Array(x[..<s]) + [product(Array(x[s...e]))] + Array(x[(e + 1)...])
        case .reshape(let r): return try reshape(x, r)
        case .transpose(let perm):
            let p = perm.isEmpty ? Array((0..<x.count).reversed()) : perm
            return try p.map { i in
                guard i >= 0, i < x.count else { throw ConvRTError("perm \(perm.bracketed) is invalid for rank \(x.count)") }
                return x[i]
            }
        case .squeeze(let axes):
            if axes.isEmpty { return x.filter { $0 != .known(1) } }
            let drop = Set(try axes.map { try TensorShapeRules.axis($0, rank: x.count) })
            return x.indices.filter { !drop.contains($0) }.map { x[$0] }
        case .unsqueeze(let axes):
            let rank = x.count + axes.count
            let inserted = Set(try axes.map { try TensorShapeRules.axis($0, rank: rank) })
            var rest = x.makeIterator()
            return (0..<rank).map { inserted.contains($0) ? .known(1) : (rest.next() ?? .known(1)) }
        case .slice(let s):
            var out = x
            for i in s.axes.indices {
                let a = try TensorShapeRules.axis(s.axes[i], rank: x.count)
                out[a] = map(x[a]) { TensorShapeRules.sliceIndices(size: $0, start: s.starts[i], end: s.ends[i], step: s.steps[i]).count }
            }
            return out
        case .gather(let g):
            let a = try TensorShapeRules.axis(g.axis, rank: x.count)
            return Array(x[..<a]) + g.indicesShape.dims + Array(x[(a + 1)...])
        case .softmax: return x
        case .reduceMean(let axes, let keep):
            let reduced = Set(try axes.map { try TensorShapeRules.axis($0, rank: x.count) })
            return x.indices.compactMap { reduced.contains($0) ? (keep ? .known(1) : nil) : x[$0] }
        case .constant(let shape): return shape.dims
        default: throw ConvRTError("internal error: no fallback shape rule for \(op.displayName)")
        }
    }

    /// Applies `f(spatialIndex, size)` to the last `rank` dims.
    private static func spatial(_ x: SymbolicShape, _ rank: Int, _ f: (Int, Int) -> Int) throws -> SymbolicShape {
        guard rank >= 0, x.count >= rank + 2 else { throw ConvRTError("input \(x.rendered) has too few dims") }
        let first = x.count - rank
        return x.enumerated().map { i, dim in i < first ? dim : map(dim) { f(i - first, $0) } }
    }

    private static func map(_ d: Dim, _ f: (Int) -> Int) -> Dim {
        if let v = d.value { return .known(f(v)) }
        return .symbol("f(\(d))")
    }

    private static func product(_ dims: [Dim]) -> Dim {
        if let c = dims.concrete { return .known(c.reduce(1, *)) }
        return .symbol(dims.map(\.description).joined(separator: "*"))
    }

    private static func matmul(_ a: SymbolicShape, _ b: SymbolicShape) throws -> SymbolicShape {
        guard !a.isEmpty, !b.isEmpty else { throw ConvRTError("MatMul operands must have at least one dim") }
        let pa = a.count == 1 ? [.known(1)] + a : a
        let pb = b.count == 1 ? b + [.known(1)] : b
        let batch = try ElementwiseShapeFunction.broadcast(Array(pa.dropLast(2)), Array(pb.dropLast(2)))
        var out = batch + [pa[pa.count - 2], pb[pb.count - 1]]
        if b.count == 1 { out.removeLast() }
        if a.count == 1 { out.remove(at: out.count - (b.count == 1 ? 1 : 2)) }
        return out
    }

    private static func reshape(_ x: SymbolicShape, _ r: ReshapeAttributes) throws -> SymbolicShape {
        var out: [Dim] = r.shape.enumerated().map { i, v in
            if v == 0 && !r.allowZero && i < x.count { return x[i] }
            return .known(v)
        }
        guard let inferred = out.firstIndex(of: .known(-1)) else { return out }
        let others = out.enumerated().filter { $0.offset != inferred }.map(\.element)
        if let total = x.concrete?.reduce(1, *), let known = others.concrete?.reduce(1, *), known > 0 {
            out[inferred] = .known(total / known)
        } else {
            out[inferred] = .symbol("(\(product(x)))/(\(product(others)))")
        }
        return out
    }
}
