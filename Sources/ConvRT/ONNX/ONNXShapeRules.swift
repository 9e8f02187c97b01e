/// Shape rules the importer applies itself, on concrete shapes (constants) with ONNX's semantics.
enum TensorShapeRules {
    /// `axis` in `-rank..<rank` (or `...rank` with `inclusiveEnd`) made non-negative.
    static func axis(_ axis: Int, rank: Int, inclusiveEnd: Bool = false) throws -> Int {
        let upper = inclusiveEnd ? rank : rank - 1
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a <= upper else {
            throw ConvRTError("axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    static func squeeze(_ shape: [Int], axes: [Int]) throws -> [Int] {
        if axes.isEmpty { return shape.filter { $0 != 1 } }
        let drop = Set(try axes.map { try axis($0, rank: shape.count) })
        for a in drop where shape[a] != 1 {
            throw ConvRTError("cannot squeeze axis \(a) of size \(shape[a])")
        }
        return shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
    }

    static func unsqueeze(_ shape: [Int], axes: [Int]) throws -> [Int] {
        let rank = shape.count + axes.count
        let inserted = try axes.map { try axis($0, rank: rank) }
        guard Set(inserted).count == inserted.count else { throw ConvRTError("unsqueeze axes \(axes.bracketed) repeat an axis") }
        var rest = shape.makeIterator()
        return (0..<rank).map { inserted.contains($0) ? 1 : (rest.next() ?? 1) }
    }

    /// ONNX Reshape: `0` copies the input dim (unless `allowZero`), one `-1` is inferred.
    static func reshape(_ shape: [Int], target: [Int], allowZero: Bool) throws -> [Int] {
        try checkTarget(target)
        var out = try target.enumerated().map { i, v -> Int in
            if v == 0 && !allowZero {
                guard i < shape.count else { throw ConvRTError("reshape target \(target.bracketed) copies dim \(i) of a rank-\(shape.count) input") }
                return shape[i]
            }
            guard v >= -1 else { throw ConvRTError("reshape target \(target.bracketed) has an invalid value \(v)") }
            return v
        }
        let total = shape.reduce(1, *)
        let known = out.filter { $0 != -1 }.reduce(1, *)
        switch out.filter({ $0 == -1 }).count {
        case 0: break
        case 1:
            guard known > 0, total % known == 0 else {
                throw ConvRTError("cannot reshape a tensor of shape \(shape.bracketed) to \(target.bracketed)")
            }
            out[out.firstIndex(of: -1) ?? 0] = total / known
        default:
            throw ConvRTError("reshape target \(target.bracketed) has more than one -1")
        }
        guard out.reduce(1, *) == total else {
            throw ConvRTError("cannot reshape a tensor of shape \(shape.bracketed) to \(target.bracketed)")
        }
        return out
    }

    /// Rejects reshape targets whose products could overflow.
    static func checkTarget(_ target: [Int]) throws {
        if let bad = target.first(where: { $0 < -1 || $0 > Limits.maxDimension }) {
            throw ConvRTError("reshape target \(target.bracketed) has an invalid value \(bad)")
        }
    }

    /// The indices one ONNX Slice axis keeps.
    static func sliceIndices(size n: Int, start: Int, end: Int, step: Int) -> [Int] {
        func wrap(_ v: Int) -> Int { v < 0 ? (v < -n ? -n - 1 : v + n) : v }
        var s = wrap(start), e = wrap(end)
        if step > 0 {
            s = min(max(s, 0), n)
            e = min(max(e, 0), n)
            return s < e ? Array(stride(from: s, to: e, by: step)) : []
        }
        s = min(max(s, 0), n - 1)
        e = min(max(e, -1), n - 1)
        return s > e ? Array(stride(from: s, to: e, by: step)) : []
    }

    /// NumPy broadcasting of two concrete shapes. The result may be larger than either operand
    /// only up to `maxFolded` elements.
    static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        let out = try zip(pa, pb).map { x, y in
            guard x == y || x == 1 || y == 1 else {
                throw ConvRTError("shapes \(a.bracketed) and \(b.bracketed) cannot be broadcast")
            }
            return x == 1 ? y : x
        }
        let largest = max(a.reduce(1, *), b.reduce(1, *))
        if let count = Limits.product(out), count <= largest { return out }
        try checkFolded(out)
        return out
    }

    /// The most elements a constant computed at import may have: shape computations are tiny,
    /// and a hostile `ConstantOfShape`/`Expand` must not allocate gigabytes, nor a chain of
    /// them run for seconds (2^24 through ConstantOfShape, Concat, Reshape and Slice took 14 s
    /// in the fuzzer: a finding). 2^22 still holds `zeros_like` of a 1x64x224x224 activation.
    static let maxFolded = 1 << 22

    static func checkFolded(_ shape: [Int]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = Limits.product(shape), count <= maxFolded else {
            throw ConvRTError("a constant of shape \(shape.bracketed) computed at import is too large (the limit is \(maxFolded) elements)")
        }
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for i in shape.indices.reversed().dropFirst() { s[i] = s[i + 1] * shape[i + 1] }
        return s
    }

    /// For each element of a broadcast result, the flat index into an operand of `shape`.
    static func broadcastIndices(from shape: [Int], to out: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: out.count - shape.count) + shape
        let inStrides = strides(padded)
        let count = out.reduce(1, *)
        let outStrides = strides(out)
        return (0..<count).map { flat in
            var index = 0
            for d in out.indices where padded[d] != 1 {
                index += (flat / outStrides[d]) % out[d] * inStrides[d]
            }
            return index
        }
    }
}
