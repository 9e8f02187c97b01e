import Foundation
import Testing
@testable import ConvRT

/// Every fast convolution path against the reference executor, over shapes that hit the
/// SGEMM tile remainders (rows: output channels per group, columns: output pixels, K: input
/// channels x kernel), every rank, stride, dilation, group count and padding mode.
@Suite struct ConvBackendTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rank: Int, batch: Int, cin: Int, cout: Int, size: Int, k: Int, stride: Int, dilation: Int
        var groups: Int, padding: Int, mode: ConvAttributes.PaddingMode, activation: Activation?, residual: Bool
        var testDescription: String {
            "\(rank)d n\(batch) \(cin)->\(cout) s\(size) k\(k) st\(stride) d\(dilation) g\(groups) p\(padding) \(mode) \(activation.map { "\($0)" } ?? "-") \(residual ? "+res" : "")"
        }
    }

    static let cases: [Case] = {
        var rng = SplitMix64(seed: 42)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        var out: [Case] = []
        for i in 0..<160 {
            let rank = [1, 2, 2, 3][i % 4]
            let groups = pick([1, 1, 1, 2, 3])
            let cin = groups * pick([2, 3, 5, 8, 9, 17])
            let cout = groups * pick([1, 5, 6, 7, 8, 9, 13, 16, 17, 49])
            let k = pick(rank == 3 ? [1, 2, 3] : [1, 2, 3, 5])
            let stride = pick([1, 1, 2, 3]), dilation = pick([1, 1, 2])
            let size = pick(rank == 3 ? [4, 5, 7] : rank == 2 ? [5, 7, 9, 13] : [7, 17, 31, 50]) + (k - 1) * dilation
            let mode = pick([ConvAttributes.PaddingMode.zeros, .zeros, .reflect, .replicate, .circular])
            let padding = mode == .zeros ? pick([0, 1, 2]) : pick([0, 1])
            out.append(Case(rank: rank, batch: pick([1, 1, 2, 3]), cin: cin, cout: cout, size: size, k: k, stride: stride,
                            dilation: dilation, groups: groups, padding: padding, mode: mode,
                            activation: pick([nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid]),
                            residual: stride == 1 && cin == cout && k % 2 == 1 && padding * 2 == (k - 1) * dilation))
        }
        return out
    }()

    func graph(_ c: Case) -> Graph {
        var b = GraphBuilder(seed: UInt64(c.cin * 131 + c.cout))
        let x = b.input("x", [c.batch, c.cin] + [Int](repeating: c.size, count: c.rank))
        b.conv("conv", x, in: c.cin, out: c.cout, k: c.k, stride: c.stride, padding: c.padding, groups: c.groups, rank: c.rank)
        if case .conv(var a) = b.nodes[0].op {
            a.dilation = [Int](repeating: c.dilation, count: c.rank)
            a.paddingMode = c.mode
            b.nodes[0].op = .conv(a)
        }
        var last = "conv"
        if c.residual { last = b.op("sum", .add, last, x) }
        if let act = c.activation { last = b.op("act", .activation(act), last) }
        return b.graph(outputs: [last])
    }

    @Test(arguments: cases)
    func fastPathMatchesReference(_ c: Case) throws {
        let g = graph(c)
        let shape = g.inputs[0].shape.concrete!
        var rng = SplitMix64(seed: 9)
        let x = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        let expected = try ReferenceExecutor.run(g, inputs: ["x": x])[g.outputs[0]]!
        let p = try Planner.plan(g, inputShapes: ["x": shape], options: PlanOptions(verify: true, threads: 1))
        let algorithm = p.steps[0].algorithm ?? ""
        if case .conv(let a) = g.nodes[0].op, c.cin / c.groups > 1 {
            #expect(algorithm.hasPrefix(DepthwiseConv.prefers(a) ? "grouped-direct" : "gemm"), "\(algorithm)")
        }
        let one = try PlanExecutor.run(p, inputs: ["x": x])[g.outputs[0]]!
        expectClose(one, expected, "\(c.testDescription) [\(algorithm)]")
        // Any thread count gives the same bits.
        let p3 = try Planner.plan(g, inputShapes: ["x": shape], options: PlanOptions(threads: 3))
        #expect(try PlanExecutor.run(p3, inputs: ["x": x])[g.outputs[0]]! == one)
    }
}
