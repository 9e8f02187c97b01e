/// Activations, Clip, and the broadcasting binary operators.
extension ImportSession {
    mutating func activation(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let activation: Activation
        switch node.opType {
        case "Relu": activation = .relu
        case "LeakyRelu": activation = .leakyReLU(negativeSlope: try node.float("alpha", default: 0.01))
        case "Sigmoid": activation = .sigmoid
        case "Tanh": activation = .tanh
        case "HardSigmoid":
            activation = .hardSigmoid(alpha: try node.float("alpha", default: 0.2), beta: try node.float("beta", default: 0.5))
        case "HardSwish": activation = .hardswish
        default:
            let approximate = try node.choice("approximate", default: "none", allowed: ["none", "tanh"])
            activation = .gelu(approximateTanh: approximate == "tanh")
        }
        return try emit(.activation(activation), [x.name], for: node)
    }

    /// Clip with bounds as inputs (opset 11+) or attributes: ReLU6 for [0, 6], ReLU for [0, inf),
    /// Hardtanh otherwise, an alias without bounds.
    mutating func clip(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let low = try constant(node, 1, "min").map { Float(try $0.scalar(for: "min")) } ?? node.float("min")
        let high = try constant(node, 2, "max").map { Float(try $0.scalar(for: "max")) } ?? node.float("max")
        let lo = low ?? -.infinity, hi = high ?? .infinity
        guard lo <= hi else { throw ConvRTError("min (\(lo)) is greater than max (\(hi))") }
        let activation: Activation
        switch (lo, hi) {
        case (-.infinity, .infinity): return .runtime(name: x.name, shape: x.shape)
        case (0, 6): activation = .relu6
        case (0, .infinity): activation = .relu
        default: activation = .hardtanh(minValue: lo, maxValue: hi)
        }
        return try emit(.activation(activation), [x.name], for: node)
    }

    /// Add/Sub/Mul/Div of two values; a constant operand becomes a `.constant` node.
    mutating func binary(_ node: ONNXNode) throws -> ImportedValue {
        guard node.input(1) != nil else { throw ConvRTError("input 1 is missing") }
        let a = try runtime(node, 0)
        let b = try runtime(node, 1)
        let op: Op
        switch node.opType {
        case "Add": op = .add
        case "Sub": op = .binary(.sub)
        case "Mul": op = .binary(.mul)
        default: op = .binary(.div)
        }
        return try emit(op, [a.name, b.name], for: node)
    }

    /// `Neg(x)` as `0 - x`, `Reciprocal(x)` as `1 / x`.
    mutating func negateOrInvert(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let neg = node.opType == "Neg"
        let c = try builder.materialize(ONNXConstant(name: node.name + (neg ? "/zero" : "/one"), shape: [], floats: [neg ? 0 : 1]), role: "constant")
        return try emit(.binary(neg ? .sub : .div), [c.name, x.name], for: node)
    }

    /// Identity and Dropout (inference: the input unchanged; `training_mode` must be false).
    mutating func passThrough(_ node: ONNXNode) throws -> ImportedValue {
        if node.opType == "Dropout", let training = try constant(node, 2, "training_mode"), try training.scalar(for: "training_mode") != 0 {
            throw ConvRTError("training_mode=True is not supported (export the model in eval mode)")
        }
        guard let name = node.input(0) else { throw ConvRTError("input 0 is missing") }
        return try value(name)
    }

    /// Cast of a run-time value: only to float (a no-op, every run-time value is float32).
    mutating func cast(_ node: ONNXNode) throws -> ImportedValue {
        let to = try node.int("to") ?? 0
        guard to == Int(Onnx_TensorProto.DataType.float.rawValue) else {
            let name = Onnx_TensorProto.DataType(rawValue: to)?.onnxName ?? "type \(to)"
            throw ConvRTError("Cast of a run-time tensor to \(name) is not supported (convrt computes in float32)")
        }
        let x = try runtime(node, 0)
        return .runtime(name: x.name, shape: x.shape)
    }
}
