/// Pad, Resize/Upsample and Col2Im.
extension ImportSession {
    /// Pad (pads as an input since opset 11, `axes` since 18). Padding of leading dims that
    /// is all zero is dropped, so `begin`/`end` cover the trailing dims from the first padded one
    /// (at least every spatial dim for the non-constant modes, as PyTorch's padding layers do).
    mutating func pad(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let rank = x.shape.count
        let modes: [String: PadAttributes.Mode] = ["constant": .constant, "reflect": .reflect, "edge": .replicate, "wrap": .circular]
        let modeName = try node.choice("mode", default: "constant", allowed: ["constant", "reflect", "edge", "wrap"])
        let pads = try constant(node, 1, "pads")?.ints(for: "pads") ?? node.ints("pads") ?? []
        let axes = try constant(node, 3, "axes")?.ints(for: "axes").map { try TensorShapeRules.axis($0, rank: rank) } ?? Array(0..<rank)
        if let bad = pads.first(where: { $0.magnitude > UInt(Limits.maxDimension) }) {
            throw ConvRTError("pad value \(bad) is too large (the limit is \(Limits.maxDimension))")
        }
        guard pads.count == 2 * axes.count else {
            throw ConvRTError("pads has \(pads.count) values, but \(2 * axes.count) are needed for \(axes.count) axes")
        }
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (i, a) in axes.enumerated() {
            begin[a] = pads[i]
            end[a] = pads[axes.count + i]
        }
        let value = try constant(node, 2, "constant_value").map { Float(try $0.scalar(for: "constant_value")) }
            ?? node.float("value", default: 0)
        guard var first = (0..<rank).first(where: { begin[$0] != 0 || end[$0] != 0 }) else {
            return .runtime(name: x.name, shape: x.shape)
        }
        // PyTorch's reflect/replicate/circular padding covers all spatial dims of (N, C, spatial).
        if modeName != "constant" && rank >= 3 { first = min(first, 2) }
        let attributes = PadAttributes(mode: modes[modeName] ?? .constant, begin: Array(begin[first...]),
                                       end: Array(end[first...]), value: modeName == "constant" ? value : 0)
        return try emit(.pad(attributes), [x.name], for: node)
    }

    /// Resize (opset 11+) and the deprecated Upsample, over the spatial dims only.
    mutating func resize(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let rank = x.shape.count
        guard (3...5).contains(rank) else {
            throw ConvRTError("input has shape \(x.shape.rendered); convrt resizes the spatial dims of (N, C, spatial) inputs with 1 to 3 spatial dims")
        }
        let options = try node.opType == "Upsample" ? upsampleOptions(node) : resizeOptions(node)
        var attributes = ResizeAttributes(mode: options.mode, coordinateTransform: options.transform, nearestRounding: options.rounding)
        let axes = try (node.ints("axes") ?? Array(0..<rank)).map { try TensorShapeRules.axis($0, rank: rank) }
        if let scales = options.scales {
            guard scales.count == axes.count else { throw ConvRTError("scales has \(scales.count) values for \(axes.count) axes") }
            var full = [Double](repeating: 1, count: rank)
            for (i, a) in axes.enumerated() { full[a] = scales[i] }
            guard full[0] == 1, full[1] == 1 else {
                throw ConvRTError("scales \(full) resize the batch or channel dim; convrt resizes spatial dims only")
            }
            guard full.allSatisfy({ $0 > 0 && $0 <= Double(1 << 20) }) else { throw ConvRTError("scales \(full) must be positive (and at most 2^20)") }
            attributes.scales = Array(full[2...])
        } else if let sizes = options.sizes {
            guard sizes.count == axes.count else { throw ConvRTError("sizes has \(sizes.count) values for \(axes.count) axes") }
            var full = x.shape
            for (i, a) in axes.enumerated() { full[a] = sizes[i] }
            guard full[0] == x.shape[0], full[1] == x.shape[1] else {
                throw ConvRTError("sizes \(full.rendered) resize the batch or channel dim of \(x.shape.rendered); convrt resizes spatial dims only")
            }
            guard let spatial = Array(full[2...]).concrete, spatial.allSatisfy({ $0 > 0 && $0 <= Limits.maxDimension }) else {
                throw ConvRTError("sizes \(full.rendered) must be known positive sizes")
            }
            attributes.sizes = spatial
        } else {
            throw ConvRTError("one of scales and sizes must be given")
        }
        return try emit(.resize(attributes), [x.name], for: node)
    }

