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
        return attributes
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
        // PyTorch prints a Python set here; its order varies between runs, so print it sorted.
        guard let parsed = ConvAttributes.PaddingMode(rawValue: mode.value) else {
            let list = paddingModes.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ConvRTError(
                "padding_mode must be one of {\(list)}, but got padding_mode='\(mode.value)'", at: mode.location)
        }
        if transposed, parsed != .zeros {
            throw ConvRTError("Only \"zeros\" padding mode is supported for \(args.layer)", at: mode.location)
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
