import Foundation
import Testing
@testable import ConvRT

/// ConvTranspose (GEMM + col2im) and the Fold/Unfold fast paths against the reference
/// executor, over shapes that hit the SGEMM tile remainders and every col2im branch
/// (stride 1, 2 and 3 interleaves, padding that crops, output_padding rows no input reaches),
/// with fused epilogues, and the same bits for 1, 2 and 3 threads.
@Suite struct ConvTransposeGEMMTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rank: Int, batch: Int, cin: Int, cout: Int, size: Int, k: Int, stride: Int, dilation: Int
        var groups: Int, padding: Int, outputPadding: Int, givesOutputSize: Bool, allDims: Bool
        var pre: Activation?, residual: Bool, post: Activation?
        var testDescription: String {
            "\(rank)d n\(batch) \(cin)->\(cout) s\(size) k\(k) st\(stride) d\(dilation) g\(groups) p\(padding) "
                + "op\(outputPadding)\(givesOutputSize ? (allDims ? " size(all)" : " size") : "") "
                + "\(pre.map { "\($0)" } ?? "-")\(residual ? " +res" : "")\(post.map { " \($0)" } ?? "")"
        }

        /// Output length per spatial dim.
        var outputLength: Int { (size - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1 }
    }

    static let cases: [Case] = {
        var rng = SplitMix64(seed: 7)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        var out: [Case] = []
        for i in 0..<150 {
            let rank = [1, 2, 2, 3][i % 4]
            let groups = pick([1, 1, 2, 3])
            let cin = groups * pick([1, 2, 3, 5, 8, 17])
            let cout = groups * pick([1, 2, 3, 5, 7, 8, 13])
            let k = pick(rank == 3 ? [1, 2, 3] : [1, 2, 3, 4, 5])
            let stride = pick([1, 2, 2, 3]), dilation = pick([1, 1, 2])
            let size = pick(rank == 3 ? [1, 2, 3, 4] : rank == 2 ? [1, 3, 5, 8] : [1, 4, 9, 23])
            var c = Case(rank: rank, batch: pick([1, 1, 2, 3]), cin: cin, cout: cout, size: size, k: k, stride: stride,
                         dilation: dilation, groups: groups, padding: Int(rng.next() % UInt64(k)),
                         outputPadding: Int(rng.next() % UInt64(max(stride, dilation))),
                         givesOutputSize: pick([false, false, true]), allDims: pick([false, true]),
                         pre: pick([nil, nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid]),
                         residual: pick([false, true]), post: nil)
            if c.residual { c.post = pick([nil, .relu, .hardtanh(minValue: -0.5, maxValue: 0.5), .tanh]) }
            // output_size's range ends at stride - 1 extra (output_padding may reach dilation - 1).
            if c.givesOutputSize { c.outputPadding = min(c.outputPadding, stride - 1) }
            while c.outputLength < 1 { c.padding -= 1 }
            out.append(c)
        }
        return out
    }()

    func graph(_ c: Case) -> Graph {
        var b = GraphBuilder(seed: UInt64(c.cin * 131 + c.cout))
        let x = b.input("x", [c.batch, c.cin] + [Int](repeating: c.size, count: c.rank))
        b.conv("conv", x, in: c.cin, out: c.cout, k: c.k, stride: c.stride, padding: c.padding, groups: c.groups,
               rank: c.rank, transposed: true)
        if case .conv(var a) = b.nodes[0].op {
            a.dilation = [Int](repeating: c.dilation, count: c.rank)
            let spatial = [Int](repeating: c.outputLength, count: c.rank)
            if c.givesOutputSize {
                a.outputSize = c.allDims ? [c.batch, c.cout] + spatial : spatial
            } else {
                a.outputPadding = [Int](repeating: c.outputPadding, count: c.rank)
            }
            b.nodes[0].op = .conv(a)
        }
        var last = "conv"
        if let pre = c.pre { last = b.op("pre", .activation(pre), last) }
        if c.residual {
            let r = b.input("r", [c.batch, c.cout] + [Int](repeating: c.outputLength, count: c.rank))
            last = b.op("sum", .add, last, r)
        }
        if let post = c.post { last = b.op("post", .activation(post), last) }
        return b.graph(outputs: [last])
    }

    @Test(arguments: cases)
    func transposedMatchesReference(_ c: Case) throws {
        let g = graph(c)
        var rng = SplitMix64(seed: 9)
        var inputs: [String: Tensor] = [:], shapes: [String: [Int]] = [:]
        for input in g.inputs {
            let shape = input.shape.concrete!
            shapes[input.name] = shape
            inputs[input.name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        }
        let expected = try ReferenceExecutor.run(g, inputs: inputs)[g.outputs[0]]!
        let p = try Planner.plan(g, inputShapes: shapes, options: PlanOptions(verify: true, threads: 1))
        #expect(p.steps.count == 1, "epilogue not fused: \(p.steps.map(\.opName))")
        let algorithm = p.steps[0].algorithm ?? ""
        #expect(algorithm.hasPrefix("gemm+col2im"), "\(algorithm)")
        let one = try PlanExecutor.run(p, inputs: inputs)[g.outputs[0]]!
        expectClose(one, expected, "\(c.testDescription) [\(algorithm)]")
        for threads in [2, 3] {
            let pn = try Planner.plan(g, inputShapes: shapes, options: PlanOptions(threads: threads))
            #expect(try PlanExecutor.run(pn, inputs: inputs)[g.outputs[0]]! == one, "\(threads) threads")
        }
    }

    /// Several bands of output channels per group (the planner's band is larger than these
    /// shapes), with a residual and an activation on the C path.
    @Test(arguments: [(2, 1, 7, 3), (3, 2, 10, 2), (1, 3, 9, 5), (2, 1, 13, 4)])
    func bandsMatchReference(_ rank: Int, _ groups: Int, _ coutG: Int, _ k: Int) throws {
        let (cin, cout, size, stride) = (groups * 3, groups * coutG, 5, 2)
        let spatial = [Int](repeating: size, count: rank)
        let a = ConvAttributes(spatialRank: rank, transposed: true, inChannels: cin, outChannels: cout,
                               kernelSize: [Int](repeating: k, count: rank), stride: [Int](repeating: stride, count: rank),
                               padding: .explicit([Int](repeating: 1, count: rank)), groups: groups)
        var rng = SplitMix64(seed: UInt64(rank * 100 + coutG))
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        }
        let weight = random(a.weightShape(inChannels: cin)), bias = random([cout]), x = random([2, cin] + spatial)
        let outSpatial = [Int](repeating: (size - 1) * stride - 2 + k, count: rank)
        let residual = random([2, cout] + outSpatial)
        let reference = ReferenceKernels.convTranspose(x, weight: weight, bias: bias, stride: a.stride, dilation: a.dilation,
                                                       padding: a.transposedPadding, groups: groups, outputSpatial: outSpatial)
        let expected = Tensor(shape: reference.shape, data: zip(reference.data, residual.data).map { max($0 + $1, 0) })
        let kernelVolume = Int(pow(Double(k), Double(rank)))
        let gemm = ConvTransposeGEMM(a, weight: weight, bias: bias, epilogue: Epilogue(residualInput: 1, postActivation: .relu),
                                     threads: 2, bandRows: 2 * kernelVolume)
        #expect(gemm.bands[0].count == (coutG + 1) / 2)
        let shape = PlanExecutor.convShape(a, inShape: x.shape, outShape: residual.shape)
        var y = [Float](repeating: .nan, count: residual.count)
        var columns = [Float](repeating: .nan, count: gemm.workspaceFloats(shape))
        x.data.withUnsafeBufferPointer { xs in
            residual.data.withUnsafeBufferPointer { rs in
                gemm.run(shape, x: xs.baseAddress!, residual: rs.baseAddress!, y: &y, columns: &columns)
            }
        }
        expectClose(Tensor(shape: residual.shape, data: y), expected, "bands rank \(rank) g\(groups)")
    }

    struct FoldCase: CustomTestStringConvertible, Sendable {
        var batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow
        var testDescription: String {
            "n\(batch) c\(channels) \(height)x\(width) k\(window.kernelSize) d\(window.dilation) p\(window.padding) s\(window.stride)"
        }
    }

    static let foldCases: [FoldCase] = {
        var rng = SplitMix64(seed: 11)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        var out: [FoldCase] = []
        while out.count < 60 {
            let w = SlidingWindow(kernelSize: [pick([1, 2, 3, 4]), pick([1, 2, 3, 5])], dilation: [pick([1, 2]), pick([1, 2])],
                                  padding: [pick([0, 1, 2]), pick([0, 1, 2])], stride: [pick([1, 2, 3]), pick([1, 2, 3])])
            let c = FoldCase(batch: pick([1, 2, 3]), channels: pick([1, 2, 3, 5]), height: pick([1, 4, 7, 12]),
                             width: pick([1, 3, 8, 17, 33]), window: w)
            if w.blocks(along: 0, size: c.height) >= 1 && w.blocks(along: 1, size: c.width) >= 1 { out.append(c) }
        }
        return out
    }()

    @Test(arguments: foldCases)
    func unfoldAndFoldMatchReference(_ c: FoldCase) throws {
        var b = GraphBuilder()
        let x = b.input("x", [c.batch, c.channels, c.height, c.width])
        let unfolded = b.op("unfold", .unfold(c.window), x)
        let folded = b.op("fold", .fold(FoldAttributes(outputSize: [c.height, c.width], window: c.window)), unfolded)
        let g = b.graph(outputs: [unfolded, folded])
        var rng = SplitMix64(seed: 5)
        let shape = [c.batch, c.channels, c.height, c.width]
        let input = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        let expected = try ReferenceExecutor.run(g, inputs: ["x": input])
        let p = try Planner.plan(g, inputShapes: ["x": shape], options: PlanOptions(verify: true, threads: 2))
        let actual = try PlanExecutor.run(p, inputs: ["x": input])
        // Unfold only moves values: exact.
        #expect(actual[unfolded] == expected[unfolded], "unfold \(c.testDescription)")
        expectClose(actual[folded]!, expected[folded]!, "fold \(c.testDescription)")
    }
}
