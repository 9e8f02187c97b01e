/// Validation and shape functions of the dense and tensor-manipulation ops: Linear, MatMul,
/// Sub/Mul/Div, Concat, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Slice, Gather,
/// Softmax/LogSoftmax, ReduceMean and Constant.
///
/// Where the DSL exposes an op (Linear, Flatten, Concat, Softmax, ...) the checks and messages are
/// PyTorch's; the ONNX-only ops (Reshape, Transpose, Squeeze, Unsqueeze, Slice, Gather, ReduceMean)
/// follow the ONNX operator specs. Symbolic dims that flow through unchanged stay symbolic; sizes
/// computed from them become display expressions, re-checked once the inputs are bound.
enum TensorShapeFunctions {
    /// The output shape of `op`, with a Lazy Linear's `in_features` resolved.
    static func infer(_ op: Op, operands: [SymbolicShape]) throws -> (Op, SymbolicShape) {
        switch op {
        case .linear(let a):
            let (resolved, shape) = try LinearShapeFunction.infer(a, input: operands[0])
            return (.linear(resolved), shape)
        case .matmul: return (op, try MatMulShapeFunction.infer(operands[0], operands[1]))
        case .binary: return (op, try ElementwiseShapeFunction.broadcast(operands[0], operands[1]))
        case .concat(let axis): return (op, try concat(axis: axis, operands))
        case .flatten(let start, let end): return (op, try flatten(operands[0], start: start, end: end))
        case .reshape(let r): return (op, try ReshapeShapeFunction.infer(r, input: operands[0]))
        case .transpose(let perm): return (op, try transpose(operands[0], permutation: perm))
        case .squeeze(let axes): return (op, try squeeze(operands[0], axes: axes))
        case .unsqueeze(let axes): return (op, try unsqueeze(operands[0], axes: axes))
        case .slice(let s): return (op, try SliceGeometry.infer(s, input: operands[0]))
        case .gather(let g): return (op, try GatherGeometry.infer(g, input: operands[0]))
        case .softmax(let axis, _):
            _ = try TensorAxis.wrap(axis, rank: operands[0].count)
            return (op, operands[0])
        case .reduceMean(let axes, let keep): return (op, try reduceMean(operands[0], axes: axes, keepDims: keep))
        case .constant(let shape):
            if let bad = shape.first(where: { $0 < 0 }) {
                throw ConvRTError("shape \(shape.bracketed) has a negative dimension \(bad)")
            }
            return (op, shape.dims)
        default:
            throw ConvRTError("internal error: \(op.displayName) is not a tensor op")
        }
    }

    /// `torch.cat`: same rank, sizes equal except along `axis`, which adds up.
    static func concat(axis: Int, _ operands: [SymbolicShape]) throws -> SymbolicShape {
        guard let first = operands.first else { throw ConvRTError("torch.cat(): expected a non-empty list of Tensors") }
        if let i = operands.firstIndex(where: \.isEmpty) {
            throw ConvRTError("zero-dimensional tensor (at position \(i)) cannot be concatenated")
        }
        let a = try TensorAxis.wrap(axis, rank: first.count)
        var out = first
        for (i, shape) in operands.enumerated().dropFirst() {
            guard shape.count == first.count else {
                throw ConvRTError("Tensors must have same number of dimensions: got \(first.count) and \(shape.count)")
            }
            for d in shape.indices where d != a {
                if case .known(let x) = out[d], case .known(let y) = shape[d], x != y {
                    throw ConvRTError("Sizes of tensors must match except in dimension \(a). Expected size \(x) but got size \(y) for tensor number \(i) in the list.")
                }
                if out[d].value == nil, shape[d].value != nil { out[d] = shape[d] }  // the known size wins
            }
        }
        out[a] = symbolicSum(operands.map { $0[a] })
        return out
    }

    /// `torch.flatten(start_dim, end_dim)`; a 0-d input becomes `[1]`.
    static func flatten(_ input: SymbolicShape, start: Int, end: Int) throws -> SymbolicShape {
        let s = try TensorAxis.wrap(start, rank: input.count)
        let e = try TensorAxis.wrap(end, rank: input.count)
        guard s <= e else { throw ConvRTError("flatten() has invalid args: start_dim cannot come after end_dim") }
        if input.isEmpty { return [.known(1)] }
        let merged = try SymbolicProduct(Array(input[s...e])).dim
        return Array(input[..<s]) + [merged] + Array(input[(e + 1)...])
    }

