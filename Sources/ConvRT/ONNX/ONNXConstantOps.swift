/// Evaluation of the data-movement and arithmetic ops on constants.
enum ConstantOps {
    /// The elements at `indices` (flat), as a tensor of `shape`.
    static func take(_ c: ONNXConstant, _ indices: [Int], shape: [Int]) -> ONNXConstant {
        var out = c
        out.shape = shape
        switch c.values {
        case .float(let v): out.values = .float(indices.map { v[$0] })
        case .int(let v): out.values = .int(indices.map { v[$0] })
        }
        return out
    }

    static func transpose(_ c: ONNXConstant, permutation: [Int]) throws -> ONNXConstant {
        let rank = c.shape.count
        guard permutation.count == rank, Set(permutation) == Set(0..<rank) else {
            throw ConvRTError("perm \(permutation.bracketed) is not a permutation of \(rank) dims")
        }
        let outShape = permutation.map { c.shape[$0] }
        let inStrides = TensorShapeRules.strides(c.shape)
        let outStrides = TensorShapeRules.strides(outShape)
        let indices = (0..<c.count).map { flat in
            outShape.indices.reduce(0) { $0 + (flat / outStrides[$1]) % outShape[$1] * inStrides[permutation[$1]] }
        }
        return take(c, indices, shape: outShape)
    }

    static func gather(_ c: ONNXConstant, indices: ONNXConstant, axis: Int) throws -> ONNXConstant {
        let a = try TensorShapeRules.axis(axis, rank: c.shape.count)
        let n = c.shape[a]
        let picks = try indices.ints(for: "indices").map { i -> Int in
            guard i >= -n, i < n else { throw ConvRTError("index \(i) is out of range for a dim of size \(n)") }
            return i < 0 ? i + n : i
        }
        let outer = c.shape[..<a].reduce(1, *), inner = c.shape[(a + 1)...].reduce(1, *)
        var flat: [Int] = []
        flat.reserveCapacity(outer * picks.count * inner)
        for o in 0..<outer {
            for p in picks { flat += (0..<inner).map { (o * n + p) * inner + $0 } }
        }
        return take(c, flat, shape: Array(c.shape[..<a]) + indices.shape + Array(c.shape[(a + 1)...]))
    }

