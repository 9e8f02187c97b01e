/// Validation and shape functions for Conv/ConvTranspose (1-3 spatial dims, Lazy or not).
///
/// Checks run in PyTorch's order (module constructor, then the first forward) and
/// reuse its wording, so a configuration PyTorch rejects fails here with the same text.
extension ConvAttributes {
    /// The name ATen uses in rank errors: `conv2d`, `conv_transpose3d`, or the Lazy module's class name.
    var functionName: String {
        if isLazy { return displayName }
        return (transposed ? "conv_transpose" : "conv") + "\(spatialRank)d"
    }

    /// Checks PyTorch's module constructor makes (for a Lazy layer: once `inChannels` is known).
    func validateDeclaration() throws {
        for (name, list) in [("kernel_size", kernelSize), ("stride", stride), ("dilation", dilation),
                             ("output_padding", outputPadding)] {
            try checkListLength(name, list)
        }
        if case .explicit(let p) = padding { try checkListLength("padding", p) }
        guard groups > 0 else { throw ConvRTError("groups must be a positive integer") }
        if let inChannels {
            guard inChannels >= 0 else { throw ConvRTError("in_channels must be non-negative, but got \(inChannels)") }
            guard inChannels % groups == 0 else { throw ConvRTError("in_channels must be divisible by groups") }
        }
        guard outChannels >= 0 else { throw ConvRTError("out_channels must be non-negative, but got \(outChannels)") }
        // A Lazy module is built with out_channels=0, so PyTorch checks this only at forward (see ConvShapeFunction).
        guard isLazy || outChannels % groups == 0 else { throw ConvRTError("out_channels must be divisible by groups") }
        if transposed {
            try validateTransposedDeclaration()
        } else if padding == .same, stride.contains(where: { $0 != 1 }) {
            throw ConvRTError("padding='same' is not supported for strided convolutions")
        }
    }

    private func validateTransposedDeclaration() throws {
        guard paddingMode == .zeros else {
            throw ConvRTError("Only \"zeros\" padding mode is supported for \(displayName)")
        }
        switch padding {
        case .same: throw ConvRTError("padding='same' is not supported for \(displayName)")
        case .valid: throw ConvRTError("padding='valid' is not supported for \(displayName)")
        case .explicit: break
        }
    }

    private func checkListLength(_ name: String, _ list: [Int]) throws {
        guard list.count == spatialRank else {
            throw ConvRTError("expected \(name) to be a single integer value or a list of \(spatialRank) values to match the convolution dimensions, but got \(name)=\(list.bracketed)")
        }
    }

    /// Per-dim padding before and after each spatial dim (non-transposed convs).
    var padBeginEnd: (begin: [Int], end: [Int]) {
        switch padding {
        case .valid:
            let zeros = [Int](repeating: 0, count: spatialRank)
            return (zeros, zeros)
        case .explicit(let p):
            return (p, p)
        case .same:
            let split = zip(kernelSize, dilation).map { ConvGeometry.samePadding(kernel: $0, dilation: $1) }
            return (split.map(\.begin), split.map(\.end))
        }
    }

    /// Symmetric padding of a transposed conv (declaration checks guarantee `.explicit`).
    var transposedPadding: [Int] {
        if case .explicit(let p) = padding { return p }
        return [Int](repeating: 0, count: spatialRank)
    }

    /// PyTorch's weight shape: Conv `(out, in/groups, *k)`, ConvTranspose `(in, out/groups, *k)`.
    func weightShape(inChannels c: Int) -> [Int] {
        let g = max(groups, 1)
        return (transposed ? [c, outChannels / g] : [outChannels, c / g]) + kernelSize
    }

    /// `weight.size(1) * prod(k)`, the fan-in PyTorch's default init uses.
    func fanIn(inChannels c: Int) -> Int {
        weightShape(inChannels: c)[1] * kernelSize.reduce(1, *)
    }
}

/// The forward-time checks and output shape of one convolution.
struct ConvShapeFunction {
    var attributes: ConvAttributes
    var input: SymbolicShape

    private var rank: Int { attributes.spatialRank }
    private var isBatched: Bool { input.count == rank + 2 }
    private var spatial: SymbolicShape { Array(input.suffix(rank)) }
    /// The shape ATen prints in messages: unbatched inputs are shown with the batch dim it adds.
    private var batchedForMessages: String { (isBatched ? input : [.known(1)] + input).rendered }