    /// Output dim `i` is input dim `permutation[i]`; an empty permutation reverses the dims (ONNX's default).
    static func transpose(_ input: SymbolicShape, permutation: [Int]) throws -> SymbolicShape {
        try TensorAxis.permutation(permutation, rank: input.count).map { input[$0] }
    }

    /// ONNX Squeeze: removes the listed dims, which must have size 1; no axes removes every size-1
    /// dim. A symbolic dim is assumed to be 1 when listed and not 1 otherwise (checked once bound).
    static func squeeze(_ input: SymbolicShape, axes: [Int]) throws -> SymbolicShape {
        if axes.isEmpty { return input.filter { $0 != .known(1) } }
        let wrapped = try TensorAxis.wrapAll(axes, rank: input.count, what: "axes")
        for a in wrapped {
            if case .known(let size) = input[a], size != 1 {
                throw ConvRTError("cannot squeeze dim \(a) of size \(size) in \(input.rendered): only size-1 dims can be removed")
            }
        }
        return input.indices.filter { !wrapped.contains($0) }.map { input[$0] }
    }

    /// ONNX Unsqueeze: inserts size-1 dims at the listed positions of the output.
    static func unsqueeze(_ input: SymbolicShape, axes: [Int]) throws -> SymbolicShape {
        let rank = input.count + axes.count
        let wrapped = Set(try TensorAxis.wrapAll(axes, rank: rank, what: "axes"))
        var rest = input.makeIterator()
        return (0..<rank).map { wrapped.contains($0) ? .known(1) : rest.next() ?? .known(1) }
    }

    /// ONNX ReduceMean (no axes: every dim).
    static func reduceMean(_ input: SymbolicShape, axes: [Int], keepDims: Bool) throws -> SymbolicShape {
        let reduced = Set(try TensorAxis.reduced(axes, rank: input.count))
        return input.indices.compactMap { d in
            guard reduced.contains(d) else { return input[d] }
            return keepDims ? .known(1) : nil
        }
    }
}

/// Axis arithmetic shared by the tensor ops' shape functions and kernels.
enum TensorAxis {
    /// PyTorch's `maybe_wrap_dim`: `dim` in `[-rank, rank-1]`, a 0-d tensor counting as rank 1.
    static func wrap(_ dim: Int, rank: Int) throws -> Int {
        let r = max(rank, 1)
        guard (-r..<r).contains(dim) else {
            throw ConvRTError("Dimension out of range (expected to be in range of [\(-r), \(r - 1)], but got \(dim))")
        }
        return dim < 0 ? dim + r : dim
    }

    /// ONNX axes in `[-rank, rank-1]`, normalised; repeats are an error.
    static func wrapAll(_ axes: [Int], rank: Int, what: String) throws -> [Int] {
        var seen = Set<Int>()
        return try axes.map { axis in
            guard (-rank..<rank).contains(axis) else {
                let range = rank == 0 ? "none: the input has no dimensions" : "[\(-rank), \(rank - 1)]"
                throw ConvRTError("\(what) value \(axis) is out of range (expected to be in range of \(range))")
            }
            let a = axis < 0 ? axis + rank : axis
            guard seen.insert(a).inserted else { throw ConvRTError("\(what) \(axes.bracketed) repeat dim \(a)") }
            return a
        }
    }

    /// The reduced dims of ReduceMean: `axes` normalised, or every dim when empty.
    static func reduced(_ axes: [Int], rank: Int) throws -> [Int] {
        axes.isEmpty ? Array(0..<rank) : try wrapAll(axes, rank: rank, what: "axes").sorted()
    }

    /// A full permutation of `0..<rank` (empty: reversed), entries normalised.
    static func permutation(_ perm: [Int], rank: Int) throws -> [Int] {
        if perm.isEmpty { return Array((0..<rank).reversed()) }
        guard perm.count == rank else {
            throw ConvRTError("permutation \(perm.bracketed) has \(perm.count) entries, but the input has \(rank) dimensions")
        }
        return try wrapAll(perm, rank: rank, what: "permutation")
    }

    /// Row-major strides of a concrete shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for d in shape.indices.reversed() {
            strides[d] = running
            running *= shape[d]
        }
        return strides
    }

    /// `(outer, length, inner)` around `axis`: the view of a shape that one-axis ops (Concat,
    /// Softmax, Gather) loop over.
    static func split(_ shape: [Int], at axis: Int) -> (outer: Int, length: Int, inner: Int) {
        guard shape.indices.contains(axis) else { return (1, 1, shape.reduce(1, *)) }
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
