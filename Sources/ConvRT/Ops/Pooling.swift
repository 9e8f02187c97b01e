/// Shape functions of MaxPool/AvgPool 1d-3d (ONNX MaxPool, AveragePool), with PyTorch's checks.
///
/// PyTorch runs a different ATen entry point per kind and rank (`max_pool1d`, `avg_pool1d` on top
/// of `avg_pool2d`, `max_pool2d_with_indices`, `avg_pool2d`, `max_pool3d_with_indices`,
/// `avg_pool3d`), each with its own check order and wording; they are reproduced one by one.
/// ONNX's asymmetric pads generalise PyTorch's single `pad`: `padBegin` and `padEnd` are each
/// checked the way PyTorch checks `pad`, and the output size uses both (ATen's
/// `pooling_output_shape_pad_lr`).
struct PoolShapeFunction {
    var attributes: PoolAttributes
    var input: SymbolicShape

    private var a: PoolAttributes { attributes }
    private var isMax: Bool { a.kind == .max }

    /// Validates the input against the layer; returns the output shape.
    func infer() throws -> SymbolicShape {
        try checkDeclaration()
        switch (a.kind, a.spatialRank) {
        case (.max, 1): return try maxPool1d()
        case (.average, 1): return try avgPool1d()
        case (_, 2): return try pool2d()
        default: return try pool3d()
        }
    }

    /// What the IR itself must satisfy (the DSL guarantees it; a `.pb` may not).
    private func checkDeclaration() throws {
        guard (1...3).contains(a.spatialRank) else {
            throw ConvRTError("pooling needs 1, 2 or 3 spatial dims, but spatial_rank is \(a.spatialRank)")
        }
        for (name, list) in [("kernel_size", a.kernelSize), ("stride", a.stride), ("padding", a.padBegin),
                             ("padding", a.padEnd), ("dilation", a.dilation)] where list.count != a.spatialRank {
            throw ConvRTError("\(name) must have \(a.spatialRank) values, but got \(list.bracketed)")
        }
        if !isMax, a.dilation.contains(where: { $0 != 1 }) {
            throw ConvRTError("average pooling has no dilation, but got dilation=\(a.dilation.bracketed)")
        }
    }

    // MARK: - 1-D

    /// `max_pool1d`: its own checks, in its own words.
    private func maxPool1d() throws -> SymbolicShape {
        let r = input.count
        guard r == 2 || r == 3, !input.dropFirst(r == 3 ? 1 : 0).contains(.known(0)) else {
            throw ConvRTError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:\(input.rendered)")
        }
        let (k, s, d) = (a.kernelSize[0], a.stride[0], a.dilation[0])
        let pads = [a.padBegin[0], a.padEnd[0]]
        guard k > 0 else { throw ConvRTError("max_pool1d() kernel_size must be greater than zero, but got \(k)") }
        guard s > 0 else { throw ConvRTError("max_pool1d() stride must be greater than zero, but got \(s)") }
        if let p = pads.first(where: { $0 < 0 }) {
            throw ConvRTError("max_pool1d() padding must be non-negative, but got \(p)")
        }
        if let p = pads.first(where: { $0 > k / 2 }) {
            throw ConvRTError("max_pool1d() padding should be at most half of kernel size, but got padding=\(p) and kernel_size=\(k)")
        }
        guard d > 0 else { throw ConvRTError("max_pool1d() dilation must be greater than zero, but got \(d)") }
        let out = try outputLength(0)
        if let n = out.value, n <= 0 { throw ConvRTError("max_pool1d() Invalid computed output size: \(n)") }
        return input.dropLast() + [out]
    }

    /// `avg_pool1d`: a rank check, then `avg_pool2d` on the input with a unit height.
    private func avgPool1d() throws -> SymbolicShape {
        let r = input.count
        guard r == 2 || r == 3 else {
            throw ConvRTError("Expected 2 to 3 dimensions, but got \(r)-dimensional tensor for argument #1 'self' (while checking arguments for avg_pool1d)")
        }
        let lifted = PoolAttributes(
            kind: .average, spatialRank: 2, kernelSize: [1, a.kernelSize[0]], stride: [1, a.stride[0]],
            padBegin: [0, a.padBegin[0]], padEnd: [0, a.padEnd[0]], ceilMode: a.ceilMode,
            countIncludePad: a.countIncludePad, divisorOverride: a.divisorOverride)
        let out = try PoolShapeFunction(attributes: lifted, input: input.dropLast() + [.known(1)] + input.suffix(1)).pool2d()
        return out.dropLast(2) + out.suffix(1)
    }

