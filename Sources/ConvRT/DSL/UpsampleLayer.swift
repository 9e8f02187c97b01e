/// `nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None,
/// recompute_scale_factor=None)` for the modes nearest, nearest-exact, linear, bilinear and trilinear.
///
/// The IR keeps PyTorch's coordinate mapping: `nearest` is ONNX's asymmetric + floor,
/// `nearest-exact` half_pixel + round_prefer_ceil, the linear modes half_pixel or align_corners.
/// A `scale_factor` is also the scale the mapping uses (PyTorch's default). Nearest mode with an
/// int `size`/`scale_factor` keeps one value, repeated per spatial dim once the input is known.
enum UpsampleLayer {
    static let linearModes = ["linear", "bilinear", "trilinear"]
    static let modes = ["nearest", "nearest-exact"] + linearModes

    static let spec = LayerSpec(
        name: "Upsample", inputCount: 1,
        parameters: ["size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"], required: []
    ) { args throws(ConvRTError) in
        let mode = try args.string("mode") ?? Located(value: "nearest", location: args.anchor)
        guard modes.contains(mode.value) else {
            let supported = modes.map { "'\($0)'" }.joined(separator: ", ")
            throw ConvRTError("mode must be one of \(supported), but got mode='\(mode.value)'", at: mode.location)
        }
        let linearRank = linearModes.firstIndex(of: mode.value).map { $0 + 1 }
        let alignCorners = try optionalBool(args, "align_corners")
        if linearRank == nil, alignCorners != nil, let given = args["align_corners"] {
            throw ConvRTError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear", at: given.location)
        }
        let size = try sizes(args, count: linearRank)
        let scale = try scales(args, count: linearRank)
        if size != nil, scale != nil { throw ConvRTError("only one of size or scale_factor should be defined", at: args.anchor) }
        if size == nil, scale == nil { throw ConvRTError("either size or scale_factor should be defined", at: args.anchor) }
        if let given = args["recompute_scale_factor"], try optionalBool(args, "recompute_scale_factor") == true {
            let reason = size != nil ? "recompute_scale_factor is not meaningful with an explicit size."
                : "recompute_scale_factor=True is not supported: the coordinate mapping would depend on the input size"
            throw ConvRTError(reason, at: given.location)
        }
        let (kind, transform, rounding): (ResizeAttributes.Mode, ResizeAttributes.CoordinateTransform, ResizeAttributes.NearestRounding)
        switch mode.value {
        case "nearest": (kind, transform, rounding) = (.nearest, .asymmetric, .floor)
        case "nearest-exact": (kind, transform, rounding) = (.nearest, .halfPixel, .roundPreferCeil)
        default: (kind, transform, rounding) = (.linear, alignCorners == true ? .alignCorners : .halfPixel, .floor)
        }
        return .resize(ResizeAttributes(mode: kind, coordinateTransform: transform, nearestRounding: rounding,
                                        scales: scale, sizes: size))
    }

    private static func optionalBool(_ args: LayerArguments, _ key: String) throws(ConvRTError) -> Bool? {
        if let given = args[key], case .none = given.value { return nil }
        return try args.bool(key)
    }

    /// `size`: an int (repeated `count` times, or kept single for nearest) or a tuple of ints.
    private static func sizes(_ args: LayerArguments, count: Int?) throws(ConvRTError) -> [Int]? {
        guard let given = args["size"] else { return nil }
        switch given.value {
        case .none: return nil
        case .integer(let v): return Array(repeating: v, count: count ?? 1)
        case .tuple:
            let list = try args.ints("size", given)
            try checkCount(list.count, count, "size=\(given.value.rendered)", given)
            return list
        default: throw args.typeError("size", "an integer, a tuple of integers or None", given)
        }
    }

    /// `scale_factor`: a number or tuple of numbers; like `nn.Upsample`, a zero number means "not given".
    private static func scales(_ args: LayerArguments, count: Int?) throws(ConvRTError) -> [Double]? {
        guard let given = args["scale_factor"] else { return nil }
        func number(_ value: ArgValue) -> Double? {
            switch value {
            case .integer(let v): return Double(v)
            case .float(let v): return v
            default: return nil
            }
        }
        switch given.value {
        case .none: return nil
        case .tuple(let items):
            let list = items.compactMap { number($0.value) }
            guard list.count == items.count else { break }
            try checkCount(list.count, count, "scale_factor=\(given.value.rendered)", given)
            return list
        default:
            guard let v = number(given.value) else { break }
            return v == 0 ? nil : Array(repeating: v, count: count ?? 1)
        }
        throw args.typeError("scale_factor", "a number, a tuple of numbers or None", given)
    }

    /// The linear modes name their rank, so a tuple of another length can never match the input.
    private static func checkCount(_ n: Int, _ count: Int?, _ what: String, _ given: Located<ArgValue>) throws(ConvRTError) {
        guard let count, n != count else { return }
        let mode = linearModes[count - 1]
        throw ConvRTError("Input and output must have the same number of spatial dimensions: \(mode) mode needs \(count) values, but got \(what)", at: given.location)
    }
}
