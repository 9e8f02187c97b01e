/// Evaluates nodes whose inputs are known at import: `Constant`, `Shape` of a value with a
/// known rank, and the Gather/Unsqueeze/Concat/Cast/arithmetic chains exporters build from them
/// (PyTorch exports `x.view(x.size(0), -1)` and padding amounts this way).
extension ImportSession {
    /// The folded value, or `nil` when the node must run.
    mutating func fold(_ node: ONNXNode) throws -> ONNXConstant? {
        let out = node.outputs.first ?? node.name
        switch node.opType {
        case "Constant": return try constantNode(node, name: out)
        case "Shape": return try shape(node, name: out)
        case "Size": return try size(node, name: out)
        default: break
        }
        let present = node.inputs.indices.filter { node.input($0) != nil }
        guard !present.isEmpty, present.allSatisfy({ isConstant(node, $0) }) else { return nil }
        let inputs = try node.inputs.indices.map { try constant(node, $0, "input \($0)") }
        guard let first = inputs[0] else { return nil }
        let folded = try evaluate(node, first, inputs)
        return folded.map { var c = $0; c.name = out; return c }
    }

    private func evaluate(_ node: ONNXNode, _ x: ONNXConstant, _ inputs: [ONNXConstant?]) throws -> ONNXConstant? {
        func arg(_ i: Int) -> ONNXConstant? { i < inputs.count ? inputs[i] : nil }
        switch node.opType {
        case "Identity", "Dropout": return x
        case "Cast": return try ConstantOps.cast(x, to: try node.int("to") ?? 1)
        case "ConstantOfShape": return try constantOfShape(node, shape: x)
        case "Neg", "Reciprocal":
            let v = node.opType == "Neg" ? 0 : 1
            let c = x.isFloat ? ONNXConstant(name: "", shape: [], floats: [Float(v)]) : ONNXConstant(name: "", shape: [], ints: [.known(v)])
            return try ConstantOps.arithmetic(node.opType == "Neg" ? "Sub" : "Div", c, x)
        case "Add", "Sub", "Mul", "Div", "Equal":
            guard let y = arg(1) else { return nil }
            return try ConstantOps.arithmetic(node.opType, x, y)
        case "Where":
            guard let a = arg(1), let b = arg(2) else { return nil }
            return try ConstantOps.select(x, a, b)
        case "Expand":
            guard let s = arg(1) else { return nil }
            return try ConstantOps.expand(x, to: try s.ints(for: "shape"))
        case "Range":
            guard let limit = arg(1), let delta = arg(2) else { return nil }
            return try ConstantOps.range(x, limit, delta)
        case "Gather":
            guard let indices = arg(1) else { return nil }
            return try ConstantOps.gather(x, indices: indices, axis: try node.int("axis", default: 0))
        case "Concat":
            guard let axis = try node.int("axis") else { throw ConvRTError("attribute 'axis' is missing") }
            return try ConstantOps.concat(inputs.compactMap { $0 }, axis: axis)
        case "Unsqueeze", "Squeeze":
            let axes = try squeezeAxes(node, arg(1))
            return node.opType == "Squeeze"
                ? try x.reshaped(TensorShapeRules.squeeze(x.shape, axes: axes))
                : try x.reshaped(TensorShapeRules.unsqueeze(x.shape, axes: axes))
        case "Reshape":
            guard let target = arg(1) else { return nil }
            let shape = try TensorShapeRules.reshape(x.shape, target: try target.ints(for: "shape"),
                                                     allowZero: try node.int("allowzero", default: 0) != 0)
            return x.reshaped(shape)
        case "Flatten":
            let axis = try TensorShapeRules.axis(try node.int("axis", default: 1), rank: x.shape.count, inclusiveEnd: true)
            return x.reshaped([x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
        case "Transpose":
            return try ConstantOps.transpose(x, permutation: try node.ints("perm") ?? Array((0..<x.shape.count).reversed()))
        case "Slice":
            return try ConstantOps.slice(x, try sliceParameters(node, rank: x.shape.count))
        default:
            return nil
        }
    }

    /// `Constant`: exactly one of `value`, `value_float(s)`, `value_int(s)`.
    private func constantNode(_ node: ONNXNode, name: String) throws -> ONNXConstant {
        if let t = try node.tensor("value") { return try ONNXConstant.decode(t, name: name) }
        if let f = try node.float("value_float") { return ONNXConstant(name: name, shape: [], floats: [f]) }
        if let f = try node.floats("value_floats") { return ONNXConstant(name: name, shape: [f.count], floats: f) }
        if let i = node.attributes["value_int"] { return ONNXConstant(name: name, shape: [], ints: [.known(Int(i.i))]) }
        if let a = node.attributes["value_ints"] {
            return ONNXConstant(name: name, shape: [a.ints.count], ints: a.ints.map { .known(Int($0)) })
        }
        let kind = node.attributes.keys.sorted().first.map { "'\($0)'" } ?? "no value"
        throw ConvRTError("a Constant with \(kind) is not supported (value, value_float(s), value_int(s) only)")
    }

    /// `Shape` (with opset-15 `start`/`end`) of any value whose rank is known; dims may be symbols.
    private func shape(_ node: ONNXNode, name: String) throws -> ONNXConstant {
        guard let input = node.input(0) else { throw ConvRTError("input 0 is missing") }
        let dims: [Dim]
        switch try value(input) {
        case .runtime(_, let shape): dims = shape
        case .constant(let c): dims = c.shape.dims
        case .unavailable(let why): throw ConvRTError(why)
        }
        let rank = dims.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let start = clamp(try node.int("start", default: 0))
        let end = clamp(try node.int("end", default: rank))
        let picked = start < end ? Array(dims[start..<end]) : []
        return ONNXConstant(name: name, shape: [picked.count], ints: picked)
    }

    private func size(_ node: ONNXNode, name: String) throws -> ONNXConstant {
        let s = try shape(ONNXNode(name: node.name, opType: "Shape", inputs: node.inputs, outputs: node.outputs), name: name)
        let dims = try s.ints(for: "the input's shape")
        return ONNXConstant(name: name, shape: [], ints: [.known(dims.reduce(1, *))])
    }

    /// `ConstantOfShape`: `value` (one element, default float 0) repeated over a known shape.
    private func constantOfShape(_ node: ONNXNode, shape: ONNXConstant) throws -> ONNXConstant {
        let dims = try shape.ints(for: "shape")
        try TensorShapeRules.checkFolded(dims)
        var fill = ONNXConstant(name: "", shape: [1], floats: [0])
        if let t = try node.tensor("value") { fill = try ONNXConstant.decode(t, name: "value") }
        guard fill.count == 1 else { throw ConvRTError("attribute 'value' must hold one element") }
        return try ConstantOps.expand(fill.reshaped([]), to: dims)
    }

    /// Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13.
    func squeezeAxes(_ node: ONNXNode, _ input: ONNXConstant?) throws -> [Int] {
        if let input { return try input.ints(for: "axes") }
        return try node.ints("axes") ?? []
    }

    /// Slice's starts/ends/axes/steps (inputs since opset 10), axes defaulting to `0..<count`.
    func sliceParameters(_ node: ONNXNode, rank: Int) throws -> SliceAttributes {
        let starts = try requiredConstant(node, 1, "starts").ints(for: "starts")
        let ends = try requiredConstant(node, 2, "ends").ints(for: "ends")
        let axes = try constant(node, 3, "axes")?.ints(for: "axes") ?? Array(0..<starts.count)
        let steps = try constant(node, 4, "steps")?.ints(for: "steps") ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw ConvRTError("starts, ends, axes and steps must have the same length")
        }
        guard !steps.contains(0) else { throw ConvRTError("slice steps cannot be 0") }
        return SliceAttributes(starts: starts, ends: ends, axes: axes, steps: steps)
    }
}
