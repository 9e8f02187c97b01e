/// The activation family's keyword table: ReLU, ReLU6, LeakyReLU, Hardtanh, Sigmoid, Tanh,
/// SiLU, Hardswish, GELU and Hardsigmoid, with `torch.nn`'s signatures and defaults.
///
/// `inplace` is accepted where PyTorch has it (models copied from PyTorch carry it) and has no
/// effect. Sigmoid and Tanh take no arguments at all, as in PyTorch.
enum ActivationLayers {
    static let specs: [LayerSpec] = [
        simple("ReLU", .relu), simple("ReLU6", .relu6), leakyReLU, hardtanh,
        LayerSpec(name: "Sigmoid", inputCount: 1, parameters: [], required: []) { _ throws(ConvRTError) in
            .activation(.sigmoid)
        },
        LayerSpec(name: "Tanh", inputCount: 1, parameters: [], required: []) { _ throws(ConvRTError) in
            .activation(.tanh)
        },
        simple("SiLU", .silu), simple("Hardswish", .hardswish), gelu,
        // PyTorch's `relu6(x + 3) / 6`, i.e. ONNX HardSigmoid with alpha 1/6, beta 1/2.
        simple("Hardsigmoid", .hardSigmoid(alpha: 1.0 / 6, beta: 0.5)),
    ]

    /// An activation whose only argument is `inplace`.
    private static func simple(_ name: String, _ activation: Activation) -> LayerSpec {
        LayerSpec(name: name, inputCount: 1, parameters: ["inplace"], required: []) { args throws(ConvRTError) in
            _ = try args.bool("inplace")
            return .activation(activation)
        }
    }

    /// `LeakyReLU(negative_slope=0.01, inplace=False)`; any slope is accepted, as in PyTorch.
    static let leakyReLU = LayerSpec(
        name: "LeakyReLU", inputCount: 1, parameters: ["negative_slope", "inplace"], required: []
    ) { args throws(ConvRTError) in
        _ = try args.bool("inplace")
        let slope = try args.number("negative_slope")?.value ?? 0.01
        return .activation(.leakyReLU(negativeSlope: Float(slope)))
    }

    /// `Hardtanh(min_val=-1.0, max_val=1.0, inplace=False)`, plus the deprecated spellings
    /// `min_value`/`max_value` PyTorch still accepts (and which win when both are given).
    static let hardtanh = LayerSpec(
        name: "Hardtanh", inputCount: 1,
        parameters: ["min_val", "max_val", "inplace", "min_value", "max_value"], required: []
    ) { args throws(ConvRTError) in
        _ = try args.bool("inplace")
        let low = try bound(args, "min_value", "min_val") ?? (-1, "-1.0")
        let high = try bound(args, "max_value", "max_val") ?? (1, "1.0")
        // PyTorch's constructor check, printing the values as Python does (`2` vs `2.0`).
        guard high.value > low.value else {
            let given = args["max_value"] ?? args["max_val"] ?? args["min_value"] ?? args["min_val"]
            throw ConvRTError("max_val (\(high.rendered)) must be greater than min_val (\(low.rendered))",
                              at: given?.location ?? args.anchor)
        }
        return .activation(.hardtanh(minValue: Float(low.value), maxValue: Float(high.value)))
    }

    /// The deprecated spelling's value if given, else the current one's.
    private static func bound(
        _ args: LayerArguments, _ deprecated: String, _ current: String
    ) throws(ConvRTError) -> (value: Double, rendered: String)? {
        if let value = try args.number(deprecated) { return value }
        return try args.number(current)
    }

    /// `GELU(approximate='none')`; `'tanh'` selects the tanh approximation.
    static let gelu = LayerSpec(
        name: "GELU", inputCount: 1, parameters: ["approximate"], required: []
    ) { args throws(ConvRTError) in
        guard let mode = try args.string("approximate") else { return .activation(.gelu(approximateTanh: false)) }
        switch mode.value {
        case "none": return .activation(.gelu(approximateTanh: false))
        case "tanh": return .activation(.gelu(approximateTanh: true))
        default:
            // PyTorch accepts any string at construction and fails in forward with this text.
            throw ConvRTError("approximate argument must be either none or tanh.", at: mode.location)
        }
    }
}
