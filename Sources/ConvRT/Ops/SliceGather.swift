/// ONNX Slice with constant `starts`/`ends`/`axes`/`steps`, shared by shape inference and kernels.
///
/// Per sliced axis of size `d`: a negative start or end counts from the end (`+ d`); then, for a
/// positive step, both are clamped to `[0, d]`, for a negative step start to `[0, d-1]` and end to
/// `[-1, d-1]`. So `ends = INT64_MAX` means "to the end" and `ends = INT64_MIN` with a negative
/// step "through index 0". The count is `ceil((end - start) / step)`, at least 0.
enum SliceGeometry {
    /// Every dim's first index, step and count on a concrete input (unsliced dims: `0, 1, d`).
    struct Walk: Equatable {
        var start: [Int]
        var step: [Int]
        var count: [Int]
    }

    static func infer(_ s: SliceAttributes, input: SymbolicShape) throws -> SymbolicShape {
        let axes = try validate(s, rank: input.count)
        var out = input
        for (i, axis) in axes.enumerated() {
            switch input[axis] {
            case .known(let d):
                out[axis] = .known(range(start: s.starts[i], end: s.ends[i], step: s.steps[i], size: d).count)
            case .symbol(let name):
                out[axis] = symbolicCount(name, start: s.starts[i], end: s.ends[i], step: s.steps[i])
            }
        }
        return out
    }

    /// The walk over a concrete input of `shape` (validated by shape inference).
    static func walk(_ s: SliceAttributes, shape: [Int]) throws -> Walk {
        _ = try validate(s, rank: shape.count)
        return walkValidated(s, shape: shape)
    }

    /// `walk` for attributes shape inference has already validated against `shape`.
    static func walkValidated(_ s: SliceAttributes, shape: [Int]) -> Walk {
        let axes = s.axes.map { $0 < 0 ? $0 + shape.count : $0 }
        var walk = Walk(start: [Int](repeating: 0, count: shape.count), step: [Int](repeating: 1, count: shape.count), count: shape)
        for (i, axis) in axes.enumerated() {
            let r = range(start: s.starts[i], end: s.ends[i], step: s.steps[i], size: shape[axis])
            walk.start[axis] = r.start
            walk.step[axis] = s.steps[i]
            walk.count[axis] = r.count
        }
        return walk
    }

    /// Equal list lengths, non-zero steps, axes in range and distinct; returns the axes normalised.
    private static func validate(_ s: SliceAttributes, rank: Int) throws -> [Int] {
        guard s.starts.count == s.axes.count, s.ends.count == s.axes.count, s.steps.count == s.axes.count else {
            throw ConvRTError("starts, ends, axes and steps must have the same length, but have \(s.starts.count), \(s.ends.count), \(s.axes.count) and \(s.steps.count)")
        }
        guard !s.steps.contains(0) else { throw ConvRTError("slice step cannot be zero") }
        return try TensorAxis.wrapAll(s.axes, rank: rank, what: "axes")
    }

    /// The first index and the number of elements one axis of `size` yields (overflow-free for any
    /// 64-bit start and end; `step` is bounded by `Limits`).
    static func range(start: Int, end: Int, step: Int, size: Int) -> (start: Int, count: Int) {
        guard size > 0 else { return (0, 0) }
        var s = start < 0 ? start + size : start
        var e = end < 0 ? end + size : end
        if step > 0 {
            s = min(max(s, 0), size)
            e = min(max(e, 0), size)
            return (s, e > s ? (e - s + step - 1) / step : 0)
        }
        s = min(max(s, 0), size - 1)
        e = min(max(e, -1), size - 1)
        return (s, s > e ? (s - e - step - 1) / -step : 0)
    }

    /// A display expression for the count along a symbolic dim: `H-2`, `(H-1)/2+1`, or
    /// `len(H[1:-1:2])` for the general case.
    private static func symbolicCount(_ h: String, start: Int, end: Int, step: Int) -> Dim {
        let toEnd = end >= Limits.maxDimension
        if step > 0, start >= 0, toEnd || end < 0 {
            // ceil((H + end' - start) / step) = floor((H + end' - start - 1) / step) + 1, end' = 0 or end.
            let a = (toEnd ? 0 : end) - start - 1
            return start == 0 && toEnd && step == 1 ? .symbol(h) : .symbol(SymbolicArithmetic.slidingLength(h, numeratorOffset: a, stride: step))
        }
        func bound(_ v: Int) -> String { v >= Limits.maxDimension || v <= -Limits.maxDimension ? "" : String(v) }
        return .symbol("len(\(h)[\(bound(start)):\(bound(end))\(step == 1 ? "" : ":\(step)")])")
    }
}

/// ONNX Gather with constant indices: `out = x.take(indices, axis)`, the output shape
/// `x.shape[:axis] + indices.shape + x.shape[axis+1:]` (a scalar index removes the axis).
enum GatherGeometry {
    static func infer(_ g: GatherAttributes, input: SymbolicShape) throws -> SymbolicShape {
        let axis = try validate(g, rank: input.count)
        if let size = input[axis].value { _ = try normalizedIndices(g, axisSize: size) }
        return Array(input[..<axis]) + g.indicesShape.dims + Array(input[(axis + 1)...])
    }

    /// The axis, normalised, after checking the indices tensor's shape.
    static func validate(_ g: GatherAttributes, rank: Int) throws -> Int {
        if let bad = g.indicesShape.first(where: { $0 < 0 }) {
            throw ConvRTError("indices shape \(g.indicesShape.bracketed) has a negative dimension \(bad)")
        }
        guard Limits.product(g.indicesShape) == g.indices.count else {
            throw ConvRTError("\(g.indices.count) indices do not fill the indices shape \(g.indicesShape.bracketed)")
        }
        return try TensorAxis.wrapAll([g.axis], rank: rank, what: "axis")[0]
    }

    /// The indices with negative ones counted from the end; each must lie in `[-size, size-1]`.
    static func normalizedIndices(_ g: GatherAttributes, axisSize size: Int) throws -> [Int] {
        try g.indices.map { i in
            guard (-size..<size).contains(i) else {
                throw ConvRTError("index \(i) is out of bounds for axis \(g.axis) with size \(size)")
            }
            return i < 0 ? i + size : i
        }
    }
}