    private struct ResizeOptions {
        var mode: ResizeAttributes.Mode
        var transform: ResizeAttributes.CoordinateTransform
        var rounding: ResizeAttributes.NearestRounding
        var scales: [Double]?
        var sizes: [Dim]?
    }

    private func resizeOptions(_ node: ONNXNode) throws -> ResizeOptions {
        let mode = try node.choice("mode", default: "nearest", allowed: ["nearest", "linear"])
        let transforms: [String: ResizeAttributes.CoordinateTransform] = [
            "half_pixel": .halfPixel, "pytorch_half_pixel": .pytorchHalfPixel, "align_corners": .alignCorners, "asymmetric": .asymmetric,
        ]
        let transform = try node.choice("coordinate_transformation_mode", default: "half_pixel",
                                        allowed: ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"])
        let roundings: [String: ResizeAttributes.NearestRounding] = [
            "round_prefer_floor": .roundPreferFloor, "round_prefer_ceil": .roundPreferCeil, "floor": .floor, "ceil": .ceil,
        ]
        let rounding = try node.choice("nearest_mode", default: "round_prefer_floor", allowed: Array(roundings.keys).sorted())
        if try node.int("antialias", default: 0) != 0 { throw ConvRTError("antialias=1 is not supported") }
        _ = try node.choice("keep_aspect_ratio_policy", default: "stretch", allowed: ["stretch"])
        let scales = try constant(node, 2, "scales").flatMap { $0.count == 0 ? nil : try $0.numbers(for: "scales") }
        let sizes = try constant(node, 3, "sizes").flatMap { $0.count == 0 ? nil : try $0.dims(for: "sizes") }
        if scales != nil && sizes != nil { throw ConvRTError("only one of scales and sizes may be given") }
        return ResizeOptions(mode: mode == "linear" ? .linear : .nearest, transform: transforms[transform] ?? .halfPixel,
                             rounding: roundings[rounding] ?? .roundPreferFloor, scales: scales, sizes: sizes)
    }

    /// Upsample (deprecated since opset 10): `x / scale` for both modes, nearest rounds down.
    private func upsampleOptions(_ node: ONNXNode) throws -> ResizeOptions {
        let mode = try node.choice("mode", default: "nearest", allowed: ["nearest", "linear", "bilinear"])
        let scales = try constant(node, 1, "scales")?.numbers(for: "scales") ?? node.floats("scales")?.map(Double.init)
        return ResizeOptions(mode: mode == "nearest" ? .nearest : .linear, transform: .asymmetric, rounding: .floor,
                             scales: scales, sizes: nil)
    }

    /// Col2Im (opset 18) as a Fold; pads must be symmetric per dim.
    mutating func col2Im(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let image = try requiredConstant(node, 1, "image_shape").ints(for: "image_shape")
        let block = try requiredConstant(node, 2, "block_shape").ints(for: "block_shape")
        guard image.count == 2, block.count == 2 else {
            throw ConvRTError("image_shape \(image.bracketed) and block_shape \(block.bracketed) must have 2 entries (convrt folds 2-d images)")
        }
        let pads = try node.ints("pads", count: 4, fill: 0)
        guard pads[0] == pads[2], pads[1] == pads[3] else {
            throw ConvRTError("asymmetric pads \(pads.bracketed) are not supported (Fold pads both sides equally)")
        }
        let window = SlidingWindow(kernelSize: block, dilation: try node.ints("dilations", count: 2, fill: 1),
                                   padding: [pads[0], pads[1]], stride: try node.ints("strides", count: 2, fill: 1))
        return try emit(.fold(FoldAttributes(outputSize: image, window: window)), [x.name], for: node)
    }
}
