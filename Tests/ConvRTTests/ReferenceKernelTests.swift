import Testing
@testable import ConvRT

// The reference kernels are the oracle, so they are checked against hand-computed numbers and
// against identities that an independent formulation must satisfy (adjoints, im2col, grouping).

// MARK: - Helpers

/// SplitMix64: a tiny deterministic PRNG so every run sees the same tensors.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(state: seed)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform() })
}

private func tensor(_ shape: [Int], _ data: [Float]) -> Tensor { Tensor(shape: shape, data: data) }

/// Elementwise `|a - b| <= tol * max(1, |b|)`, shapes equal.
private func expectClose(
    _ actual: Tensor, _ expected: Tensor, tol: Float = 1e-4, _ what: String = "",
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == expected.shape, "\(what) shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let worst = zip(actual.data, expected.data).enumerated().first { _, pair in
        !(abs(pair.0 - pair.1) <= tol * max(1, abs(pair.1)))
    }
    let detail = worst.map { "element \($0.offset): \($0.element.0) vs \($0.element.1)" } ?? ""
    #expect(worst == nil, "\(what) \(detail)", sourceLocation: sourceLocation)
}

/// `<a, b>` in Double, with `Σ|a_i b_i|` as the scale for a relative tolerance.
private func dot(_ a: Tensor, _ b: Tensor) -> (value: Double, scale: Double) {
    precondition(a.shape == b.shape)
    var (value, scale) = (0.0, 0.0)
    for (x, y) in zip(a.data, b.data) {
        value += Double(x) * Double(y)
        scale += abs(Double(x) * Double(y))
    }
    return (value, scale)
}

private func expectAdjoint(
    _ lhs: (value: Double, scale: Double), _ rhs: (value: Double, scale: Double), _ what: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let tol = 1e-5 * max(1, lhs.scale, rhs.scale)
    #expect(abs(lhs.value - rhs.value) <= tol, "\(what): \(lhs.value) vs \(rhs.value)", sourceLocation: sourceLocation)
}

/// Entries `range` of dim 1 of a `(N, C, ...)` tensor.
private func channels(_ t: Tensor, _ range: Range<Int>) -> Tensor {
    let inner = t.shape.dropFirst(2).reduce(1, *)
    var data: [Float] = []
    for n in 0..<t.shape[0] {
        let base = n * t.shape[1] * inner
        data += t.data[(base + range.lowerBound * inner)..<(base + range.upperBound * inner)]
    }
    return Tensor(shape: [t.shape[0], range.count] + t.shape.dropFirst(2), data: data)
}

