/// Concat, Flatten, Reshape, Transpose, Squeeze/Unsqueeze, Slice, Gather, Softmax/LogSoftmax
/// and ReduceMean on run-time values (their constant forms are folded).
extension ImportSession {
    mutating func concat(_ node: ONNXNode) throws -> ImportedValue {
        guard let axis = try node.int("axis") else { throw ConvRTError("attribute 'axis' is missing") }
        let operands = try node.inputs.indices.filter { node.input($0) != nil }.map { try runtime(node, $0).name }
        return try emit(.concat(axis: axis), operands, for: node)
    }

    /// ONNX Flatten always gives 2-D `(prod(d[:axis]), prod(d[axis:]))`.
    mutating func flatten(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let rank = x.shape.count
        let axis = try TensorShapeRules.axis(try node.int("axis", default: 1), rank: rank, inclusiveEnd: true)
        switch axis {
        case 0: return try emit(.reshape(ReshapeAttributes(shape: [1, -1])), [x.name], for: node)
        case rank: return try emit(.reshape(ReshapeAttributes(shape: [-1, 1])), [x.name], for: node)
        case 1: return try emit(.flatten(startDim: 1, endDim: -1), [x.name], for: node)
        default:
            guard let head = try emit(.flatten(startDim: 0, endDim: axis - 1), [x.name], for: node, suffix: "/head").runtimeName else {
                throw ConvRTError("internal error: flatten has no value")
            }
            return try emit(.flatten(startDim: 1, endDim: -1), [head], for: node)
        }
    }

    /// Reshape to a constant target. A symbolic entry (from `Shape`) becomes `0` where it copies
    /// the input's dim at the same position, else the one `-1`.
    mutating func reshape(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let target = try requiredConstant(node, 1, "shape").dims(for: "shape")
        let allowZero = try node.int("allowzero", default: 0) != 0
        try TensorShapeRules.checkTarget(target.compactMap(\.value))
        var shape: [Int] = []
        for (i, d) in target.enumerated() {
            if let v = d.value {
                shape.append(v)
            } else if !allowZero, i < x.shape.count, x.shape[i] == d {
                shape.append(0)
            } else if !target.contains(.known(-1)) && !shape.contains(-1) {
                shape.append(-1)
            } else {
                throw ConvRTError("the target shape \(target.rendered) depends on the symbolic dim '\(d)' in a way convrt cannot express")
            }
        }
        return try emit(.reshape(ReshapeAttributes(shape: shape, allowZero: allowZero)), [x.name], for: node)
    }

    mutating func transpose(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let perm = try node.ints("perm") ?? Array((0..<x.shape.count).reversed())
        return try emit(.transpose(permutation: perm), [x.name], for: node)
    }

    mutating func squeezeOrUnsqueeze(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let axes = try squeezeAxes(node, try constant(node, 1, "axes"))
        if node.opType == "Unsqueeze" {
            guard !axes.isEmpty else { throw ConvRTError("Unsqueeze needs axes") }
            return try emit(.unsqueeze(axes: axes), [x.name], for: node)
        }
        return try emit(.squeeze(axes: axes), [x.name], for: node)
    }

    mutating func slice(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        return try emit(.slice(try sliceParameters(node, rank: x.shape.count)), [x.name], for: node)
    }

    mutating func gather(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let indices = try requiredConstant(node, 1, "indices")
        let attributes = GatherAttributes(axis: try node.int("axis", default: 0), indices: try indices.ints(for: "indices"),
                                          indicesShape: indices.shape)
        return try emit(.gather(attributes), [x.name], for: node)
    }

    /// Softmax/LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1):
    /// the normalisation runs over all dims from `axis` on.
    mutating func softmax(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let log = node.opType == "LogSoftmax"
        let rank = x.shape.count
        if opset >= 13 {
            return try emit(.softmax(axis: try node.int("axis", default: -1), log: log), [x.name], for: node)
        }
        let axis = try TensorShapeRules.axis(try node.int("axis", default: 1), rank: rank)
        if axis == rank - 1 {
            return try emit(.softmax(axis: axis, log: log), [x.name], for: node)
        }
        guard let tail = Array(x.shape[axis...]).concrete else {
            throw ConvRTError("\(node.opType) before opset 13 over dims \(axis)... needs their sizes, but the input is \(x.shape.rendered)")
        }
        guard let flat = try emit(.flatten(startDim: axis, endDim: -1), [x.name], for: node, suffix: "/flatten").runtimeName,
              let normalized = try emit(.softmax(axis: axis, log: log), [flat], for: node, suffix: "/\(node.opType)").runtimeName else {
            throw ConvRTError("internal error: softmax has no value")
        }
        let restore = ReshapeAttributes(shape: [Int](repeating: 0, count: axis) + tail)
        return try emit(.reshape(restore), [normalized], for: node)
    }

    /// ReduceMean: axes an attribute before opset 18, an input from 18; none means all dims
    /// (or nothing, with opset 18's `noop_with_empty_axes`).
    mutating func reduceMean(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let keepDims = try node.int("keepdims", default: 1) != 0
        var axes = try (opset >= 18 ? constant(node, 1, "axes")?.ints(for: "axes") : node.ints("axes")) ?? []
        if axes.isEmpty {
            if try node.int("noop_with_empty_axes", default: 0) != 0 { return .runtime(name: x.name, shape: x.shape) }
            axes = Array(0..<x.shape.count)
        }
        return try emit(.reduceMean(axes: axes, keepDims: keepDims), [x.name], for: node)
    }
}