    /// Validates the input against the layer; returns the attributes (Lazy channels resolved) and output shape.
    func infer() throws -> (attributes: ConvAttributes, output: SymbolicShape) {
        var a = attributes
        try checkRank()
        let channelDim = input[isBatched ? 1 : 0]
        guard let channels = channelDim.value else {
            throw ConvRTError("the input's channel dimension must be known when the model is compiled, but it is '\(channelDim)'")
        }
        if a.inChannels == nil { a.inChannels = channels }
        try a.validateDeclaration()
        try checkPaddingMode()
        try checkSigns()
        let inChannels = a.inChannels ?? channels
        let weight = a.weightShape(inChannels: inChannels)
        try Limits.checkElements(weight, "weight")
        try checkWeightAgainstGroups(weight, &a)
        let expectedChannels = a.transposed ? weight[0] : weight[1] * a.groups
        guard channels == expectedChannels else {
            let prefix = a.transposed ? "Given transposed=1" : "Given groups=\(a.groups)"
            throw ConvRTError("\(prefix), weight of size \(weight.bracketed), expected input\(batchedForMessages) to have \(expectedChannels) channels, but got \(channels) channels instead")
        }
        let outSpatial = a.transposed ? try transposedSpatial() : try convSpatial()
        try checkKernelSize()
        try checkEmptyInput(weight: weight)
        // ATen's calc_output_size: a convolution of a 0-channel input has 0 output channels.
        let outChannels = !a.transposed && channels == 0 ? 0 : a.outChannels
        let leading: SymbolicShape = isBatched ? [input[0], .known(outChannels)] : [.known(outChannels)]
        return (a, leading + outSpatial)
    }

    private func checkRank() throws {
        guard input.count == rank + 1 || input.count == rank + 2 else {
            // The Lazy module checks in Python and prints a torch.Size.
            let size = attributes.isLazy ? "torch.Size(\(input.rendered))" : input.rendered
            throw ConvRTError("Expected \(rank + 1)D (unbatched) or \(rank + 2)D (batched) input to \(attributes.functionName), but got input of size: \(size)")
        }
    }

    /// ATen's weight checks. Eager modules cannot fail the divisibility one (their constructor
    /// checks it), Lazy ones can. A Lazy ConvTranspose whose out_channels is not a multiple of
    /// groups fails on its bias, or without a bias silently yields `(out/groups)*groups` channels.
    private func checkWeightAgainstGroups(_ weight: [Int], _ a: inout ConvAttributes) throws {
        let g = a.groups
        guard weight[0] >= g else {
            throw ConvRTError("Given groups=\(g), expected weight to be at least \(g) at dimension 0, but got weight of size \(weight.bracketed) instead")
        }
        guard weight[0] % g == 0 else {
            throw ConvRTError("Given groups=\(g), expected weight to be divisible by \(g) at dimension 0, but got weight of size [\(weight.bracketed)] instead")
        }
        if a.transposed, a.outChannels % g != 0 {
            let produced = weight[1] * g
            guard !a.hasBias else {
                throw ConvRTError("Given transposed=1, weight of size \(weight.bracketed), expected bias to be 1-dimensional with \(produced) elements, but got bias of size [\(a.outChannels)] instead")
            }
            a.outChannels = produced
        }
    }

    /// `F.pad` runs before the convolution for non-zero padding modes, so its limits come first.
    private func checkPaddingMode() throws {
        let mode = attributes.paddingMode
        guard mode != .zeros, !attributes.transposed else { return }
        // ATen's reflection/replication pad kernels take no empty dims but the batch.
        if mode != .circular, input.dropFirst(isBatched ? 1 : 0).contains(where: { $0.value == 0 }) {
            throw ConvRTError("Expected \(rank + 1)D or \(rank + 2)D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(input.rendered)")
        }
        guard mode == .reflect || mode == .circular else { return }
        let (begin, end) = attributes.padBeginEnd
        // F.pad checks the last dim first.
        for d in (0..<rank).reversed() {
            guard let size = spatial[d].value, begin[d] >= 0, end[d] >= 0 else { continue }
            if mode == .reflect, begin[d] >= size || end[d] >= size {
                let dim = input.count - rank + d
                // F.pad numbers its pad arguments from the last dim: #4, #6, #8.
                let argument = 2 * (input.count - dim) + 2
                throw ConvRTError("Argument #\(argument): Padding size should be less than the corresponding input dimension, but got: padding (\(begin[d]), \(end[d])) at dimension \(dim) of input \(input.rendered)")
            }
            if mode == .circular, begin[d] > size || end[d] > size {
                throw ConvRTError("Padding value causes wrapping around more than once.")
            }
        }
    }

