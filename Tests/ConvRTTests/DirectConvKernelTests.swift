import CKernels
import Testing
@testable import ConvRT

/// The direct depthwise / narrow grouped kernels (`DepthwiseConv`, `convrt_direct.h`) against
/// the reference convolution: every vector remainder of the output width, channel tiles of
/// 1..4 plus remainders, kernel sizes, strides (phase-split rows), dilations, paddings wider
/// than half the kernel, 1/2/3-D, batches, every epilogue, every ISA this CPU runs, and
/// bit-identical results for any thread count (row bands).
@Suite struct DirectConvKernelTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rank: Int, batch: Int, groups: Int, inPerGroup: Int, outPerGroup: Int
        var size: [Int], k: [Int], stride: [Int], dilation: [Int], padBegin: [Int], padEnd: [Int]
        var pre: Activation? = nil, residual = false, post: Activation? = nil, bias = true
        /// Forces a kernel (`.channelBlocks`' width is the ISA's); nil leaves the row bands.
        var kernel: DepthwiseConv.Kernel? = nil

        var testDescription: String {
            "\(rank)d n\(batch) g\(groups) \(inPerGroup)->\(outPerGroup)/g in\(size) k\(k) s\(stride) d\(dilation) p\(padBegin)/\(padEnd)"
                + " \(pre.map { "\($0)" } ?? "-")\(residual ? " +res" : "") \(post.map { "\($0)" } ?? "-")"
                + (kernel.map { " \($0)" } ?? "")
        }

        var attributes: ConvAttributes {
            ConvAttributes(spatialRank: rank, inChannels: groups * inPerGroup, outChannels: groups * outPerGroup,
                           kernelSize: k, stride: stride, padding: .explicit(padBegin), dilation: dilation,
                           groups: groups, hasBias: bias)
        }
        var epilogue: Epilogue { Epilogue(preActivation: pre, residualInput: residual ? 1 : nil, postActivation: post) }
    }

    /// Deterministic pseudo-random floats in [-1, 1).
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in 2 * rng.nextUnitFloat() - 1 }
    }

    /// What the kernel must produce: the reference conv, then the epilogue in Swift.
    static func expected(_ c: Case, x: Tensor, weight: Tensor, bias: Tensor?, residual: [Float]) -> Tensor {
        var y = ReferenceKernels.conv(x, weight: weight, bias: bias, stride: c.stride, dilation: c.dilation,
                                      padBegin: c.padBegin, padEnd: c.padEnd, groups: c.groups)
        for i in y.data.indices {
            var v = y.data[i]
            if let p = c.pre { v = p.apply(v) }
            if c.residual { v += residual[i] }
            if let q = c.post { v = q.apply(v) }
            y.data[i] = v
        }
        return y
    }

    /// Runs the kernel for `c` on `isa` with `threads` threads; returns (actual, expected).
    static func run(_ c: Case, isa: SGEMM.ISA, threads: Int) -> (Tensor, Tensor) {
        let a = c.attributes
        let xShape = [c.batch, c.groups * c.inPerGroup] + c.size
        let x = Tensor(shape: xShape, data: random(xShape.reduce(1, *), seed: 1))
        let wShape = [c.groups * c.outPerGroup, c.inPerGroup] + c.k
        let weight = Tensor(shape: wShape, data: random(wShape.reduce(1, *), seed: 2))
        let bias = c.bias ? Tensor(shape: [a.outChannels], data: random(a.outChannels, seed: 3)) : nil
        let reference = ReferenceKernels.conv(x, weight: weight, bias: nil, stride: c.stride, dilation: c.dilation,
                                              padBegin: c.padBegin, padEnd: c.padEnd, groups: c.groups)
        let residual = random(reference.count, seed: 4)
        let want = expected(c, x: x, weight: weight, bias: bias, residual: residual)
        let s = ConvShape3D(batch: c.batch, inChannels: a.inChannels!, outChannels: a.outChannels, groups: c.groups,
                            image: c.size, kernel: c.k, output: Array(reference.shape.dropFirst(2)), stride: c.stride,
                            dilation: c.dilation, padding: c.padBegin)
        let d = DepthwiseConv(a, weight: weight, bias: bias, epilogue: c.epilogue, threads: threads, isa: isa,
                              shape: s, kernel: c.kernel ?? .rowBands)
        #expect(Self.sameKind(d.kernel, c.kernel ?? .rowBands), "kernel \(d.kernel): \(c.testDescription)")
        var y = [Float](repeating: .nan, count: reference.count)
        var scratch = [Float](repeating: .nan, count: max(d.scratchFloats(s), 1))
        x.data.withUnsafeBufferPointer { xp in
            residual.withUnsafeBufferPointer { rp in
                y.withUnsafeMutableBufferPointer { yp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        d.run(s, x: xp.baseAddress!, residual: c.residual ? rp.baseAddress! : nil, y: yp.baseAddress!,
                              scratch: sp.baseAddress!)
                    }
                }
            }
        }
        return (Tensor(shape: reference.shape, data: y), want)
    }

    static func check(_ c: Case, isa: SGEMM.ISA, threads: [Int] = [1], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let (one, want) = run(c, isa: isa, threads: threads[0])
        expectClose(one, want, "\(isa.rawValue) \(c.testDescription)", sourceLocation: sourceLocation)
        for t in threads.dropFirst() {
            let (other, _) = run(c, isa: isa, threads: t)
            #expect(other.data.map(\.bitPattern) == one.data.map(\.bitPattern),
                    "\(isa.rawValue) threads \(t) vs \(threads[0]): \(c.testDescription)", sourceLocation: sourceLocation)
        }
    }

    static let isas = SGEMM.ISA.supported

    /// The same kernel, whatever the channel block width.
    static func sameKind(_ a: DepthwiseConv.Kernel, _ b: DepthwiseConv.Kernel) -> Bool {
        switch (a, b) {
        case (.rowBands, .rowBands), (.channelBlocks, .channelBlocks), (.flatPlane, .flatPlane): return true
        default: return false
        }
    }

    /// Vector width of a path (the portable kernels use one-float vectors).
    static func width(_ isa: SGEMM.ISA) -> Int {
        switch isa {
        case .portable: return 1
        case .avx2: return 8
        case .avx512: return 16
        case .neon: return 4
        }
    }

    /// Output widths 1 ... 2W+3 and multi-chunk ones, 1-D and 2-D, kernels 1..5, with the
    /// channel tiles of the depthwise (1..3 multipliers) and narrow grouped (2..5 per group) kernels.
    @Test(arguments: isas) func everyWidthRemainder(isa: SGEMM.ISA) {
        let w = Self.width(isa)
        for ow in Array(1...(2 * w + 3)) + [8 * w + 5, 13 * w + 1] {
            for rank in [1, 2] {
                let (cin, cout) = [(1, 1), (1, 2), (1, 3), (2, 5), (3, 4), (4, 4), (5, 2)][(ow + rank) % 7]
                let k = [3, 5, 1, 2, 4][(ow + rank) % 5]
                let size = (rank == 2 ? [2 + ow % 3 + k / 2] : []) + [ow + k - 1 - 2 * (k / 2)]
                let ones = [Int](repeating: 1, count: rank)
                Self.check(Case(rank: rank, batch: 1, groups: 2, inPerGroup: cin, outPerGroup: cout, size: size,
                                k: [Int](repeating: k, count: rank), stride: ones, dilation: ones,
                                padBegin: [Int](repeating: k / 2, count: rank), padEnd: [Int](repeating: k / 2, count: rank),
                                pre: ow % 3 == 0 ? .relu : nil, residual: ow % 4 == 1),
                           isa: isa)
            }
        }
    }

    /// The compiled-geometry depthwise kernels (2-D, K x K for K = 3, 5, 7, stride_w 1 or 2,
    /// any stride_h / dilation_h, channel multipliers): every width remainder, paddings, epilogues.
    @Test(arguments: isas) func squareDepthwiseKernels(isa: SGEMM.ISA) {
        let w = Self.width(isa)
        let widths = [1, 2, w - 1, w, w + 1, 2 * w + 3, 8 * w + 5, 9 * w].filter { $0 >= 1 }
        var i = 0
        for k in [3, 5, 7] {
            for s in [1, 2] {
                for ow in widths {
                    i += 1
                    let (sh, dh) = [(1, 1), (2, 1), (1, 2), (3, 2)][i % 4]
                    let pad = [k / 2, 0, k / 2 + 1][i % 3]
                    let iw = (ow - 1) * s + k - 2 * pad + i % s
                    guard iw >= 1 else { continue }
                    let ih = [5, 8, 3][i % 3] + (k - 1) * dh
                    let act: [Activation?] = [nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid]
                    Self.check(Case(rank: 2, batch: 1 + i % 2, groups: 3, inPerGroup: 1, outPerGroup: 1 + i % 3,
                                    size: [ih, iw], k: [k, k], stride: [sh, s], dilation: [dh, 1],
                                    padBegin: [pad, pad], padEnd: [pad + i % 2, pad], pre: act[i % 5],
                                    residual: i % 3 == 1, post: act[(i / 5) % 5], bias: i % 4 != 3),
                               isa: isa, threads: isa == .best ? [1, 3] : [1])
                }
            }
        }
    }

    /// The ISAs with a channel-blocked depthwise kernel.
    static let channelBlockISAs = isas.filter { convrt_dwcb_width($0.cValue) > 0 }

    /// The channel-blocked depthwise kernel: channel counts around the block width (partial
    /// blocks, partial 8x8 transposes), output widths hitting every remainder of the 4-pixel
    /// step and of the 8-column transposes, 1-D and 2-D kernels (even and non-square), strides
    /// 1..3, dilations, paddings past half the kernel and asymmetric, batches, every epilogue
    /// (the vector store, the scalar one with a residual or post activation, and activations
    /// left to Swift), bit-identical for 1, 2 and 3 threads.
    @Test(arguments: channelBlockISAs) func channelBlockedDepthwise(isa: SGEMM.ISA) {
        let w = Self.width(isa)
        let activations: [Activation?] = [nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid,
                                          .hardtanh(minValue: -0.5, maxValue: 0.25)]
        let channels = [1, 3, 8, w - 1, w, w + 1, 2 * w + 3, 3 * w + 8]
        let kernels = [[3, 3], [5, 5], [1, 1], [2, 3], [3, 1], [7, 7], [3], [5]]
        var i = 0
        for ow in [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 15, 16, 17, 25] {
            for _ in 0..<2 {
                i += 1
                let k = kernels[i % kernels.count], rank = k.count
                let stride = k.indices.map { [1, 2, 1, 3][(i + $0) % 4] }
                let dilation = k.indices.map { [1, 1, 2][(i + $0) % 3] }
                let padBegin = k.indices.map { [k[$0] / 2, 0, k[$0] / 2 + 1, k[$0]][(i + $0) % 4] }
                let padEnd = k.indices.map { [padBegin[$0], 0, padBegin[$0] + 1][(i / 2 + $0) % 3] }
                // Input sizes giving `ow` columns (and a few rows); a stride may leave the last ones unread.
                let size = k.indices.map { d -> Int in
                    let o = d == rank - 1 ? ow : 1 + i % 5
                    return max(1, (o - 1) * stride[d] + (k[d] - 1) * dilation[d] + 1 - padBegin[d] - padEnd[d] + i % stride[d])
                }
                Self.check(Case(rank: rank, batch: 1 + i % 3, groups: channels[i % channels.count], inPerGroup: 1,
                                outPerGroup: 1, size: size, k: k, stride: stride, dilation: dilation, padBegin: padBegin,
                                padEnd: padEnd, pre: activations[i % activations.count], residual: i % 3 == 1,
                                post: activations[(i / 3) % activations.count], bias: i % 4 != 3,
                                kernel: .channelBlocks(width: w)),
                           isa: isa, threads: [1, 2, 3])
            }
        }
    }

    /// The ISAs with a flat-plane depthwise kernel.
    static let flatPlaneISAs = isas.filter { isa in
        var shape = convrt_dwconv_shape(batch: 1, groups: 1, cin_g: 1, cout_g: 1, in: (1, 8, 8), out: (1, 8, 8),
                                        kernel: (1, 3, 3), stride: (1, 1, 1), dilation: (1, 1, 1), pad: (0, 1, 1))
        var plan = convrt_dwflat_plan()
        return convrt_dwflat_plan_make(isa.cValue, &shape, &plan) == 0
    }

    /// The flat-plane depthwise kernel: planes from one vector to many (every remainder of the
    /// vector and of the unrolled step, the last vector overlapping), rows of 1..13 columns so
    /// taps wrap at both row ends, 1-D and 2-D kernels (even ones with asymmetric "same"
    /// padding, dilations), channel counts splitting into partial item runs, batches, every
    /// epilogue, bit-identical for 1, 2 and 3 threads.
    @Test(arguments: flatPlaneISAs) func flatPlaneDepthwise(isa: SGEMM.ISA) {
        let w = Self.width(isa)
        let activations: [Activation?] = [nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid,
                                          .hardtanh(minValue: -0.5, maxValue: 0.25)]
        let kernels = [[3, 3], [5, 5], [1, 1], [2, 3], [3, 1], [7, 7], [3], [4], [1, 5]]
        var i = 0
        for width in [1, 2, 3, 5, 7, 8, 13, w, 2 * w + 1] {
            for pixels in [w, w + 1, 4 * w - 1, 4 * w, 9 * w + 3, 40 * w + 5] {
                i += 1
                let k = kernels[i % kernels.count], rank = k.count
                let dilation = k.indices.map { [1, 1, 2][(i + $0) % 3] }
                let reach = k.indices.map { (k[$0] - 1) * dilation[$0] }
                // Every third case pads symmetrically (the compiled 3x3 step among them).
                let padBegin = k.indices.map { [reach[$0] / 2, 0, reach[$0]][(i / 3 + (i % 3 == 0 ? 0 : $0)) % 3] }
                let padEnd = k.indices.map { reach[$0] - padBegin[$0] }
                let size = rank == 1 ? [pixels] : [max(1, (pixels + width - 1) / width), width]
                guard size.reduce(1, *) >= w else { continue }
                let ones = [Int](repeating: 1, count: rank)
                Self.check(Case(rank: rank, batch: 1 + i % 3, groups: [1, 3, 17, 2 * w + 5][i % 4], inPerGroup: 1,
                                outPerGroup: 1, size: size, k: k, stride: ones, dilation: dilation, padBegin: padBegin,
                                padEnd: padEnd, pre: activations[i % activations.count], residual: i % 3 == 1,
                                post: activations[(i / 3) % activations.count], bias: i % 4 != 3, kernel: .flatPlane),
                           isa: isa, threads: [1, 2, 3])
            }
        }
    }

    /// Random geometry: kernels 1..5 (even ones too), strides 1..3, dilations 1..2, paddings
    /// up to past half the kernel (asymmetric too), ranks 1..3, batches 1..3, all epilogues.
    static let randomCases: [Case] = {
        var rng = SplitMix64(seed: 77)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        let activations: [Activation?] = [nil, .relu, .relu6, .hardtanh(minValue: -0.5, maxValue: 0.25),
                                          .leakyReLU(negativeSlope: 0.1), .sigmoid, .gelu(approximateTanh: false)]
        return (0..<48).map { i in
            let rank = [1, 2, 2, 3][i % 4]
            let (cin, cout) = pick([(1, 1), (1, 1), (1, 2), (1, 3), (2, 2), (3, 3), (4, 4), (5, 3), (2, 5), (4, 8)])
            let k = (0..<rank).map { _ in pick(rank == 3 ? [1, 2, 3] : [1, 2, 3, 4, 5]) }
            let stride = (0..<rank).map { _ in pick([1, 1, 2, 3]) }
            let dilation = (0..<rank).map { _ in pick([1, 1, 2]) }
            let padBegin = k.indices.map { pick([0, 1, (k[$0] - 1) * dilation[$0] / 2, k[$0]]) }
            let padEnd = k.indices.map { pick([padBegin[$0], 0, padBegin[$0] + 1]) }
            let size = k.indices.map { pick(rank == 3 ? [3, 5, 6] : rank == 2 ? [4, 7, 11] : [5, 13, 30, 41]) + (k[$0] - 1) * dilation[$0] }
            return Case(rank: rank, batch: pick([1, 1, 2, 3]), groups: pick([1, 2, 3, 5]), inPerGroup: cin, outPerGroup: cout,
                        size: size, k: k, stride: stride, dilation: dilation, padBegin: padBegin, padEnd: padEnd,
                        pre: pick(activations), residual: pick([false, true]), post: pick(activations), bias: pick([true, false]))
        }
    }()

    @Test(arguments: randomCases) func randomGeometry(_ c: Case) {
        for isa in Self.isas { Self.check(c, isa: isa, threads: isa == .best ? [1, 2, 3] : [1]) }
    }

    /// A band-split plane (more items than images x groups, and a plane past the band
    /// cap) gives the same bits for 1, 2 and 3 threads.
    @Test func rowBandsAreBitIdentical() {
        let small = Case(rank: 2, batch: 1, groups: 1, inPerGroup: 1, outPerGroup: 2, size: [23, 19], k: [3, 3],
                         stride: [2, 1], dilation: [1, 2], padBegin: [1, 2], padEnd: [1, 2], post: .relu)
        Self.check(small, isa: .best, threads: [1, 2, 3])
        let deep = Case(rank: 3, batch: 1, groups: 2, inPerGroup: 2, outPerGroup: 3, size: [9, 6, 7], k: [3, 2, 3],
                        stride: [1, 1, 1], dilation: [1, 1, 1], padBegin: [1, 0, 1], padEnd: [1, 1, 1], residual: true)
        Self.check(deep, isa: .best, threads: [1, 2, 3])
        let wide = Case(rank: 2, batch: 1, groups: 1, inPerGroup: 1, outPerGroup: 1, size: [300, 270], k: [3, 3],
                        stride: [1, 1], dilation: [1, 1], padBegin: [1, 1], padEnd: [1, 1])
        Self.check(wide, isa: .best, threads: [1, 2])
    }

    /// Through the planner: the chooser picks the direct kernels, fused epilogues (incl. a
    /// residual and activations the kernel cannot store) and padding modes match the oracle.
    @Test(arguments: [(1, 1, 144), (1, 2, 8), (4, 4, 8), (2, 3, 4)])
    func plannedModelsMatchReference(inPerGroup: Int, outPerGroup: Int, groups: Int) throws {
        for (i, mode) in [ConvAttributes.PaddingMode.zeros, .reflect, .circular].enumerated() {
            var b = GraphBuilder(seed: UInt64(groups * 10 + i))
            let cin = groups * inPerGroup, cout = groups * outPerGroup
            let x = b.input("x", [2, cin, 9, 10])
            b.conv("conv", x, in: cin, out: cout, k: 3, padding: 1, groups: groups)
            if case .conv(var a) = b.nodes[0].op {
                a.paddingMode = mode
                b.nodes[0].op = .conv(a)
            }
            var last = b.op("act", .activation([.sigmoid, .relu, .hardswish][i]), "conv")
            if cin == cout { last = b.op("sum", .add, last, x) }
            last = b.op("post", .activation([.relu6, .silu, .leakyReLU(negativeSlope: 0.2)][i]), last)
            let g = b.graph(outputs: [last])
            let shape = g.inputs[0].shape.concrete!
            let input = Tensor(shape: shape, data: Self.random(shape.reduce(1, *), seed: 5))
            let want = try ReferenceExecutor.run(g, inputs: ["x": input])[last]!
            let p = try Planner.plan(g, inputShapes: ["x": shape], options: PlanOptions(verify: true, threads: 1))
            let algorithm = p.steps[0].algorithm ?? ""
            // A 10-wide plane with one output channel per group (on x86): the flat-plane kernel when
            // zero padded ("same"), the channel-blocked one after an explicit reflect/circular pad.
            let blocked = outPerGroup == 1 && convrt_dwcb_width(SGEMM.ISA.best.cValue) > 0
            let small = mode == .zeros ? "depthwise (dwconv_flat_" : "depthwise (dwconv_cb_"
            let name = inPerGroup == 1 ? (blocked ? small : "depthwise (dwconv3x3s1_") : "grouped-direct (dwconv_"
            #expect(algorithm.hasPrefix(name), "\(algorithm)")
            let one = try PlanExecutor.run(p, inputs: ["x": input])[last]!
            expectClose(one, want, "\(mode) g\(groups) \(inPerGroup)->\(outPerGroup) [\(algorithm)]")
            let p2 = try Planner.plan(g, inputShapes: ["x": shape], options: PlanOptions(threads: 2))
            #expect(try PlanExecutor.run(p2, inputs: ["x": input])[last]! == one)
        }
    }
}
