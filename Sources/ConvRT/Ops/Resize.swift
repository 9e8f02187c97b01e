import Foundation

/// Shape function of `nn.Upsample` / `F.interpolate` and ONNX Resize/Upsample, with PyTorch's checks.
///
/// Scales and sizes cover the spatial dims (all dims after the first two). Nearest mode may give
/// one entry for every spatial dim (the DSL's `scale_factor=2` when the rank is not yet known);
/// shape inference repeats it. Linear mode gives one entry per spatial dim, and its count names
/// the PyTorch mode: 1 `linear`, 2 `bilinear`, 3 `trilinear`.
struct ResizeShapeFunction {
    var attributes: ResizeAttributes
    var input: SymbolicShape

    private var a: ResizeAttributes { attributes }
    private var r: Int { input.count }
    private var values: Int { a.scales?.count ?? a.sizes?.count ?? 0 }

    /// PyTorch's name for the mode, as its messages print it.
    var modeName: String {
        switch a.mode {
        case .nearest:
            return a.coordinateTransform == .halfPixel && a.nearestRounding == .roundPreferCeil ? "nearest-exact" : "nearest"
        case .linear:
            return ["linear", "bilinear", "trilinear"][safe: values - 1] ?? "linear"
        }
    }

    /// Returns the attributes with a single nearest-mode entry repeated per spatial dim, and the output shape.
    func infer() throws -> (ResizeAttributes, SymbolicShape) {
        guard (a.scales == nil) != (a.sizes == nil), (1...3).contains(values) else {
            throw ConvRTError("Upsample needs 1 to 3 values in exactly one of size and scale_factor")
        }
        if let scales = a.scales, let bad = scales.first(where: { !$0.isFinite || abs($0) > Double(Limits.maxDimension) }) {
            throw ConvRTError("scale_factor must be a finite number, but got \(pythonRepr(bad))")
        }
        var resolved = a
        let spatialCount = max(r - 2, 0)
        if a.mode == .nearest {
            if values == 1, spatialCount != 1 {
                resolved.scales = a.scales.map { Array(repeating: $0[0], count: spatialCount) }
                resolved.sizes = a.sizes.map { Array(repeating: $0[0], count: spatialCount) }
            } else if values != spatialCount {
                throw countMismatch()
            }
        }
        guard (3...5).contains(r) else {
            throw ConvRTError("Input Error: Only 3D, 4D and 5D input Tensors supported (got \(r)D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got \(modeName))")
        }
        if a.mode == .linear, values != spatialCount {
            throw ConvRTError("Got \(r)D input, but \(modeName) mode needs \(values + 2)D input")
        }
        let out = try outputSpatial(resolved)
        try checkSizes(out)
        return (resolved, Array(input.prefix(2)) + out)
    }

