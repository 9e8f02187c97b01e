/// One layer type the DSL accepts: its keyword arguments and how they become an `Op`.
///
/// Keywords use PyTorch's names and order; defaults are PyTorch's (applied by the IR initialisers).
struct LayerSpec: Sendable {
    /// The type name as written in a file: `Conv2d`.
    let name: String
    /// How many positional value names the call takes.
    let inputCount: Int
    /// Every keyword accepted, in PyTorch's signature order.
    let parameters: [String]
    /// The keywords without a default, checked before any value is looked at (as Python does).
    let required: [String]
    /// Keywords this layer rejects on purpose, with why (better than a "did you mean").
    var rejected: [String: String] = [:]
    /// Takes and ignores any further arguments, positional or keyword (`nn.Identity(*args, **kwargs)`).
    var acceptsAnyArguments = false
    /// Takes `inputCount` or more value names (`Concat(a, b, c, dim=1)`).
    var variadicInputs = false
    /// Reads the arguments into the op; only called once `required` are all present.
    let build: @Sendable (LayerArguments) throws(ConvRTError) -> Op
}

/// The DSL keyword table: every layer type, in one place. Adding an op adds one entry here
/// (or in its family's file, like `ConvLayers`).
enum LayerTable {
    static let specs: [LayerSpec] = ConvLayers.specs + NormLayers.specs + [unfold, fold]
        + ActivationLayers.specs + [add, identity] + TensorLayers.specs
        + PoolingLayers.specs + PadLayers.specs + [UpsampleLayer.spec]

    private static let byName: [String: LayerSpec] =
        Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// The spec for a type name as written, case-sensitively.
    static func spec(named name: String) -> LayerSpec? { byName[name] }

    static let unfold = LayerSpec(
        name: "Unfold", inputCount: 1,
        parameters: ["kernel_size", "dilation", "padding", "stride"], required: ["kernel_size"]
    ) { args throws(ConvRTError) in
        .unfold(try window(args))
    }

    static let fold = LayerSpec(
        name: "Fold", inputCount: 1,
        parameters: ["output_size", "kernel_size", "dilation", "padding", "stride"],
        required: ["output_size", "kernel_size"]
    ) { args throws(ConvRTError) in
        guard let outputSize = try args.pair("output_size") else { throw args.missing("output_size") }
        return .fold(FoldAttributes(outputSize: outputSize, window: try window(args)))
    }

    static let add = LayerSpec(name: "Add", inputCount: 2, parameters: [], required: []) { _ throws(ConvRTError) in
        .add
    }

    /// `nn.Identity(*args, **kwargs)`: ignores every argument after its input.
    static let identity = LayerSpec(
        name: "Identity", inputCount: 1, parameters: [], required: [], acceptsAnyArguments: true
    ) { _ throws(ConvRTError) in
        .identity
    }

    /// Unfold's and Fold's shared `kernel_size, dilation=1, padding=0, stride=1`.
    private static func window(_ args: LayerArguments) throws(ConvRTError) -> SlidingWindow {
        guard let kernelSize = try args.pair("kernel_size") else { throw args.missing("kernel_size") }
        return SlidingWindow(
            kernelSize: kernelSize,
            dilation: try args.pair("dilation") ?? [1, 1],
            padding: try args.pair("padding") ?? [0, 0],
            stride: try args.pair("stride") ?? [1, 1])
    }
}
