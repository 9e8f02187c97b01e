/// Resize/Upsample.
extension ONNXExportSession {
    /// Resize over the spatial dims: scales as `[1, 1, s...]`, or sizes, whose batch and channel
    /// entries come from `Shape(x)` when they are symbolic.
    ///
    /// Nearest mode on a known size is checked pixel by pixel: PyTorch's `nearest` has shortcuts
    /// (an exact 2x output copies `o / 2` whatever the scale) and rounds `o * (1/scale)` in float,
    /// while ONNX computes `o / scale`. Where the two pick different source pixels, the resize is
    /// written as one `Gather` per spatial dim with the pixels convrt reads, which is exact.
    mutating func resize(_ node: Node, _ r: ResizeAttributes) throws -> String {
        let x = try input(node)
        let input = shape(node)
        if r.mode == .nearest, let gathered = try nearestAsGather(node, x, r, input: input) { return gathered }
        let transforms: [ResizeAttributes.CoordinateTransform: String] = [
            .halfPixel: "half_pixel", .pytorchHalfPixel: "pytorch_half_pixel", .alignCorners: "align_corners", .asymmetric: "asymmetric",
        ]
        let roundings: [ResizeAttributes.NearestRounding: String] = [
            .floor: "floor", .ceil: "ceil", .roundPreferFloor: "round_prefer_floor", .roundPreferCeil: "round_prefer_ceil",
        ]
        // nearest_mode also in linear mode, where it is ignored: the attributes then read back unchanged.
        let attributes = [ONNXAttribute.string("mode", r.mode == .nearest ? "nearest" : "linear"),
                          ONNXAttribute.string("coordinate_transformation_mode", transforms[r.coordinateTransform] ?? "half_pixel"),
                          ONNXAttribute.string("nearest_mode", roundings[r.nearestRounding] ?? "floor")]
        var inputs = [x, ""]
        if let scales = r.scales {
            inputs.append(builder.floats("\(node.name)/scales", Tensor(shape: [scales.count + 2], data: [1, 1] + scales.map { Float($0) })))
        } else if let sizes = r.sizes {
            inputs += ["", resizeSizes(node, x, head: Array(input.prefix(2)), spatial: sizes)]
        } else {
            throw ConvRTError("internal error: Upsample without scales or sizes")
        }
        return builder.helper("Resize", inputs, base: "\(node.name)/Resize", attributes)
    }

    /// The full-rank `sizes` input: a constant, or `Concat(Shape(x)[:2], spatial)` for a symbolic batch.
    private mutating func resizeSizes(_ node: Node, _ x: String, head: SymbolicShape, spatial: [Int]) -> String {
        if let known = head.concrete { return ints(node, "sizes", known + spatial) }
        let batch = builder.helper("Shape", [x], base: "\(node.name)/Shape", [ONNXAttribute.int("end", 2)])
        return builder.helper("Concat", [batch, ints(node, "spatial_sizes", spatial)], base: "\(node.name)/sizes",
                              [ONNXAttribute.int("axis", 0)])
    }

    /// Nearest resize as Gathers, when the sizes are known and ONNX's formula would read other pixels.
    private mutating func nearestAsGather(_ node: Node, _ x: String, _ r: ResizeAttributes, input: SymbolicShape) throws -> String? {
        let rank = input.count
        guard let inSizes = Array(input.dropFirst(2)).concrete, let outSizes = Array(outputShape(node).dropFirst(2)).concrete,
              inSizes.count == outSizes.count, !inSizes.contains(0) else { return nil }
        let picks = inSizes.indices.map { ResizeGeometry.nearestIndices(r, dim: $0, inSize: inSizes[$0], outSize: outSizes[$0]) }
        let onnx = inSizes.indices.map { Self.onnxNearestIndices(r, dim: $0, inSize: inSizes[$0], outSize: outSizes[$0]) }
        guard picks != onnx else { return nil }
        var y = x
        for d in inSizes.indices where picks[d] != Array(0..<inSizes[d]) {
            let table = ints(node, "indices", picks[d])
            y = builder.helper("Gather", [y, table], base: "\(node.name)/Gather", [ONNXAttribute.int("axis", rank - inSizes.count + d)])
        }
        return y
    }

    /// The source pixels ONNX's Resize formula picks in nearest mode, computed in float32 as ONNX
    /// Runtime does: `x = o / scale` (or the mode's variant), rounded, clamped to the input.
    static func onnxNearestIndices(_ r: ResizeAttributes, dim d: Int, inSize n: Int, outSize m: Int) -> [Int] {
        let scale: Float = r.scales.flatMap { $0[safe: d] }.map { Float($0) } ?? Float(m) / Float(n)
        return (0..<m).map { o in
            let y = Float(o)
            let x: Float
            switch r.coordinateTransform {
            case .halfPixel: x = (y + 0.5) / scale - 0.5
            case .pytorchHalfPixel: x = m > 1 ? (y + 0.5) / scale - 0.5 : 0
            case .alignCorners: x = m == 1 ? 0 : y * Float(n - 1) / Float(m - 1)
            case .asymmetric: x = y / scale
            }
            let rounded: Float
            switch r.nearestRounding {
            case .floor: rounded = x.rounded(.down)
            case .ceil: rounded = x.rounded(.up)
            case .roundPreferFloor: rounded = x == x.rounded(.towardZero) + 0.5 ? x.rounded(.towardZero) : x.rounded(.toNearestOrAwayFromZero)
            case .roundPreferCeil: rounded = x.rounded(.toNearestOrAwayFromZero)
            }
            guard rounded > 0 else { return 0 }  // NaN too
            return Int(min(rounded, Float(n - 1)))
        }
    }
}
