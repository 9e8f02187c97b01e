/// The convolution family's keyword table: Conv/ConvTranspose 1d-3d and their Lazy forms.
enum ConvLayers {
    /// All twelve layer types: `Conv1d`...`LazyConvTranspose3d`.
    static let specs: [LayerSpec] = [false, true].flatMap { lazy in
        [false, true].flatMap { transposed in
            (1...3).map { rank in spec(rank: rank, transposed: transposed, lazy: lazy) }
        }
    }

    static let paddingModes = ConvAttributes.PaddingMode.allCases.map(\.rawValue)

    private static func spec(rank: Int, transposed: Bool, lazy: Bool) -> LayerSpec {
        let name = (lazy ? "Lazy" : "") + (transposed ? "ConvTranspose" : "Conv") + "\(rank)d"
        let required = (lazy ? [] : ["in_channels"]) + ["out_channels", "kernel_size"]
        let rejected = lazy ? ["in_channels": "\(name) infers in_channels from its input; remove this argument"] : [:]
        return LayerSpec(
            name: name, inputCount: 1,
            parameters: parameters(transposed: transposed, lazy: lazy), required: required, rejected: rejected
        ) { args throws(ConvRTError) in
            .conv(try attributes(args, rank: rank, transposed: transposed, lazy: lazy))
        }
    }

    /// PyTorch's signature order (ConvTranspose puts `dilation` after `bias`), then `output_size`
    /// (ConvTranspose's forward argument) and MegEngine's `conv_mode`.
    private static func parameters(transposed: Bool, lazy: Bool) -> [String] {
        let middle = transposed
            ? ["stride", "padding", "output_padding", "groups", "bias", "dilation", "padding_mode", "output_size"]
            : ["stride", "padding", "dilation", "groups", "bias", "padding_mode"]
        return (lazy ? [] : ["in_channels"]) + ["out_channels", "kernel_size"] + middle + ["conv_mode"]
    }

    private static func attributes(
        _ args: LayerArguments, rank: Int, transposed: Bool, lazy: Bool
    ) throws(ConvRTError) -> ConvAttributes {
        let inChannels = lazy ? nil : try args.requiredInt("in_channels")
        let outChannels = try args.requiredInt("out_channels")
        guard let kernelSize = try args.convList("kernel_size", rank: rank) else {
            throw args.missing("kernel_size")
        }
        let attributes = ConvAttributes(
            spatialRank: rank, transposed: transposed, isLazy: lazy,
            inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
            stride: try args.convList("stride", rank: rank),
            padding: try padding(args, rank: rank, transposed: transposed),
            dilation: try args.convList("dilation", rank: rank),
            groups: try args.int("groups") ?? 1,
            hasBias: try args.bool("bias") ?? true,
            paddingMode: try paddingMode(args, transposed: transposed),
            outputPadding: transposed ? try args.convList("output_padding", rank: rank) : nil,
            outputSize: transposed ? try outputSize(args, rank: rank) : nil)
        try checkConvMode(args)
        try checkOneElementTuples(args, attributes)
        return attributes
    }

    /// PyTorch expands 1-tuples like ints except in two places: a 1-tuple kernel_size leaves the
    /// kernel 1-D (forward then fails on the stride), and a 1-tuple padding with a non-zero mode
    /// reaches F.pad as one pair (it pads only the last dim, or fails).
    private static func checkOneElementTuples(_ args: LayerArguments, _ a: ConvAttributes) throws(ConvRTError) {
        guard a.spatialRank > 1 else { return }
        if let k = args["kernel_size"], case .tuple(let items) = k.value, items.count == 1 {
            throw ConvRTError("expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=\(a.stride.bracketed)", at: k.location)
        }
        if let p = args["padding"], case .tuple(let items) = p.value, items.count == 1, a.paddingMode != .zeros {
            throw ConvRTError("padding=(\(a.transposedPadding[0]),) with padding_mode='\(a.paddingMode.rawValue)' is ambiguous: PyTorch pads only the last dim or fails; give one value per spatial dim", at: p.location)
        }
    }

    /// An int or tuple, or (Conv only) `"same"`/`"valid"`. ConvTranspose rejects strings:
    /// PyTorch's constructor would split `'same'` into characters and fail in forward.
    private static func padding(
        _ args: LayerArguments, rank: Int, transposed: Bool
    ) throws(ConvRTError) -> ConvAttributes.Padding? {
        guard let given = args["padding"] else { return nil }
        switch given.value {
        case .string(let s) where !transposed:
            switch s {
            case "same": return .same
            case "valid": return .valid
            default:
                throw ConvRTError("Invalid padding string \(quoted(s)), should be one of {'same', 'valid'}", at: given.location)
            }
        case .integer, .tuple:
            return .explicit(try args.convList("padding", given, rank: rank))
        default:
            let expected = transposed ? "an integer or a tuple of integers" : "an integer, a tuple of integers, 'same' or 'valid'"
            throw args.typeError("padding", expected, given)
        }
    }

    private static func paddingMode(
        _ args: LayerArguments, transposed: Bool
    ) throws(ConvRTError) -> ConvAttributes.PaddingMode {
        guard let mode = try args.string("padding_mode") else { return .zeros }
        // ConvTranspose's constructor checks this before the generic mode check.
        if transposed, mode.value != "zeros" {
            throw ConvRTError("Only \"zeros\" padding mode is supported for \(args.layer)", at: mode.location)
        }
        // PyTorch prints a Python set here; its order varies between runs, so print it sorted.
        guard let parsed = ConvAttributes.PaddingMode(rawValue: mode.value) else {
            let list = paddingModes.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ConvRTError(
                "padding_mode must be one of {\(list)}, but got padding_mode='\(mode.value)'", at: mode.location)
        }
        return parsed
    }

    /// `None`, an int (repeated per spatial dim), or a tuple kept as written: spatial dims or
    /// all dims, which only shape inference (knowing the input rank) can tell apart.
    private static func outputSize(_ args: LayerArguments, rank: Int) throws(ConvRTError) -> [Int]? {
        guard let given = args["output_size"] else { return nil }
        switch given.value {
        case .none: return nil
        case .integer(let v): return Array(repeating: v, count: rank)
        case .tuple: return try args.ints("output_size", given)
        default: throw args.typeError("output_size", "an integer, a tuple of integers or None", given)
        }
    }

    /// MegEngine's `conv_mode`: convrt, like PyTorch, only does cross-correlation.
    private static func checkConvMode(_ args: LayerArguments) throws(ConvRTError) {
        guard let mode = try args.string("conv_mode"), mode.value != "cross_correlation" else { return }
        throw ConvRTError(
            "unsupported conv_mode '\(mode.value)'; only 'cross_correlation' is supported", at: mode.location)
    }
}