    // MARK: - 2-D

    /// `max_pool2d_with_indices` / `avg_pool2d` and `pool2d_shape_check`.
    private func pool2d() throws -> SymbolicShape {
        let r = input.count
        if isMax {
            guard r == 3 || r == 4 else { throw ConvRTError("non-empty 3D or 4D (batch mode) tensor expected for input") }
        } else {
            try checkDivisor()
            // avg_pool2d reads input.size(-3) first: a smaller rank is an IndexError.
            guard r >= 3 else { throw Self.dimensionOutOfRange(rank: r, index: -3) }
        }
        let out = [try outputLength(0), try outputLength(1)]
        let (k, s, d) = (a.kernelSize, a.stride, a.dilation)
        guard k.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("kernel size should be greater than zero, but got kH: \(k[0]) kW: \(k[1])")
        }
        guard s.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("stride should be greater than zero, but got dH: \(s[0]) dW: \(s[1])")
        }
        guard d.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("dilation should be greater than zero, but got dilationH: \(d[0]) dilationW: \(d[1])")
        }
        let isZero = { (i: Int) in input[i] == .known(0) }
        let valid = !isZero(1) && !isZero(2)
        guard (r == 3 && !isZero(0) && valid) || (r == 4 && valid && !isZero(3)) else {
            throw ConvRTError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:\(input.rendered)")
        }
        let p = largestPads
        guard k[1] / 2 >= p[1], k[0] / 2 >= p[0] else {
            throw ConvRTError("pad should be smaller than or equal to half of kernel size, but got padW = \(p[1]), padH = \(p[0]), kW = \(k[1]), kH = \(k[0])")
        }
        try checkOutputNotEmpty(out)
        return input.dropLast(2) + out
    }

    // MARK: - 3-D

    /// `max_pool3d_with_indices` / `avg_pool3d` and `pool3d_shape_check`.
    private func pool3d() throws -> SymbolicShape {
        let r = input.count
        guard r == 4 || r == 5 else { throw ConvRTError("non-empty 4D or 5D (batch mode) tensor expected for input") }
        if !isMax { try checkDivisor() }
        let out = [try outputLength(0), try outputLength(1), try outputLength(2)]
        let (k, s, d) = (a.kernelSize, a.stride, a.dilation)
        guard k.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("kernel size should be greater than zero, but got kT: \(k[0]) kH: \(k[1]) kW: \(k[2])")
        }
        guard s.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("stride should be greater than zero, but got dT: \(s[0]) dH: \(s[1]) dW: \(s[2])")
        }
        guard d.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("dilation should be greater than zero, but got dilationT: \(d[0]) dilationH: \(d[1]) dilationW: \(d[2])")
        }
        let function = isMax ? "max_pool3d_with_indices_out_cpu_template()" : "avg_pool3d()"
        if let i = ((r == 5 ? 1 : 0)..<r).first(where: { input[$0] == .known(0) }) {
            throw ConvRTError("\(function): Expected input to have non-zero size for non-batch dimensions, but input has sizes \(input.rendered) with dimension \(i) being empty")
        }
        if !isMax, let size = input.suffix(3).concrete, zip(size, k).contains(where: { $0 < $1 }) {
            throw ConvRTError("input image (T: \(size[0]) H: \(size[1]) W: \(size[2])) smaller than kernel size (kT: \(k[0]) kH: \(k[1]) kW: \(k[2]))")
        }
        let p = largestPads
        guard k[0] / 2 >= p[0], k[2] / 2 >= p[2], k[1] / 2 >= p[1] else {
            throw ConvRTError("pad should be smaller than or equal to half of kernel size, but got kT: \(k[0]) kW: \(k[2]) kH: \(k[1]) padT: \(p[0]) padW: \(p[2]) padH: \(p[1])")
        }
        try checkOutputNotEmpty(out)
        return input.dropLast(3) + out
    }

    // MARK: - Shared

    private func checkDivisor() throws {
        if a.divisorOverride == 0 { throw ConvRTError("divisor must be not zero") }
    }

    /// Per dim, the larger of the two pads (PyTorch has one; ONNX may give two).
    private var largestPads: [Int] { zip(a.padBegin, a.padEnd).map { max($0, $1) } }

    /// ATen's `pooling_output_shape` for spatial dim `i`: its checks, then the size (symbolic
    /// when the input dim is).
    private func outputLength(_ i: Int) throws -> Dim {
        let (k, s, d) = (a.kernelSize[i], a.stride[i], isMax ? a.dilation[i] : 1)
        let (pb, pe) = (a.padBegin[i], a.padEnd[i])
        guard s != 0 else { throw ConvRTError("stride should not be zero") }
        if let p = [pb, pe].first(where: { $0 < 0 }) { throw ConvRTError("pad must be non-negative, but got pad: \(p)") }
        if let p = [pb, pe].first(where: { $0 > ((k - 1) * d + 1) / 2 }) {
            throw ConvRTError("pad should be at most half of effective kernel size, but got pad=\(p), kernel_size=\(k) and dilation=\(d)")
        }
        let dim = input[input.count - a.spatialRank + i]
        let offset = pb + pe - d * (k - 1) - 1 + (a.ceilMode ? s - 1 : 0)
        switch dim {
        case .known(let size):
            return .known(Self.outputLength(size: size, kernel: k, padBegin: pb, padEnd: pe, stride: s, dilation: d, ceilMode: a.ceilMode))
        case .symbol(let name):
            let expression = SymbolicArithmetic.slidingLength(name, numeratorOffset: offset, stride: s)
            return .symbol(a.ceilMode ? "ceil(\(expression))" : expression)
        }
    }

    /// ATen's `pooling_output_shape_pad_lr`: in ceil mode the last window must start inside the
    /// input or its left padding. The same rule sizes the windows of every kernel.
    static func outputLength(size: Int, kernel k: Int, padBegin pb: Int, padEnd pe: Int, stride s: Int,
                             dilation d: Int, ceilMode: Bool) -> Int {
        var out = ConvGeometry.floorDiv(size + pb + pe - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0), s) + 1
        if ceilMode, (out - 1) * s >= size + pb { out -= 1 }
        return out
    }

    /// "Given input size: (2x5x5). Calculated output size: (2x0x0). Output size is too small".
    private func checkOutputNotEmpty(_ out: SymbolicShape) throws {
        guard out.contains(where: { ($0.value ?? 1) < 1 }) else { return }
        let planes = input[input.count - a.spatialRank - 1]
        let inSizes = ([planes] + input.suffix(a.spatialRank)).map(\.description).joined(separator: "x")
        let outSizes = ([planes] + out).map(\.description).joined(separator: "x")
        throw ConvRTError("Given input size: (\(inSizes)). Calculated output size: (\(outSizes)). Output size is too small")
    }

    /// Python's IndexError for `size(index)` on a tensor of rank `rank`.
    static func dimensionOutOfRange(rank: Int, index: Int) -> ConvRTError {
        let n = max(rank, 1)
        return ConvRTError("Dimension out of range (expected to be in range of [-\(n), \(n - 1)], but got \(index))")
    }
}

