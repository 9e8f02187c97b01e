/// The pooling family's keyword table: MaxPool/AvgPool/AdaptiveAvgPool/AdaptiveMaxPool 1d-3d,
/// with `torch.nn`'s signatures and defaults:
///
/// - `MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`
/// - `AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)`
/// - `AvgPool2d/3d(..., count_include_pad=True, divisor_override=None)`
/// - `AdaptiveAvgPool2d(output_size)`, `AdaptiveMaxPool2d(output_size, return_indices=False)`
///
/// An int is repeated per spatial dim, a tuple must have one entry per dim (a 1-tuple is repeated
/// too, as ATen does); a wrong length fails with the message of the ATen function PyTorch calls.
/// Ranges (kernel > 0, padding <= kernel/2, ...) are checked by shape inference.
enum PoolingLayers {
    static let specs: [LayerSpec] = (1...3).flatMap { rank in
        [maxPool(rank), avgPool(rank), adaptive(.average, rank), adaptive(.max, rank)]
    }

    private static func maxPool(_ rank: Int) -> LayerSpec {
        LayerSpec(
            name: "MaxPool\(rank)d", inputCount: 1,
            parameters: ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
            required: ["kernel_size"]
        ) { args throws(ConvRTError) in
            let words = ListWords(kind: .max, rank: rank)
            let kernel = try poolList(args, "kernel_size", words)
            let padding = try poolList(args, "padding", words, default: 0)
            try rejectReturnIndices(args)
            return .pool(PoolAttributes(
                kind: .max, spatialRank: rank, kernelSize: kernel, stride: try stride(args, words) ?? kernel,
                padBegin: padding, padEnd: padding, dilation: try poolList(args, "dilation", words, default: 1),
                ceilMode: try args.bool("ceil_mode") ?? false))
        }
    }

    private static func avgPool(_ rank: Int) -> LayerSpec {
        LayerSpec(
            name: "AvgPool\(rank)d", inputCount: 1,
            parameters: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
                + (rank > 1 ? ["divisor_override"] : []),
            required: ["kernel_size"]
        ) { args throws(ConvRTError) in
            let words = ListWords(kind: .average, rank: rank)
            let kernel = try poolList(args, "kernel_size", words)
            let padding = try poolList(args, "padding", words, default: 0)
            return .pool(PoolAttributes(
                kind: .average, spatialRank: rank, kernelSize: kernel, stride: try stride(args, words) ?? kernel,
                padBegin: padding, padEnd: padding, ceilMode: try args.bool("ceil_mode") ?? false,
                countIncludePad: try args.bool("count_include_pad") ?? true,
                divisorOverride: try optionalInt(args, "divisor_override")))
        }
    }

    private static func adaptive(_ kind: PoolAttributes.Kind, _ rank: Int) -> LayerSpec {
        let kindName = kind == .max ? "Max" : "Avg"
        return LayerSpec(
            name: "Adaptive\(kindName)Pool\(rank)d", inputCount: 1,
            parameters: ["output_size"] + (kind == .max ? ["return_indices"] : []), required: ["output_size"]
        ) { args throws(ConvRTError) in
            try rejectReturnIndices(args)
            return .adaptivePool(AdaptivePoolAttributes(kind: kind, spatialRank: rank,
                                                        outputSize: try outputSize(args, kind, rank)))
        }
    }

    /// How ATen words a list of the wrong length, per pooling function and argument.
    struct ListWords {
        var kind: PoolAttributes.Kind
        var rank: Int

        func message(_ key: String, count: Int) -> String {
            let isMax = kind == .max
            let function = (isMax ? "max_pool" : "avg_pool") + "\(rank)d"
            if rank == 1 {
                guard isMax else { return "\(function)() argument '\(key)' should contain one int (got \(count))" }
                switch key {
                case "stride": return "\(function)() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size \(count)"
                case "padding": return "\(function)() padding must be an int, list of ints, or tuple of ints of size 1 but got size \(count)"
                default: return "\(function)() \(key) must be an int, list of ints or tuple of ints of size 1 but got size \(count)"
                }
            }
            let ints = rank == 2 ? "two ints" : "three ints"
            // avg_pool3d drops "either"; dilation (max only) says "be either".
            let either = kind == .average && rank == 3 ? "" : "either "
            switch key {
            case "stride": return "\(function): stride must \(either)be omitted, a single int, or a tuple of \(ints)"
            case "dilation": return "\(function): dilation must be either a single int, or a tuple of \(ints)"
            default: return "\(function): \(key) must \(either)be a single int, or a tuple of \(ints)"
            }
        }
    }

    /// An int repeated per dim, or a tuple with 1 (repeated) or `rank` entries.
    private static func poolList(_ args: LayerArguments, _ key: String, _ words: ListWords,
                                 default fill: Int? = nil) throws(ConvRTError) -> [Int] {
        guard let given = args[key] else {
            if let fill { return Array(repeating: fill, count: words.rank) }
            throw args.missing(key)
        }
        let list = try args.ints(key, given)
        if list.count == words.rank { return list }
        if list.count == 1, let only = list.first { return Array(repeating: only, count: words.rank) }
        throw ConvRTError(words.message(key, count: list.count), at: given.location)
    }

    /// `stride=None` (or absent, or `()`) means the kernel size.
    private static func stride(_ args: LayerArguments, _ words: ListWords) throws(ConvRTError) -> [Int]? {
        guard let given = args["stride"] else { return nil }
        switch given.value {
        case .none: return nil
        case .tuple(let items) where items.isEmpty: return nil
        default: return try poolList(args, "stride", words)
        }
    }

    private static func optionalInt(_ args: LayerArguments, _ key: String) throws(ConvRTError) -> Int? {
        guard let given = args[key] else { return nil }
        if case .none = given.value { return nil }
        return try args.int(key)
    }

    /// convrt layers have one output: the indices PyTorch can also return are not available.
    private static func rejectReturnIndices(_ args: LayerArguments) throws(ConvRTError) {
        guard try args.bool("return_indices") == true, let given = args["return_indices"] else { return }
        throw ConvRTError("return_indices=True is not supported: a layer has one output", at: given.location)
    }

    /// An int (repeated), or a tuple of ints and `None`s (keep that input dim) with one entry per dim.
    private static func outputSize(_ args: LayerArguments, _ kind: PoolAttributes.Kind, _ rank: Int) throws(ConvRTError) -> [Int?] {
        guard let given = args["output_size"] else { throw args.missing("output_size") }
        let function = "adaptive_\(kind == .max ? "max" : "avg")_pool\(rank)d"
        var sizes: [Int?]
        switch given.value {
        case .integer(let v):
            return Array(repeating: v, count: rank)
        case .none where rank == 1:
            throw ConvRTError("\(function)(): argument 'output_size' (position 2) must be tuple of ints, not NoneType", at: given.location)
        case .tuple(let items):
            sizes = []
            for item in items {
                switch item.value {
                case .integer(let v): sizes.append(v)
                case .none: sizes.append(nil)
                default: throw args.typeError("output_size", "an integer or a tuple of integers and None", given)
                }
            }
        default:
            throw args.typeError("output_size", "an integer or a tuple of integers and None", given)
        }
        guard sizes.count == rank else {
            let message = rank == 1 ? "\(function)() argument 'output_size' should contain one int (got \(sizes.count))"
                : kind == .max ? "\(function)(): internal error: output_size.size() must be \(rank)"
                : "\(function): output_size must be \(rank)"
            throw ConvRTError(message, at: given.location)
        }
        return sizes
    }
}
