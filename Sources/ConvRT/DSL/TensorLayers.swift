/// The dense and tensor layers' keyword table, with `torch.nn`'s signatures and defaults:
/// Linear, LazyLinear, Flatten, Concat (`torch.cat`), Softmax, LogSoftmax, Dropout/Dropout1d/2d/3d
/// (identity in inference) and the broadcasting Sub, Mul, Div (`torch.sub`, `torch.mul`, `torch.div`).
enum TensorLayers {
    static let specs: [LayerSpec] = [linear, lazyLinear, flatten, concat, softmax(log: false), softmax(log: true)]
        + ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"].map(dropout)
        + [("Sub", BinaryOperator.sub), ("Mul", .mul), ("Div", .div)].map(binary)

    /// `Linear(in_features, out_features, bias=True)`.
    static let linear = LayerSpec(
        name: "Linear", inputCount: 1, parameters: ["in_features", "out_features", "bias"],
        required: ["in_features", "out_features"]
    ) { args throws(ConvRTError) in
        .linear(LinearAttributes(inFeatures: try args.requiredInt("in_features"), outFeatures: try args.requiredInt("out_features"),
                                 hasBias: try args.bool("bias") ?? true))
    }

    /// `LazyLinear(out_features, bias=True)`: `in_features` comes from the input's last dim.
    static let lazyLinear = LayerSpec(
        name: "LazyLinear", inputCount: 1, parameters: ["out_features", "bias"], required: ["out_features"],
        rejected: ["in_features": "LazyLinear infers in_features from its input; remove this argument"]
    ) { args throws(ConvRTError) in
        .linear(LinearAttributes(isLazy: true, inFeatures: nil, outFeatures: try args.requiredInt("out_features"),
                                 hasBias: try args.bool("bias") ?? true))
    }

    /// `Flatten(start_dim=1, end_dim=-1)`.
    static let flatten = LayerSpec(
        name: "Flatten", inputCount: 1, parameters: ["start_dim", "end_dim"], required: []
    ) { args throws(ConvRTError) in
        .flatten(startDim: try args.int("start_dim") ?? 1, endDim: try args.int("end_dim") ?? -1)
    }

    /// `torch.cat(tensors, dim=0)` as a layer: `Concat(a, b, c, dim=1)`.
    static let concat = LayerSpec(
        name: "Concat", inputCount: 1, parameters: ["dim"], required: [], variadicInputs: true
    ) { args throws(ConvRTError) in
        .concat(axis: try args.int("dim") ?? 0)
    }

    /// `Softmax(dim=None)` / `LogSoftmax(dim=None)`. PyTorch's implicit choice for `dim=None` is
    /// deprecated (it warns, and picks by rank); convrt asks for the dim instead.
    static func softmax(log: Bool) -> LayerSpec {
        let name = log ? "LogSoftmax" : "Softmax"
        return LayerSpec(name: name, inputCount: 1, parameters: ["dim"], required: []) { args throws(ConvRTError) in
            let given = args["dim"]
            if let given, case .integer(let dim) = given.value { return .softmax(axis: dim, log: log) }
            if let given, !given.value.isNone { throw args.typeError("dim", "an integer", given) }
            throw ConvRTError("\(name) needs dim: PyTorch's implicit dim for dim=None is deprecated and not supported; give dim=1 (or the dim to normalise)",
                              at: given?.location ?? args.anchor)
        }
    }

    /// `Dropout(p=0.5, inplace=False)` and the channel-wise forms: the identity in inference, after
    /// the constructor's check of `p`.
    static func dropout(_ name: String) -> LayerSpec {
        LayerSpec(name: name, inputCount: 1, parameters: ["p", "inplace"], required: []) { args throws(ConvRTError) in
            _ = try args.bool("inplace")
            if let p = try args.number("p"), !(0...1).contains(p.value) {
                throw ConvRTError("dropout probability has to be between 0 and 1, but got \(p.rendered)", at: args["p"]?.location ?? args.anchor)
            }
            return .identity
        }
    }

    /// Two operands with NumPy/PyTorch broadcasting, no arguments (like `Add`).
    static func binary(_ item: (name: String, op: BinaryOperator)) -> LayerSpec {
        LayerSpec(name: item.name, inputCount: 2, parameters: [], required: []) { _ throws(ConvRTError) in
            .binary(item.op)
        }
    }
}

extension ArgValue {
    /// Whether the value is `None`.
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}