/// Shape functions of AdaptiveAvgPool/AdaptiveMaxPool 1d-3d (ONNX GlobalAveragePool/GlobalMaxPool
/// are the all-ones case), with PyTorch's checks.
///
/// AdaptiveAvgPool2d/3d with an all-ones output is a mean over the trailing dims in PyTorch
/// (`input.mean`), which skips the rank and emptiness checks: any rank with enough dims works,
/// and an empty plane gives NaN. That path is reproduced.
struct AdaptivePoolShapeFunction {
    var attributes: AdaptivePoolAttributes
    var input: SymbolicShape

    private var a: AdaptivePoolAttributes { attributes }
    private var n: Int { a.spatialRank }
    private var r: Int { input.count }

    /// Returns the attributes with `None` entries resolved where the input dim is known, and the output shape.
    func infer() throws -> (AdaptivePoolAttributes, SymbolicShape) {
        guard (1...3).contains(n), a.outputSize.count == n else {
            throw ConvRTError("output_size must have \(n) values, but got \(a.outputSize.count)")
        }
        if a.outputSize.contains(nil), r <= n {
            throw ConvRTError("Input dimension should be at least \(n + 1)")
        }
        let spatial = input.suffix(n)
        let out: SymbolicShape = zip(a.outputSize, spatial).map { size, dim in size.map(Dim.known) ?? dim }
        var resolved = a
        resolved.outputSize = out.map(\.value)
        let shape = a.kind == .average ? try average(out) : try maximum(out)
        return (resolved, shape)
    }