    private func checkSigns() throws {
        let a = attributes
        // With reflect/replicate/circular, PyTorch's F.pad crops on negative padding instead.
        if case .explicit(let p) = a.padding, p.contains(where: { $0 < 0 }), a.paddingMode == .zeros || a.transposed {
            throw ConvRTError("negative padding is not supported")
        }
        if a.transposed, a.outputPadding.contains(where: { $0 < 0 }), a.outputSize == nil {
            throw ConvRTError("negative output_padding is not supported")
        }
        if a.stride.contains(where: { $0 <= 0 }) { throw ConvRTError("non-positive stride is not supported") }
        if a.dilation.contains(where: { $0 <= 0 }) {
            let got = a.transposed ? Self.namedDims(atenDims(a.dilation, fill: 1), "dilation", separator: ", ")
                                   : atenDims(a.dilation, fill: 1).bracketed
            throw ConvRTError("dilation should be greater than zero, but got \(got)")
        }
    }

    /// ATen runs empty inputs only when the batch or the channels are empty, and a transposed
    /// convolution needs a non-empty weight.
    private func checkEmptyInput(weight: [Int]) throws {
        let batched = (isBatched ? input : [.known(1)] + input)
        guard let sizes = batched.concrete else { return }
        if sizes[0] != 0, sizes[1] != 0, sizes.dropFirst(2).contains(0) {
            throw ConvRTError("Only zero batch or zero channel inputs are supported, but got input shape: \(sizes.bracketed)")
        }
        if attributes.transposed, !sizes.contains(0), weight.contains(0) {
            if rank == 3 {
                throw ConvRTError("non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x kernel_width) tensor expected for weight, but got: \(weight.bracketed)")
            }
            let as2D = rank == 1 ? [weight[0], weight[1], 1] + weight.dropFirst(2) : weight
            throw ConvRTError("non-empty 2D or 4D weight tensor expected, but got: \(as2D.bracketed)")
        }
    }

    /// Run by ATen's backend after the generic checks, so it comes last.
    private func checkKernelSize() throws {
        let a = attributes
        if a.kernelSize.contains(where: { $0 <= 0 }) {
            let got = rank == 3 && !a.transposed
                ? ": " + a.kernelSize.map(String.init).joined(separator: " x ") + " (TxHxW)"
                : " " + Self.namedDims(atenDims(a.kernelSize, fill: 1), "kernel")
            throw ConvRTError("kernel size should be greater than zero, but got\(got)")
        }
    }

    /// ATen runs 1-D convolutions as 2-D ones with a unit height, and words its messages so.
    private func atenDims(_ values: [Int], fill: Int) -> [Int] {
        rank == 1 ? [fill] + values : values
    }

    /// `kernel_height: 0 kernel_width: 3`, with depth for 3-D.
    static func namedDims(_ values: [Int], _ prefix: String, separator: String = " ") -> String {
        let names = ["depth", "height", "width"].suffix(values.count)
        return zip(names, values).map { "\(prefix)_\($0): \($1)" }.joined(separator: separator)
    }

    private func convSpatial() throws -> SymbolicShape {
        let a = attributes
        let (begin, end) = a.padBeginEnd
        var padded: [Int] = [], extents: [Int] = [], out: SymbolicShape = []
        for d in 0..<rank {
            let extent = ConvGeometry.dilatedExtent(kernel: a.kernelSize[d], dilation: a.dilation[d])
            switch spatial[d] {
            case .known(let l):
                padded.append(l + begin[d] + end[d])
                extents.append(extent)
                out.append(.known(ConvGeometry.convOutputLength(
                    input: l, kernel: a.kernelSize[d], stride: a.stride[d], dilation: a.dilation[d],
                    padBegin: begin[d], padEnd: end[d])))
            case .symbol(let s):
                out.append(.symbol(SymbolicArithmetic.slidingLength(
                    s, numeratorOffset: begin[d] + end[d] - extent, stride: a.stride[d])))
            }
        }
        if zip(padded, extents).contains(where: { $0 < $1 }) {
            let p = padded.map(String.init).joined(separator: " x ")
            let k = extents.map(String.init).joined(separator: " x ")
            throw ConvRTError("Calculated padded input size per channel: (\(p)). Kernel size: (\(k)). Kernel size can't be greater than actual input size")
        }
        return out
    }