    private func countMismatch() -> ConvRTError {
        let dims = input.dropFirst(2).map(\.description).joined(separator: ", ")
        if let sizes = a.sizes {
            let tuple = sizes.count == 1 ? "(\(sizes[0]),)" : "(" + sizes.map(String.init).joined(separator: ", ") + ")"
            return ConvRTError("Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of [\(dims)] and output size of \(tuple). Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        }
        let scales = a.scales ?? []
        let tuple = scales.count == 1 ? "(\(pythonRepr(scales[0])),)" : "(" + scales.map { pythonRepr($0) }.joined(separator: ", ") + ")"
        return ConvRTError("Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of [\(dims)] and scale_factor of shape \(tuple). Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
    }

    /// `size`, or `int(in * scale)` (ATen's `compute_output_size`).
    private func outputSpatial(_ resolved: ResizeAttributes) throws -> SymbolicShape {
        let spatial = Array(input.dropFirst(2))
        if let sizes = resolved.sizes { return sizes.map(Dim.known) }
        let scales = resolved.scales ?? []
        return try spatial.indices.map { d in
            switch spatial[d] {
            case .known(let size):
                let product = Double(size) * scales[d]
                guard abs(product) <= Double(Limits.maxDimension) else {
                    throw ConvRTError("the output size \(pythonRepr(product.rounded(.towardZero))) is too large (the limit is \(Limits.maxDimension))")
                }
                return .known(Int(product.rounded(.towardZero)))
            case .symbol(let s):
                return .symbol("int(\(SymbolicArithmetic.operand(s))*\(pythonRepr(scales[d])))")
            }
        }
    }

    /// `upsample_Nd_common_check` and `upsample_Nd_shape_check`: positive sizes, then no empty
    /// channel dim (an empty batch is fine).
    private func checkSizes(_ out: SymbolicShape) throws {
        let spatial = Array(input.dropFirst(2))
        let names = ["D", "H", "W"].suffix(spatial.count)
        if let sizes = spatial.concrete, let outSizes = out.concrete,
           sizes.contains(where: { $0 <= 0 }) || outSizes.contains(where: { $0 <= 0 }) {
            let inText = zip(names, sizes).map { "\($0): \($1)" }.joined(separator: ", ")
            let outText = zip(names, outSizes).map { "\($0): \($1)" }.joined(separator: ", ")
            let joiner = spatial.count == 1 ? " and output" : " output"
            throw ConvRTError("Input and output sizes should be greater than 0, but got input (\(inText))\(joiner) (\(outText))")
        }
        if input[1] == .known(0) {
            throw ConvRTError("Non-empty \(r)D data tensor expected but got a tensor with sizes \(input.rendered)")
        }
    }
}

/// How output coordinates map to input coordinates along one resized dim; shared by the
/// reference and planned kernels, so both pick the same taps.
enum ResizeGeometry {
    /// The scale the coordinate mapping uses: `scales[d]` when given (PyTorch's `scale_factor`,
    /// ONNX `scales`), else `out / in`.
    static func scale(_ a: ResizeAttributes, dim d: Int) -> Double? {
        if let s = a.scales?[safe: d], s > 0 { return s }
        return nil
    }

    /// The input index each output index reads in nearest mode.
    ///
    /// PyTorch's `nearest` (asymmetric, floor) and `nearest-exact` (half_pixel, round_prefer_ceil)
    /// are computed exactly as ATen does, in `Float` and with `nearest`'s identity and 2x shortcuts;
    /// the other ONNX combinations follow the ONNX reference in `Double`.
    static func nearestIndices(_ a: ResizeAttributes, dim d: Int, inSize n: Int, outSize m: Int) -> [Int] {
        let given = scale(a, dim: d)
        let floatScale: Float = given.map { Float(1.0 / $0) } ?? Float(n) / Float(m)
        switch (a.coordinateTransform, a.nearestRounding) {
        case (.asymmetric, .floor):
            if m == n { return Array(0..<m) }
            if m == 2 * n { return (0..<m).map { $0 >> 1 } }
            return (0..<m).map { o in clampIndex(Double(floorf(Float(o) * floatScale)), n) }
        case (.halfPixel, .roundPreferCeil):
            return (0..<m).map { o in clampIndex(Double(floorf((Float(o) + 0.5) * floatScale)), n) }
        default:
            return (0..<m).map { o in
                let x = sourceCoordinate(a.coordinateTransform, o, inSize: n, outSize: m, scale: given)
                return clampIndex(round(x, a.nearestRounding), n)
            }
        }
    }

    /// Per output index: the two input indices and their weights, in linear mode.
    ///
    /// PyTorch's linear modes (`half_pixel`, `align_corners`) copy when the size is unchanged and
    /// clamp negative coordinates to 0, like ATen's `compute_source_index_and_lambda`; for
    /// `half_pixel` that is the same as ONNX's edge padding.
    static func linearTaps(_ a: ResizeAttributes, dim d: Int, inSize n: Int, outSize m: Int) -> [LinearTap] {
        let given = scale(a, dim: d)
        let pytorch = a.coordinateTransform == .halfPixel || a.coordinateTransform == .alignCorners
        return (0..<m).map { o in
            if pytorch, m == n { return LinearTap(i0: o, i1: o, w0: 1, w1: 0) }
            var x = sourceCoordinate(a.coordinateTransform, o, inSize: n, outSize: m, scale: given)
            if !(x > 0) { x = 0 }  // also maps NaN to 0
            let i0 = min(Int(min(x, Double(n - 1))), n - 1)
            let w1 = min(max(x - Double(i0), 0), 1)
            return LinearTap(i0: i0, i1: i0 < n - 1 ? i0 + 1 : i0, w0: 1 - w1, w1: w1)
        }
    }

    /// ONNX's `coordinate_transformation_mode`, with `scale` the given scale or `out / in`.
    static func sourceCoordinate(_ t: ResizeAttributes.CoordinateTransform, _ o: Int, inSize n: Int, outSize m: Int,
                                 scale: Double?) -> Double {
        let s = scale ?? Double(m) / Double(n)
        switch t {
        case .halfPixel: return (Double(o) + 0.5) / s - 0.5
        case .pytorchHalfPixel: return m > 1 ? (Double(o) + 0.5) / s - 0.5 : 0
        case .alignCorners: return m > 1 ? Double(o) * Double(n - 1) / Double(m - 1) : 0
        case .asymmetric: return Double(o) / s
        }
    }

    /// ONNX's `nearest_mode`.
    static func round(_ x: Double, _ rounding: ResizeAttributes.NearestRounding) -> Double {
        switch rounding {
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .roundPreferFloor: return x == x.rounded(.down) + 0.5 ? x.rounded(.down) : x.rounded(.toNearestOrAwayFromZero)
        case .roundPreferCeil: return (x + 0.5).rounded(.down)
        }
    }

    /// An integral coordinate clamped into `0..<n` (NaN reads index 0).
    private static func clampIndex(_ x: Double, _ n: Int) -> Int {
        guard x > 0 else { return 0 }
        return Int(min(x, Double(n - 1)))
    }
}

/// One output position of a linear resize along one dim: `w0 * x[i0] + w1 * x[i1]`.
struct LinearTap: Equatable {
    var i0: Int
    var i1: Int
    var w0: Double
    var w1: Double
}
