import Foundation
import Testing
@testable import ConvRT

/// Winograd F(4x4, 3x3) against the reference executor: output sizes hitting every tile
/// remainder (H, W mod 4, smaller than one tile), padding 0-2 and padding modes, channel counts
/// off the SGEMM's tiles, batches, groups, every epilogue; bits identical for any thread count,
/// block size and transform path; the documented error bound on realistic data.
@Suite struct WinogradTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var batch: Int, cin: Int, cout: Int, h: Int, w: Int, padding: Int, groups = 1
        var mode = ConvAttributes.PaddingMode.zeros
        var epilogue: Ending = .none
        var testDescription: String {
            "n\(batch) \(cin)->\(cout) \(h)x\(w) p\(padding) g\(groups) \(mode) \(epilogue)"
        }
    }

    /// What follows the conv in the graph (fused into the kernel's epilogue by the planner).
    enum Ending: String, Sendable, CaseIterable {
        case none, relu, relu6, leaky, sigmoid, residual, residualRelu, reluResidualRelu, residualTanh
        var needsResidual: Bool { rawValue.lowercased().contains("residual") }
    }

    static let cases: [Case] = {
        // Input sizes whose outputs (h + 2p - 2) cover every remainder mod 4 and sub-tile sizes.
        let sizes = [(1, 1), (2, 3), (3, 5), (4, 4), (5, 6), (6, 7), (7, 9), (9, 8), (10, 11), (12, 13), (17, 6), (5, 22)]
        let channels = [(1, 1), (3, 5), (17, 16), (33, 33), (16, 17), (5, 3)]
        var out: [Case] = []
        for (i, (h, w)) in sizes.enumerated() {
            for padding in 0...2 where h + 2 * padding >= 3 && w + 2 * padding >= 3 {
                let (cin, cout) = channels[(i + padding) % channels.count]
                var ending = Ending.allCases[(i * 3 + padding) % Ending.allCases.count]
                if ending.needsResidual && (cin != cout || padding != 1) { ending = .relu6 }
                out.append(Case(batch: 1 + (i + padding) % 3, cin: cin, cout: cout, h: h, w: w, padding: padding,
                                epilogue: ending))
            }
        }
        out.append(Case(batch: 2, cin: 8, cout: 8, h: 9, w: 7, padding: 1, epilogue: .residualRelu))
        out.append(Case(batch: 1, cin: 17, cout: 17, h: 6, w: 10, padding: 1, epilogue: .reluResidualRelu))
        out.append(Case(batch: 1, cin: 6, cout: 9, h: 7, w: 13, padding: 1, groups: 3, epilogue: .relu))
        out.append(Case(batch: 2, cin: 4, cout: 4, h: 6, w: 5, padding: 1, groups: 2, epilogue: .residualTanh))
        out.append(Case(batch: 1, cin: 3, cout: 5, h: 7, w: 6, padding: 1, mode: .reflect))
        // Wide rows: groups of 8 tiles entirely inside the image (the unmasked loads).
        out.append(Case(batch: 1, cin: 3, cout: 4, h: 10, w: 61, padding: 0, epilogue: .relu))
        out.append(Case(batch: 1, cin: 2, cout: 2, h: 14, w: 75, padding: 1, epilogue: .reluResidualRelu))
        // Padding wider than a group: several groups per row lie partly or wholly in it.
        out.append(Case(batch: 1, cin: 2, cout: 3, h: 3, w: 40, padding: 34, epilogue: .relu))
        out.append(Case(batch: 2, cin: 5, cout: 4, h: 9, w: 5, padding: 2, mode: .circular, epilogue: .leaky))
        return out
    }()

    static func graph(_ c: Case) -> Graph {
        var b = GraphBuilder(seed: UInt64(c.cin * 131 + c.cout * 7 + c.h))
        let x = b.input("x", [c.batch, c.cin, c.h, c.w])
        b.conv("conv", x, in: c.cin, out: c.cout, k: 3, padding: c.padding, groups: c.groups)
        if case .conv(var a) = b.nodes[0].op {
            a.paddingMode = c.mode
            b.nodes[0].op = .conv(a)
        }
        var last = "conv"
        switch c.epilogue {
        case .none: break
        case .relu: last = b.op("act", .activation(.relu), last)
        case .relu6: last = b.op("act", .activation(.relu6), last)
        case .leaky: last = b.op("act", .activation(.leakyReLU(negativeSlope: 0.1)), last)
        case .sigmoid: last = b.op("act", .activation(.sigmoid), last)
        case .residual: last = b.op("sum", .add, last, x)
        case .residualRelu:
            last = b.op("sum", .add, last, x)
            last = b.op("act", .activation(.relu), last)
        case .reluResidualRelu:
            last = b.op("pre", .activation(.relu), last)
            last = b.op("sum", .add, last, x)
            last = b.op("act", .activation(.relu), last)
        case .residualTanh:
            last = b.op("sum", .add, last, x)
            last = b.op("act", .activation(.tanh), last)
        }
        return b.graph(outputs: [last])
    }

    static func input(_ shape: [Int], seed: UInt64 = 9) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
    }

    /// The planner's plan with every Winograd-shaped conv forced onto Winograd.
    static func winogradPlan(_ g: Graph, threads: Int, blockTiles: Int? = nil, isa: SGEMM.ISA? = nil,
                             shapes: [String: [Int]]? = nil) throws -> ExecutionPlan {
        let shapes = shapes ?? [g.inputs[0].name: g.inputs[0].shape.concrete!]
        var p = try Planner.plan(g, inputShapes: shapes, options: PlanOptions(verify: true, threads: threads))
        for i in p.steps.indices {
            guard case .conv(let a, let w, let b, let e) = p.steps[i].kernel, WinogradConv.applies(a) else { continue }
            let s = PlanExecutor.convShape(a, inShape: p.shapes[p.steps[i].inputs[0]]!, outShape: p.shapes[p.steps[i].output]!)
            let conv = try #require(WinogradConv(a, weight: w, bias: b, epilogue: e, shape: s, threads: threads,
                                                 blockTiles: blockTiles, transformISA: isa))
            p.steps[i].convAlgorithm = .winograd(conv)
        }
        p.memory = MemoryPlanner.plan(p.steps, shapes: p.shapes, inputs: p.inputs, outputs: p.outputs, reuse: true)
        return p
    }

    @Test(arguments: cases)
    func matchesReference(_ c: Case) throws {
        let g = Self.graph(c)
        let x = Self.input(g.inputs[0].shape.concrete!)
        let expected = try ReferenceExecutor.run(g, inputs: ["x": x])[g.outputs[0]]!
        let p = try Self.winogradPlan(g, threads: 1)
        #expect(p.steps[0].algorithm?.hasPrefix("winograd") == true, "\(p.steps[0].algorithm ?? "-")")
        let one = try PlanExecutor.run(p, inputs: ["x": x])[g.outputs[0]]!
        expectClose(one, expected, c.testDescription, tolerance: WinogradConv.tolerance(inChannels: c.cin / c.groups))
        // Any thread count and block size gives the same bits.
        for (threads, block) in [(2, nil), (3, 8), (2, 3)] as [(Int, Int?)] {
            let q = try Self.winogradPlan(g, threads: threads, blockTiles: block)
            #expect(try PlanExecutor.run(q, inputs: ["x": x])[g.outputs[0]]! == one, "threads \(threads) block \(block ?? 0)")
        }
    }

    /// Every golden PyTorch fixture with a 3x3 stride-1 2-D conv, forced onto Winograd, within
    /// the parity tolerance (1e-4 * max(1, max |expected|)).
    @Test func goldenFixturesMatchPyTorch() throws {
        let dir = fixturesURL.appendingPathComponent("layers")
        var checked = 0
        for c in LayerCase.all() {
            let compiled = try ModelCompiler.compile(contentsOf: dir.appendingPathComponent("\(c.case).convnet"))
            let winogradShaped = compiled.graph.nodes.contains {
                if case .conv(let a) = $0.op { return WinogradConv.applies(a) && a.inChannels != nil }
                return false
            }
            guard winogradShaped else { continue }
            var inputs: [String: Tensor] = [:]
            for (name, file) in c.inputs { inputs[name] = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor }
            let p = try Self.winogradPlan(compiled.graph, threads: 2, shapes: inputs.mapValues(\.shape))
            guard p.steps.contains(where: { $0.algorithm?.hasPrefix("winograd") == true }) else { continue }
            let outputs = try PlanExecutor.run(p, inputs: inputs)
            for (name, file) in c.outputs {
                let expected = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor
                expectClose(try #require(outputs[name]), expected, "\(c.case) output \(name)")
            }
            checked += 1
        }
        #expect(checked >= 20, "only \(checked) fixtures have a Winograd-shaped conv")
    }

    /// The portable transforms give the AVX2 ones' bits (same operations, no contraction).
    @Test func portableMatchesVectorBits() throws {
        guard SGEMM.ISA.avx2.isSupported else { return }
        for c in [Case(batch: 2, cin: 17, cout: 9, h: 11, w: 23, padding: 1, epilogue: .relu6),
                  Case(batch: 1, cin: 8, cout: 8, h: 6, w: 37, padding: 2, epilogue: .none),
                  Case(batch: 1, cin: 3, cout: 5, h: 13, w: 77, padding: 1, epilogue: .leaky),
                  Case(batch: 1, cin: 9, cout: 9, h: 13, w: 14, padding: 1, epilogue: .reluResidualRelu)] {
            let g = Self.graph(c)
            let x = Self.input(g.inputs[0].shape.concrete!, seed: 3)
            let vector = try PlanExecutor.run(try Self.winogradPlan(g, threads: 1, isa: .avx2), inputs: ["x": x])
            let portable = try PlanExecutor.run(try Self.winogradPlan(g, threads: 2, isa: .portable), inputs: ["x": x])
            #expect(vector == portable, "\(c.testDescription)")
        }
    }

    /// Blocks that end mid tile row and several images per thread, at 1, 2 and 3 threads.
    @Test func blocksAcrossTileRowsAndImages() throws {
        let g = Self.graph(Case(batch: 3, cin: 16, cout: 16, h: 14, w: 27, padding: 1, epilogue: .residualRelu))
        let x = Self.input(g.inputs[0].shape.concrete!)
        let expected = try ReferenceExecutor.run(g, inputs: ["x": x])[g.outputs[0]]!
        let one = try PlanExecutor.run(try Self.winogradPlan(g, threads: 1, blockTiles: 16), inputs: ["x": x])[g.outputs[0]]!
        expectClose(one, expected, "blocks of 16", tolerance: WinogradConv.tolerance(inChannels: 16))
        for (threads, block) in [(1, nil), (2, 24), (3, 5), (3, nil)] as [(Int, Int?)] {
            let p = try Self.winogradPlan(g, threads: threads, blockTiles: block)
            #expect(try PlanExecutor.run(p, inputs: ["x": x])[g.outputs[0]]! == one, "threads \(threads) block \(block ?? 0)")
        }
    }

    /// The planner picks Winograd for a ResNet-style 3x3 layer and shows it; not for small ones.
    @Test func plannerChoosesWinograd() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 32, 16, 16])
        b.conv("big", x, in: 32, out: 32)
        b.conv("thin", "big", in: 32, out: 8)
        b.conv("strided", "big", in: 32, out: 32, stride: 2)
        let g = b.graph(outputs: ["thin", "strided"])
        let p = try Planner.plan(g, inputShapes: ["x": [1, 32, 16, 16]], options: PlanOptions(threads: 1))
        let algorithms = Dictionary(uniqueKeysWithValues: p.steps.map { ($0.output, $0.algorithm ?? "") })
        #expect(algorithms["big"]?.hasPrefix("winograd F(4x4,3x3)") == true, "\(algorithms)")
        #expect(algorithms["thin"]?.hasPrefix("gemm") == true, "\(algorithms)")
        #expect(algorithms["strided"]?.hasPrefix("gemm") == true, "\(algorithms)")
    }

    /// The documented bound on realistic data: unit-range inputs, Kaiming-uniform weights
    /// (PyTorch's default init, bound 1/sqrt(Cin*9)), up to 512 input channels.
    @Test(arguments: [16, 64, 256, 512])
    func errorBoundOnRealisticData(cin: Int) throws {
        let (cout, size) = (4, 12)
        var rng = SplitMix64(seed: UInt64(cin))
        let bound = 1 / Float(cin * 9).squareRoot()
        let weight = Tensor(shape: [cout, cin, 3, 3], data: (0..<(cout * cin * 9)).map { _ in (2 * rng.nextUnitFloat() - 1) * bound })
        let bias = Tensor(shape: [cout], data: (0..<cout).map { _ in (2 * rng.nextUnitFloat() - 1) * bound })
        let x = Self.input([1, cin, size, size], seed: UInt64(cin) + 1)
        let expected = ReferenceKernels.conv(x, weight: weight, bias: bias, stride: [1, 1], dilation: [1, 1],
                                             padBegin: [1, 1], padEnd: [1, 1], groups: 1)
        let a = ConvAttributes(spatialRank: 2, inChannels: cin, outChannels: cout, kernelSize: [3, 3], stride: [1, 1],
                               padding: .explicit([1, 1]), groups: 1, hasBias: true)
        let s = PlanExecutor.convShape(a, inShape: x.shape, outShape: expected.shape)
        let conv = try #require(WinogradConv(a, weight: weight, bias: bias, epilogue: Epilogue(), shape: s, threads: 1))
        var y = [Float](repeating: 0, count: expected.count)
        var workspace = [Float](repeating: 0, count: conv.workspaceFloats)
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                workspace.withUnsafeMutableBufferPointer { wp in
                    conv.run(s, x: xp.baseAddress!, residual: nil, y: yp.baseAddress!, workspace: wp.baseAddress!)
                }
            }
        }
        let actual = Tensor(shape: expected.shape, data: y)
        expectClose(actual, expected, "Cin \(cin)", tolerance: WinogradConv.tolerance(inChannels: cin))
        expectClose(actual, expected, "Cin \(cin), PyTorch parity")  // 1e-4
    }
}