    private func average(_ out: SymbolicShape) throws -> SymbolicShape {
        let name = "adaptive_avg_pool\(n)d"
        if n == 1 {
            guard r == 2 || r == 3 else { throw rankRange(name) }
            let unsqueezed: SymbolicShape = input.dropLast() + [.known(1)] + input.suffix(1)
            return try AdaptivePoolShapeFunction(
                attributes: AdaptivePoolAttributes(kind: .average, spatialRank: 2, outputSize: [1] + a.outputSize),
                input: unsqueezed
            ).average([.known(1)] + out).dropLast(2) + out
        }
        let values = out.map { $0.value ?? 1 }
        if values.contains(where: { $0 < 0 }) {
            let list = n == 2 ? "\(values[0]), \(values[1])" : "\(values[0]), \(values[1]),\(values[2])"
            throw ConvRTError("adaptive_avg_pool\(n)d: elements of output_size must be greater than or equal to 0 but received {\(list)}")
        }
        if out.allSatisfy({ $0 == .known(1) }) {
            // `input.mean(dims, keepdim=True)`: no rank or emptiness check, NaN for an empty plane.
            guard r >= n else { throw PoolShapeFunction.dimensionOutOfRange(rank: r, index: -n) }
            return input.dropLast(n) + out
        }
        guard r == n + 1 || r == n + 2 else {
            throw ConvRTError("\(name)(): Expected \(n + 1)D or \(n + 2)D tensor, but got \(input.rendered)")
        }
        let checked = n == 2 ? Array(r - 2..<r) : Array(1..<r)
        try checkNonEmpty(name, dims: checked)
        return input.dropLast(n) + out
    }

    private func maximum(_ out: SymbolicShape) throws -> SymbolicShape {
        let name = "adaptive_max_pool\(n)d"
        if n == 1 {
            guard r == 2 || r == 3 else { throw rankRange(name) }
        } else {
            guard r == n + 1 || r == n + 2 else {
                throw ConvRTError("\(name)(): Expected \(n + 1)D or \(n + 2)D tensor, but got: \(input.rendered)")
            }
        }
        try checkNonEmpty(name, dims: Array(1..<r))
        let shape = input.dropLast(n) + (n == 1 ? [.known(1)] : []) + out
        if let negative = out.compactMap(\.value).first(where: { $0 < 0 }) {
            throw ConvRTError("Trying to create tensor with negative dimension \(negative): \(shape.rendered)")
        }
        return input.dropLast(n) + out
    }

    private func rankRange(_ name: String) -> ConvRTError {
        ConvRTError("Expected 2 to 3 dimensions, but got \(r)-dimensional tensor for argument #1 'self' (while checking arguments for \(name))")
    }

    private func checkNonEmpty(_ name: String, dims: [Int]) throws {
        if let i = dims.first(where: { input[$0] == .known(0) }) {
            throw ConvRTError("\(name)(): Expected input to have non-zero size for non-batch dimensions, but input has sizes \(input.rendered) with dimension \(i) being empty")
        }
    }

    /// PyTorch's adaptive window of output cell `o` along a dim: `[floor(o*in/out), ceil((o+1)*in/out))`.
    static func window(_ o: Int, inSize: Int, outSize: Int) -> Range<Int> {
        let start = (o * inSize) / outSize
        let end = ((o + 1) * inSize + outSize - 1) / outSize
        return start..<max(start, end)
    }
}