/// Entries `range` of dim 0.
private func rows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
    let inner = t.shape.dropFirst().reduce(1, *)
    return Tensor(shape: [range.count] + t.shape.dropFirst(),
                  data: Array(t.data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
}

/// Concatenates `(N, C_i, ...)` tensors along dim 1.
private func concatChannels(_ parts: [Tensor]) -> Tensor {
    let first = parts[0]
    let inner = first.shape.dropFirst(2).reduce(1, *)
    var data: [Float] = []
    for n in 0..<first.shape[0] {
        for p in parts {
            let size = p.shape[1] * inner
            data += p.data[(n * size)..<((n + 1) * size)]
        }
    }
    let c = parts.map { $0.shape[1] }.reduce(0, +)
    return Tensor(shape: [first.shape[0], c] + first.shape.dropFirst(2), data: data)
}

/// One convolution configuration for the randomized grids.
struct RefConvCase: CustomStringConvertible, Sendable {
    var batch = 2
    var cin: Int
    var cout: Int
    var groups: Int
    var spatial: [Int]
    var kernel: [Int]
    var stride: [Int]
    var dilation: [Int]
    var padding: [Int]

    var description: String {
        "N\(batch) Cin\(cin) Cout\(cout) g\(groups) L\(spatial) k\(kernel) s\(stride) d\(dilation) p\(padding)"
    }
    /// A stable per-case seed (not `hashValue`, which changes between runs).
    var seed: UInt64 { description.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) } }
    var weightShape: [Int] { [cout, cin / groups] + kernel }
    var inputShape: [Int] { [batch, cin] + spatial }

    /// dims 1/2/3 x stride x dilation x padding x groups, plus depthwise with a multiplier.
    static let grid: [RefConvCase] = {
        var cases: [RefConvCase] = []
        for rank in 1...3 {
            let spatial = Array([5, 6, 7].suffix(rank))
            let kernel = Array([3, 2, 3].suffix(rank))
            for s in [1, 2, 3] {
                for d in [1, 2] {
                    for p in [0, 1, 3] {
                        for g in [1, 2] {
                            cases.append(RefConvCase(
                                cin: 2 * g, cout: 3 * g, groups: g, spatial: spatial, kernel: kernel,
                                stride: Array([s, max(1, s - 1), s].suffix(rank)),
                                dilation: Array([d, 1, d].suffix(rank)), padding: Array([p, 1, p].suffix(rank))))
                        }
                    }
                }
            }
            // Depthwise, channel multiplier 2, stride > kernel.
            cases.append(RefConvCase(
                cin: 3, cout: 6, groups: 3, spatial: spatial, kernel: Array([1, 2, 2].suffix(rank)),
                stride: Array([3, 3, 3].suffix(rank)), dilation: Array([1, 2, 1].suffix(rank)),
                padding: Array([0, 1, 0].suffix(rank))))
        }
        return cases
    }()
}

@Suite struct ReferenceKernelTests {
    // MARK: - pad

    @Test(arguments: [
        (ConvAttributes.PaddingMode.reflect, 2, 2, [Float]([3, 2, 1, 2, 3, 2, 1])),
        (.zeros, 1, 2, [0, 1, 2, 3, 0, 0]),
        (.replicate, 2, 1, [1, 1, 1, 2, 3, 3]),
        (.circular, 3, 2, [1, 2, 3, 1, 2, 3, 1, 2]),
        (.circular, 1, 0, [3, 1, 2, 3]),
        (.reflect, 0, 0, [1, 2, 3]),
    ])
    func pad1D(mode: ConvAttributes.PaddingMode, begin: Int, end: Int, expected: [Float]) {
        let y = ReferenceKernels.pad(tensor([1, 1, 3], [1, 2, 3]), begin: [begin], end: [end], mode: mode)
        #expect(y.shape == [1, 1, expected.count])
        #expect(y.data == expected)
    }