    private func transposedSpatial() throws -> SymbolicShape {
        let a = attributes
        // With symbolic spatial dims the requested size is the output; it is range-checked once bound.
        if let requested = try requestedOutputSize(), spatial.concrete == nil {
            return requested.map(Dim.known)
        }
        let outputPadding = try resolvedOutputPadding()
        let p = a.transposedPadding
        let valid = zip(outputPadding, zip(a.stride, a.dilation)).allSatisfy { op, sd in op < sd.0 || op < sd.1 }
        guard valid else {
            let parts = [Self.namedDims(atenDims(outputPadding, fill: 0), "output_padding"),
                         Self.namedDims(atenDims(a.stride, fill: 1), "stride"),
                         Self.namedDims(atenDims(a.dilation, fill: 1), "dilation")]
            throw ConvRTError("output padding must be smaller than either stride or dilation, but got \(parts.joined(separator: " "))")
        }
        var out: SymbolicShape = []
        for d in 0..<rank {
            switch spatial[d] {
            case .known(let l):
                out.append(.known(ConvGeometry.transposedOutputLength(
                    input: l, kernel: a.kernelSize[d], stride: a.stride[d], dilation: a.dilation[d],
                    padding: p[d], outputPadding: outputPadding[d])))
            case .symbol(let s):
                let c = -a.stride[d] - 2 * p[d] + a.dilation[d] * (a.kernelSize[d] - 1) + outputPadding[d] + 1
                out.append(.symbol(SymbolicArithmetic.scaled(s, by: a.stride[d], plus: c)))
            }
        }
        let known = out.compactMap(\.value)
        if known.count == rank, known.contains(where: { $0 < 1 }) {
            let inSizes = atenDims(spatial.compactMap(\.value), fill: 1).map(String.init).joined(separator: " x ")
            let outSizes = atenDims(known, fill: 1).map(String.init).joined(separator: " x ")
            throw ConvRTError("Given input size per channel: (\(inSizes)). Calculated output size per channel: (\(outSizes)). Output size is too small")
        }
        return out
    }

    /// The spatial part of `output_size` (PyTorch accepts spatial dims or all dims), if given.
    private func requestedOutputSize() throws -> [Int]? {
        guard var requested = attributes.outputSize else { return nil }
        let nonSpatial = isBatched ? 2 : 1
        if requested.count == nonSpatial + rank { requested.removeFirst(nonSpatial) }
        guard requested.count == rank else {
            throw ConvRTError("ConvTranspose\(rank)D: for \(input.count)D input, output_size must have \(rank) or \(nonSpatial + rank) elements (got \(attributes.outputSize?.count ?? 0))")
        }
        return requested
    }

    /// PyTorch's `_output_padding`: `output_size` becomes output_padding after a range check.
    private func resolvedOutputPadding() throws -> [Int] {
        let a = attributes
        guard let requested = try requestedOutputSize(), let sizes = spatial.concrete else { return a.outputPadding }
        let p = a.transposedPadding
        let minSizes = (0..<rank).map { d in
            ConvGeometry.transposedOutputLength(input: sizes[d], kernel: a.kernelSize[d], stride: a.stride[d],
                                                dilation: a.dilation[d], padding: p[d], outputPadding: 0)
        }
        let maxSizes = zip(minSizes, a.stride).map { $0 + $1 - 1 }
        for d in 0..<rank where requested[d] < minSizes[d] || requested[d] > maxSizes[d] {
            let inputSize = Array(input.dropFirst(2)).rendered
            throw ConvRTError("requested an output size of \(requested.bracketed), but valid sizes range from \(minSizes.bracketed) to \(maxSizes.bracketed) (for an input of torch.Size(\(inputSize)))")
        }
        return zip(requested, minSizes).map { $0 - $1 }
    }
}