    static func concat(_ parts: [ONNXConstant], axis: Int) throws -> ONNXConstant {
        guard let first = parts.first else { throw ConvRTError("Concat needs at least one input") }
        let a = try TensorShapeRules.axis(axis, rank: first.shape.count)
        for p in parts where p.shape.count != first.shape.count || p.isFloat != first.isFloat
            || p.shape.indices.contains(where: { $0 != a && p.shape[$0] != first.shape[$0] }) {
            throw ConvRTError("cannot concatenate \(first.shape.bracketed) and \(p.shape.bracketed) along axis \(a)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        var floats: [Float] = [], ints: [Dim] = []
        for o in 0..<outer {
            for p in parts {
                let block = p.shape[a...].reduce(1, *)
                switch p.values {
                case .float(let v): floats += v[(o * block)..<((o + 1) * block)]
                case .int(let v): ints += v[(o * block)..<((o + 1) * block)]
                }
            }
        }
        var shape = first.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        var out = first
        out.shape = shape
        out.values = first.isFloat ? .float(floats) : .int(ints)
        return out
    }

    static func slice(_ c: ONNXConstant, _ s: SliceAttributes) throws -> ONNXConstant {
        var kept = c.shape.map { Array(0..<$0) }
        for i in s.axes.indices {
            let a = try TensorShapeRules.axis(s.axes[i], rank: c.shape.count)
            kept[a] = TensorShapeRules.sliceIndices(size: c.shape[a], start: s.starts[i], end: s.ends[i], step: s.steps[i])
        }
        let strides = TensorShapeRules.strides(c.shape)
        var flat = [0]
        for d in kept.indices {
            flat = flat.flatMap { base in kept[d].map { base + $0 * strides[d] } }
        }
        return take(c, flat, shape: kept.map(\.count))
    }

    static func expand(_ c: ONNXConstant, to shape: [Int]) throws -> ONNXConstant {
        let out = try TensorShapeRules.broadcast(c.shape, shape)
        return take(c, TensorShapeRules.broadcastIndices(from: c.shape, to: out), shape: out)
    }

    /// `Add`/`Sub`/`Mul`/`Div`/`Equal` with broadcasting. Integer division truncates (as ONNX
    /// Runtime does); a symbolic operand cannot take part in arithmetic.
    static func arithmetic(_ op: String, _ a: ONNXConstant, _ b: ONNXConstant) throws -> ONNXConstant {
        let shape = try TensorShapeRules.broadcast(a.shape, b.shape)
        let ia = TensorShapeRules.broadcastIndices(from: a.shape, to: shape)
        let ib = TensorShapeRules.broadcastIndices(from: b.shape, to: shape)
        if a.isFloat || b.isFloat {
            let x = try a.numbers(for: "operand"), y = try b.numbers(for: "operand")
            let values = zip(ia, ib).map { floatOp(op, Float(x[$0]), Float(y[$1])) }
            if op == "Equal" { return ONNXConstant(name: a.name, shape: shape, values: .int(values.map { .known(Int($0)) }), elementType: .bool) }
            return ONNXConstant(name: a.name, shape: shape, floats: values)
        }
        let x = try a.ints(for: "operand"), y = try b.ints(for: "operand")
        let values = try zip(ia, ib).map { try intOp(op, x[$0], y[$1]) }
        return ONNXConstant(name: a.name, shape: shape, values: .int(values.map(Dim.known)),
                            elementType: op == "Equal" ? .bool : a.elementType)
    }

    private static func floatOp(_ op: String, _ x: Float, _ y: Float) -> Float {
        switch op {
        case "Add": return x + y
        case "Sub": return x - y
        case "Mul": return x * y
        case "Div": return x / y
        default: return x == y ? 1 : 0
        }
    }

    private static func intOp(_ op: String, _ x: Int, _ y: Int) throws -> Int {
        let (value, overflow): (Int, Bool)
        switch op {
        case "Add": (value, overflow) = x.addingReportingOverflow(y)
        case "Sub": (value, overflow) = x.subtractingReportingOverflow(y)
        case "Mul": (value, overflow) = x.multipliedReportingOverflow(by: y)
        case "Div":
            guard y != 0 else { throw ConvRTError("integer division by zero") }
            (value, overflow) = x.dividedReportingOverflow(by: y)
        default: (value, overflow) = (x == y ? 1 : 0, false)
        }
        guard !overflow else { throw ConvRTError("integer overflow in \(op)") }
        return value
    }

    /// `Where(condition, a, b)`.
    static func select(_ cond: ONNXConstant, _ a: ONNXConstant, _ b: ONNXConstant) throws -> ONNXConstant {
        let shape = try TensorShapeRules.broadcast(cond.shape, try TensorShapeRules.broadcast(a.shape, b.shape))
        let c = try cond.numbers(for: "condition")
        let ic = TensorShapeRules.broadcastIndices(from: cond.shape, to: shape)
        let ea = try expand(a, to: shape), eb = try expand(b, to: shape)
        switch (ea.values, eb.values) {
        case (.float(let x), .float(let y)):
            return ONNXConstant(name: a.name, shape: shape, floats: (0..<x.count).map { c[ic[$0]] != 0 ? x[$0] : y[$0] })
        case (.int(let x), .int(let y)):
            return ONNXConstant(name: a.name, shape: shape, values: .int((0..<x.count).map { c[ic[$0]] != 0 ? x[$0] : y[$0] }),
                                elementType: a.elementType)
        default:
            throw ConvRTError("Where's operands have different types")
        }
    }

    static func range(_ start: ONNXConstant, _ limit: ONNXConstant, _ delta: ONNXConstant) throws -> ONNXConstant {
        let s = try start.scalar(for: "start"), l = try limit.scalar(for: "limit"), d = try delta.scalar(for: "delta")
        guard d != 0 else { throw ConvRTError("Range delta cannot be 0") }
        let steps = ((l - s) / d).rounded(.up)
        guard steps.isFinite, steps <= Double(TensorShapeRules.maxFolded) else { throw ConvRTError("Range has too many elements") }
        let count = max(Int(steps), 0)
        let values = (0..<count).map { s + Double($0) * d }
        return start.isFloat
            ? ONNXConstant(name: start.name, shape: [count], floats: values.map { Float($0) })
            : ONNXConstant(name: start.name, shape: [count], values: .int(values.map { .known(Int($0)) }), elementType: start.elementType)
    }

    /// `Cast` of a constant. Float to integer truncates toward zero; symbols survive integer casts.
    static func cast(_ c: ONNXConstant, to raw: Int) throws -> ONNXConstant {
        guard let type = Onnx_TensorProto.DataType(rawValue: raw) else { throw ConvRTError("Cast to unknown type \(raw)") }
        var out = c
        out.elementType = type
        switch (c.values, type) {
        case (.float, .float), (.float, .double): out.elementType = .float
        case (.int, .float), (.int, .double):
            out.values = .float(try c.ints(for: "input").map(Float.init))
            out.elementType = .float
        case (.float(let v), _) where type.isInteger:
            guard v.allSatisfy({ $0.isFinite && abs($0) < 9.0e18 }) else { throw ConvRTError("Cast of a non-finite value to \(type.onnxName)") }
            out.values = .int(v.map { type == .bool ? .known($0 != 0 ? 1 : 0) : .known(Int($0)) })
        case (.int(let v), .bool):
            out.values = .int(try v.map { d in
                guard let x = d.value else { throw ConvRTError("Cast of the symbolic dim '\(d)' to BOOL") }
                return .known(x != 0 ? 1 : 0)
            })
        case (.int, _) where type.isInteger: break
        default: throw ConvRTError("Cast to \(type.onnxName) is not supported")
        }
        return out
    }
}