    @Test func pad2DReflectPerDim() {
        let x = tensor([1, 1, 2, 3], [1, 2, 3, 4, 5, 6])
        let y = ReferenceKernels.pad(x, begin: [1, 1], end: [1, 0], mode: .reflect)
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.data == [5, 4, 5, 6, 2, 1, 2, 3, 5, 4, 5, 6, 2, 1, 2, 3])
    }

    @Test func padKeepsBatchAndChannelPlanesApart() {
        let x = tensor([2, 1, 2], [1, 2, 3, 4])
        let y = ReferenceKernels.pad(x, begin: [1], end: [1], mode: .replicate)
        #expect(y.data == [1, 1, 2, 2, 3, 3, 4, 4])
    }

    /// Padding all dims at once equals padding one dim after another.
    @Test(arguments: ConvAttributes.PaddingMode.allCases)
    func pad3DIsSeparable(mode: ConvAttributes.PaddingMode) {
        let x = randomTensor([2, 3, 3, 4, 5], seed: 11)
        let (begin, end) = ([2, 0, 3], [1, 3, 4])
        let all = ReferenceKernels.pad(x, begin: begin, end: end, mode: mode)
        var stepwise = x
        for axis in 0..<3 {
            var (b, e) = ([0, 0, 0], [0, 0, 0])
            (b[axis], e[axis]) = (begin[axis], end[axis])
            stepwise = ReferenceKernels.pad(stepwise, begin: b, end: e, mode: mode)
        }
        #expect(all.shape == [2, 3, 6, 7, 12])
        #expect(all == stepwise)
    }

    // MARK: - conv, hand-computed

    @Test func conv1DPaddedWithBias() {
        let y = ReferenceKernels.conv(
            tensor([1, 1, 5], [1, 2, 3, 4, 5]), weight: tensor([1, 1, 3], [1, 0, -1]), bias: tensor([1], [0.5]),
            stride: [1], dilation: [1], padBegin: [1], padEnd: [1], groups: 1)
        #expect(y == tensor([1, 1, 5], [-1.5, -1.5, -1.5, -1.5, 4.5]))
    }

    @Test func conv1DStrideAndDilation() {
        let x = tensor([1, 1, 7], [1, 2, 3, 4, 5, 6, 7])
        let dilated = ReferenceKernels.conv(x, weight: tensor([1, 1, 2], [1, 2]), bias: nil,
                                            stride: [2], dilation: [2], padBegin: [0], padEnd: [0], groups: 1)
        #expect(dilated == tensor([1, 1, 3], [7, 13, 19]))
        // Stride 3 > kernel 2 skips inputs 3 and 6 entirely.
        let strided = ReferenceKernels.conv(x, weight: tensor([1, 1, 2], [1, 10]), bias: nil,
                                            stride: [3], dilation: [1], padBegin: [0], padEnd: [0], groups: 1)
        #expect(strided == tensor([1, 1, 2], [21, 54]))
    }

    @Test func conv2DValidAndSameEvenKernel() {
        let x = tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let valid = ReferenceKernels.conv(x, weight: w, bias: nil, stride: [1, 1], dilation: [1, 1],
                                          padBegin: [0, 0], padEnd: [0, 0], groups: 1)
        #expect(valid == tensor([1, 1, 2, 2], [37, 47, 67, 77]))
        // 'same' with k=2: total 1, the extra zero row/column at the end.
        let same = ReferenceKernels.conv(x, weight: w, bias: nil, stride: [1, 1], dilation: [1, 1],
                                         padBegin: [0, 0], padEnd: [1, 1], groups: 1)
        #expect(same == tensor([1, 1, 3, 3], [37, 47, 21, 67, 77, 33, 23, 26, 9]))
    }

    @Test func conv2DMultiChannelSumsOverInputChannels() {
        // Two input channels, two output channels, 1x1 spatial output.
        let x = tensor([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40])
        let w = tensor([2, 2, 2, 2], [1, 0, 0, 1, 1, 1, 1, 1,
                                      0, 0, 0, 0, -1, 0, 0, 0])
        let y = ReferenceKernels.conv(x, weight: w, bias: tensor([2], [0, 1]), stride: [1, 1], dilation: [1, 1],
                                      padBegin: [0, 0], padEnd: [0, 0], groups: 1)
        #expect(y == tensor([1, 2, 1, 1], [1 + 4 + 100, -10 + 1]))
    }

    @Test func conv1DDepthwiseWithBias() {
        let x = tensor([1, 2, 3], [1, 2, 3, 4, 5, 6])
        let y = ReferenceKernels.conv(x, weight: tensor([2, 1, 2], [1, 1, 1, -1]), bias: tensor([2], [0, 10]),
                                      stride: [1], dilation: [1], padBegin: [0], padEnd: [0], groups: 2)
        #expect(y == tensor([1, 2, 2], [3, 5, 9, 9]))
    }

    @Test func conv1DDepthwiseMultiplier() {
        // groups == Cin == 2, Cout == 4: output channels 0,1 read input 0; 2,3 read input 1.
        let x = tensor([1, 2, 2], [1, 2, 3, 4])
        let w = tensor([4, 1, 1], [1, 2, 3, 4])
        let y = ReferenceKernels.conv(x, weight: w, bias: nil, stride: [1], dilation: [1],
                                      padBegin: [0], padEnd: [0], groups: 2)
        #expect(y == tensor([1, 4, 2], [1, 2, 2, 4, 9, 12, 12, 16]))
    }

    // MARK: - conv, cross-checks

    /// (a) A grouped conv is the concatenation of per-group convs.
    @Test(arguments: RefConvCase.grid.filter { $0.groups > 1 })
    func convGroupsEqualConcatenatedGroups(_ c: RefConvCase) {
        let x = randomTensor(c.inputShape, seed: c.seed)
        let w = randomTensor(c.weightShape, seed: c.seed &+ 1)
        let b = randomTensor([c.cout], seed: c.seed &+ 2)
        let pads = c.padding
        let grouped = ReferenceKernels.conv(x, weight: w, bias: b, stride: c.stride, dilation: c.dilation,
                                            padBegin: pads, padEnd: pads, groups: c.groups)
        let (cinG, coutG) = (c.cin / c.groups, c.cout / c.groups)
        let parts = (0..<c.groups).map { g in
            ReferenceKernels.conv(
                channels(x, g * cinG..<(g + 1) * cinG), weight: rows(w, g * coutG..<(g + 1) * coutG),
                bias: rows(b, g * coutG..<(g + 1) * coutG), stride: c.stride, dilation: c.dilation,
                padBegin: pads, padEnd: pads, groups: 1)
        }
        expectClose(grouped, concatChannels(parts), "\(c)")
    }

    /// (b) `<conv(x), y> == <x, convTranspose(y)>` with the same weight and geometry.
    @Test(arguments: RefConvCase.grid)
    func convTransposeIsAdjointOfConv(_ c: RefConvCase) {
        let x = randomTensor(c.inputShape, seed: c.seed)
        let w = randomTensor(c.weightShape, seed: c.seed &+ 1)
        let cx = ReferenceKernels.conv(x, weight: w, bias: nil, stride: c.stride, dilation: c.dilation,
                                       padBegin: c.padding, padEnd: c.padding, groups: c.groups)
        let y = randomTensor(cx.shape, seed: c.seed &+ 3)
        // Weight (Cout, Cin/g, k) read as ConvTranspose's (Cin', Cout'/g, k); output_padding absorbs
        // the rows the strided conv never reached.
        let ty = ReferenceKernels.convTranspose(y, weight: w, bias: nil, stride: c.stride, dilation: c.dilation,
                                                padding: c.padding, groups: c.groups, outputSpatial: c.spatial)
        #expect(ty.shape == x.shape)
        expectAdjoint(dot(cx, y), dot(x, ty), "\(c)")
    }

    /// (f) Explicit zero padding followed by an unpadded conv equals conv with per-side padding.
    @Test(arguments: RefConvCase.grid)
    func convAsymmetricPaddingMatchesExplicitPad(_ c: RefConvCase) {
        let x = randomTensor(c.inputShape, seed: c.seed)
        let w = randomTensor(c.weightShape, seed: c.seed &+ 1)
        let b = randomTensor([c.cout], seed: c.seed &+ 2)
        let begin = c.padding
        let end = c.padding.enumerated().map { i, p in (p + i + 1) % 4 }
        let direct = ReferenceKernels.conv(x, weight: w, bias: b, stride: c.stride, dilation: c.dilation,
                                           padBegin: begin, padEnd: end, groups: c.groups)
        let padded = ReferenceKernels.pad(x, begin: begin, end: end, mode: .zeros)
        let zeros = [Int](repeating: 0, count: c.spatial.count)
        let viaPad = ReferenceKernels.conv(padded, weight: w, bias: b, stride: c.stride, dilation: c.dilation,
                                           padBegin: zeros, padEnd: zeros, groups: c.groups)
        expectClose(direct, viaPad, "\(c)")
    }

    /// conv2d (groups 1) equals `W (Cout, Cin·kh·kw) @ unfold(x) + b`, an independent im2col formulation.
    @Test(arguments: RefConvCase.grid.filter { $0.spatial.count == 2 && $0.groups == 1 })
    func conv2DMatchesUnfoldMatmul(_ c: RefConvCase) {
        let x = randomTensor(c.inputShape, seed: c.seed)
        let w = randomTensor(c.weightShape, seed: c.seed &+ 1)
        let b = randomTensor([c.cout], seed: c.seed &+ 2)
        let y = ReferenceKernels.conv(x, weight: w, bias: b, stride: c.stride, dilation: c.dilation,
                                      padBegin: c.padding, padEnd: c.padding, groups: 1)
        let cols = ReferenceKernels.unfold(x, window: SlidingWindow(
            kernelSize: c.kernel, dilation: c.dilation, padding: c.padding, stride: c.stride))
        let (r, l) = (cols.shape[1], cols.shape[2])
        var data: [Float] = []
        for n in 0..<c.batch {
            for o in 0..<c.cout {
                for j in 0..<l {
                    var sum = Double(b.data[o])
                    for i in 0..<r { sum += Double(w.data[o * r + i]) * Double(cols.data[(n * r + i) * l + j]) }
                    data.append(Float(sum))
                }
            }
        }
        expectClose(y, Tensor(shape: y.shape, data: data), "\(c)")
    }

    /// Spatial rank is only a view: conv1d equals conv3d over `(N, C, 1, 1, L)`.
    @Test func conv1DEqualsConv3DWithUnitDims() {
        let x = randomTensor([2, 4, 9], seed: 5)
        let w = randomTensor([6, 2, 3], seed: 6)
        let b = randomTensor([6], seed: 7)
        let y1 = ReferenceKernels.conv(x, weight: w, bias: b, stride: [2], dilation: [2],
                                       padBegin: [1], padEnd: [2], groups: 2)
        let y3 = ReferenceKernels.conv(x.reshaped([2, 4, 1, 1, 9]), weight: w.reshaped([6, 2, 1, 1, 3]), bias: b,
                                       stride: [1, 1, 2], dilation: [1, 1, 2], padBegin: [0, 0, 1],
                                       padEnd: [0, 0, 2], groups: 2)
        #expect(y3.reshaped(y1.shape) == y1)
    }

    // MARK: - convTranspose

    @Test func convTranspose1DScatterWithOutputPadding() {
        let x = tensor([1, 1, 2], [1, 2])
        let w = tensor([1, 1, 3], [1, 2, 3])
        // (2-1)*2 + 2 + 1 = 5, output_padding 1 adds a sixth element that gets only the bias.
        let y = ReferenceKernels.convTranspose(x, weight: w, bias: tensor([1], [0.5]), stride: [2], dilation: [1],
                                               padding: [0], groups: 1, outputSpatial: [6])
        #expect(y == tensor([1, 1, 6], [1.5, 2.5, 5.5, 4.5, 6.5, 0.5]))
        let cropped = ReferenceKernels.convTranspose(x, weight: w, bias: nil, stride: [2], dilation: [1],
                                                     padding: [1], groups: 1, outputSpatial: [3])
        #expect(cropped == tensor([1, 1, 3], [2, 5, 4]))
    }

    @Test func convTransposePaddingBeyondKernelExtent() {
        // padding 3 > d(k-1) = 2: out = 2*4 - 6 + 2 + 1 = 5; taps of inputs 0 and 2 fall outside.
        let y = ReferenceKernels.convTranspose(tensor([1, 1, 3], [1, 2, 3]), weight: tensor([1, 1, 3], [1, 2, 3]),
                                               bias: nil, stride: [4], dilation: [1], padding: [3], groups: 1,
                                               outputSpatial: [5])
        #expect(y == tensor([1, 1, 5], [0, 2, 4, 6, 0]))
    }

    @Test func convTransposeGroupsAndDilation() {
        // groups 2, one output channel per group, dilation 2: out = (2-1) + 2 + 1 = 4.
        let x = tensor([1, 2, 2], [1, 2, 3, 4])
        let w = tensor([2, 1, 2], [1, 1, 1, -1])
        let y = ReferenceKernels.convTranspose(x, weight: w, bias: tensor([2], [0, 100]), stride: [1], dilation: [2],
                                               padding: [0], groups: 2, outputSpatial: [4])
        #expect(y == tensor([1, 2, 4], [1, 2, 1, 2, 103, 104, 97, 96]))
    }

    @Test func convTranspose2DHand() {
        // 2x2 input, 2x2 kernel, stride 2: each input pixel stamps a scaled copy of the kernel.
        let x = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let w = tensor([1, 1, 2, 2], [1, 10, 100, 1000])
        let y = ReferenceKernels.convTranspose(x, weight: w, bias: nil, stride: [2, 2], dilation: [1, 1],
                                               padding: [0, 0], groups: 1, outputSpatial: [4, 4])
        #expect(y == tensor([1, 1, 4, 4], [1, 10, 2, 20,
                                           100, 1000, 200, 2000,
                                           3, 30, 4, 40,
                                           300, 3000, 400, 4000]))
    }

    /// convTranspose2d (groups 1) equals `fold(Wᵀ @ y)` + bias, including output_padding.
    @Test(arguments: RefConvCase.grid.filter { $0.spatial.count == 2 && $0.groups == 1 })
    func convTranspose2DMatchesFold(_ c: RefConvCase) {
        // Read the case as a ConvTranspose with Cin' = cout, Cout' = cin; its input is the conv's output.
        let w = randomTensor(c.weightShape, seed: c.seed &+ 1)
        let b = randomTensor([c.cin], seed: c.seed &+ 2)
        let inSpatial = (0..<2).map {
            ReferenceKernels.slidingCount(size: c.spatial[$0], padBegin: c.padding[$0], padEnd: c.padding[$0],
                                          kernel: c.kernel[$0], stride: c.stride[$0], dilation: c.dilation[$0])
        }
        let y = randomTensor([c.batch, c.cout] + inSpatial, seed: c.seed &+ 3)
        let t = ReferenceKernels.convTranspose(y, weight: w, bias: b, stride: c.stride, dilation: c.dilation,
                                               padding: c.padding, groups: 1, outputSpatial: c.spatial)
        let (taps, l) = (c.kernel.reduce(1, *), inSpatial.reduce(1, *))
        var cols: [Float] = []
        for n in 0..<c.batch {
            for row in 0..<(c.cin * taps) {
                for j in 0..<l {
                    var sum = 0.0
                    for ci in 0..<c.cout {
                        sum += Double(w.data[ci * c.cin * taps + row]) * Double(y.data[(n * c.cout + ci) * l + j])
                    }
                    cols.append(Float(sum))
                }
            }
        }
        let folded = ReferenceKernels.fold(
            Tensor(shape: [c.batch, c.cin * taps, l], data: cols), outputSize: c.spatial,
            window: SlidingWindow(kernelSize: c.kernel, dilation: c.dilation, padding: c.padding, stride: c.stride))
        let hw = c.spatial.reduce(1, *)
        let expected = folded.data.enumerated().map { i, v in v + b.data[(i / hw) % c.cin] }
        expectClose(t, Tensor(shape: folded.shape, data: expected), "\(c)")
    }

    @Test func convTranspose1DEqualsConvTranspose3DWithUnitDims() {
        let x = randomTensor([2, 4, 5], seed: 8)
        let w = randomTensor([4, 3, 3], seed: 9)
        let y1 = ReferenceKernels.convTranspose(x, weight: w, bias: nil, stride: [3], dilation: [2],
                                                padding: [2], groups: 2, outputSpatial: [15])
        let y3 = ReferenceKernels.convTranspose(x.reshaped([2, 4, 1, 1, 5]), weight: w.reshaped([4, 3, 1, 1, 3]),
                                                bias: nil, stride: [1, 1, 3], dilation: [1, 1, 2],
                                                padding: [0, 0, 2], groups: 2, outputSpatial: [1, 1, 15])
        #expect(y1.shape == [2, 6, 15])
        #expect(y3.reshaped(y1.shape) == y1)
    }

    // MARK: - unfold / fold

    @Test func unfoldHand() {
        let x = tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let y = ReferenceKernels.unfold(x, window: SlidingWindow(kernelSize: [2, 2]))
        #expect(y == tensor([1, 4, 4], [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]))
        // Padding 1, stride 2: blocks start at -1 and 1; padding taps read 0.
        let p = ReferenceKernels.unfold(x, window: SlidingWindow(kernelSize: [2, 2], padding: [1, 1], stride: [2, 2]))
        #expect(p == tensor([1, 4, 4], [0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9]))
    }

    @Test func unfoldRowOrderIsChannelMajor() {
        // Two channels, 1x2 kernel on a 1x3 image: rows c*2 + kj, two blocks.
        let x = tensor([1, 2, 1, 3], [1, 2, 3, 10, 20, 30])
        let y = ReferenceKernels.unfold(x, window: SlidingWindow(kernelSize: [1, 2]))
        #expect(y == tensor([1, 4, 2], [1, 2, 2, 3, 10, 20, 20, 30]))
    }

    @Test func foldHandSumsOverlaps() {
        let cols = tensor([1, 4, 4], [Float](repeating: 1, count: 16))
        let y = ReferenceKernels.fold(cols, outputSize: [3, 3], window: SlidingWindow(kernelSize: [2, 2]))
        #expect(y == tensor([1, 1, 3, 3], [1, 2, 1, 2, 4, 2, 1, 2, 1]))
    }

    static let foldWindows: [([Int], SlidingWindow)] = [
        ([5, 6], SlidingWindow(kernelSize: [2, 3])),
        ([5, 6], SlidingWindow(kernelSize: [3, 2], dilation: [2, 1], padding: [1, 2], stride: [1, 2])),
        ([7, 4], SlidingWindow(kernelSize: [2, 2], dilation: [1, 2], padding: [0, 1], stride: [3, 1])),
        ([4, 4], SlidingWindow(kernelSize: [1, 1], stride: [2, 3])),
        ([6, 5], SlidingWindow(kernelSize: [3, 3], dilation: [2, 2], padding: [2, 2], stride: [2, 2])),
    ]

    /// (c) `<unfold(x), y> == <x, fold(y)>`.
    @Test(arguments: foldWindows)
    func foldIsAdjointOfUnfold(size: [Int], window: SlidingWindow) {
        let x = randomTensor([2, 3] + size, seed: 21)
        let u = ReferenceKernels.unfold(x, window: window)
        let y = randomTensor(u.shape, seed: 22)
        let f = ReferenceKernels.fold(y, outputSize: size, window: window)
        #expect(f.shape == x.shape)
        expectAdjoint(dot(u, y), dot(x, f), "\(size) \(window)")
    }

    /// (d) `fold(unfold(x)) == divisor * x`, the divisor counted independently per dim.
    @Test(arguments: foldWindows)
    func foldOfUnfoldScalesByCoverage(size: [Int], window: SlidingWindow) {
        let x = randomTensor([2, 3] + size, seed: 23)
        let y = ReferenceKernels.fold(ReferenceKernels.unfold(x, window: window), outputSize: size, window: window)
        let cover = (0..<2).map { dim in coverage(size: size[dim], kernel: window.kernelSize[dim],
                                                  dilation: window.dilation[dim], padding: window.padding[dim],
                                                  stride: window.stride[dim]) }
        let hw = size[0] * size[1]
        let expected = x.data.enumerated().map { i, v in
            let (h, w) = ((i % hw) / size[1], i % size[1])
            return v * Float(cover[0][h] * cover[1][w])
        }
        expectClose(y, Tensor(shape: x.shape, data: expected))
    }

    /// How many (block, tap) pairs read each position of one dim.
    private func coverage(size: Int, kernel: Int, dilation: Int, padding: Int, stride: Int) -> [Int] {
        var count = [Int](repeating: 0, count: size)
        var block = 0
        while block * stride + dilation * (kernel - 1) <= size + 2 * padding - 1 {
            for tap in 0..<kernel {
                let i = block * stride - padding + tap * dilation
                if (0..<size).contains(i) { count[i] += 1 }
            }
            block += 1
        }
        return count
    }

    // MARK: - empty tensors

    @Test func emptyBatchGivesEmptyOutputs() {
        let x = Tensor(zeros: [0, 2, 5, 5])
        let conv = ReferenceKernels.conv(x, weight: Tensor(zeros: [4, 1, 3, 3]), bias: Tensor(zeros: [4]),
                                         stride: [2, 2], dilation: [1, 1], padBegin: [1, 1], padEnd: [1, 1], groups: 2)
        #expect(conv.shape == [0, 4, 3, 3])
        let convT = ReferenceKernels.convTranspose(x, weight: Tensor(zeros: [2, 3, 3, 3]), bias: Tensor(zeros: [3]),
                                                   stride: [2, 2], dilation: [1, 1], padding: [0, 0], groups: 1,
                                                   outputSpatial: [11, 11])
        #expect(convT.shape == [0, 3, 11, 11])
        #expect(ReferenceKernels.pad(x, begin: [1, 2], end: [0, 1], mode: .reflect).shape == [0, 2, 6, 8])
        let u = ReferenceKernels.unfold(x, window: SlidingWindow(kernelSize: [2, 2]))
        #expect(u.shape == [0, 8, 16])
        #expect(ReferenceKernels.fold(u, outputSize: [5, 5], window: SlidingWindow(kernelSize: [2, 2])).shape
                == [0, 2, 5, 5])
        #expect(ReferenceKernels.relu(x).shape == x.shape)
    }

    @Test func zeroInputChannelsGiveBiasOnly() {
        let x = Tensor(zeros: [2, 0, 4])
        let conv = ReferenceKernels.conv(x, weight: Tensor(zeros: [3, 0, 2]), bias: tensor([3], [1, 2, 3]),
                                         stride: [1], dilation: [1], padBegin: [0], padEnd: [0], groups: 1)
        #expect(conv == tensor([2, 3, 3], [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3]))
        let convT = ReferenceKernels.convTranspose(x, weight: Tensor(zeros: [0, 2, 2]), bias: tensor([2], [5, 6]),
                                                   stride: [1], dilation: [1], padding: [0], groups: 1,
                                                   outputSpatial: [5])
        #expect(convT == tensor([2, 2, 5], [5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6]))
    }

    @Test func zeroOutputChannelsGiveEmptyOutput() {
        let conv = ReferenceKernels.conv(randomTensor([2, 3, 4], seed: 1), weight: Tensor(zeros: [0, 3, 2]),
                                         bias: Tensor(zeros: [0]), stride: [1], dilation: [1],
                                         padBegin: [0], padEnd: [0], groups: 1)
        #expect(conv.shape == [2, 0, 3])
        let convT = ReferenceKernels.convTranspose(randomTensor([2, 3, 4], seed: 1), weight: Tensor(zeros: [3, 0, 2]),
                                                   bias: nil, stride: [1], dilation: [1], padding: [0], groups: 1,
                                                   outputSpatial: [5])
        #expect(convT.shape == [2, 0, 5])
    }

    // MARK: - elementwise

    @Test func reluAndAdd() {
        let a = tensor([1, 1, 4], [-1, 0, 2.5, .nan])
        let r = ReferenceKernels.relu(a)
        #expect(Array(r.data.prefix(3)) == [0, 0, 2.5])
        #expect(r.data[3].isNaN)
        let s = ReferenceKernels.add(tensor([2, 2], [1, 2, 3, 4]), tensor([2, 2], [10, 20, 30, 40]))
        #expect(s == tensor([2, 2], [11, 22, 33, 44]))
    }
}
