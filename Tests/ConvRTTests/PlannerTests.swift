import Foundation
import Testing
@testable import ConvRT

/// Builds small graphs directly in the IR, with seeded weights.
struct GraphBuilder {
    var inputs: [GraphInput] = []
    var nodes: [Node] = []
    var weights: [String: Tensor] = [:]
    var seed: UInt64 = 1

    mutating func input(_ name: String, _ shape: [Int]) -> String {
        inputs.append(GraphInput(name: name, shape: shape.dims))
        return name
    }

    private mutating func random(_ shape: [Int], scale: Float = 1, offset: Float = 0) -> Tensor {
        seed &+= 1
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in (2 * rng.nextUnitFloat() - 1) * scale + offset })
    }

    @discardableResult
    mutating func conv(_ name: String, _ x: String, in c: Int, out: Int, k: Int = 3, stride: Int = 1, padding: Int = 1,
                       groups: Int = 1, rank: Int = 2, transposed: Bool = false, bias: Bool = true) -> String {
        let a = ConvAttributes(spatialRank: rank, transposed: transposed, inChannels: c, outChannels: out,
                               kernelSize: [Int](repeating: k, count: rank), stride: [Int](repeating: stride, count: rank),
                               padding: .explicit([Int](repeating: padding, count: rank)), groups: groups, hasBias: bias)
        nodes.append(Node(name: name, op: .conv(a), inputs: [x]))
        weights["\(name).weight"] = random(a.weightShape(inChannels: c), scale: 0.3)
        if bias { weights["\(name).bias"] = random([out], scale: 0.1) }
        return name
    }

    @discardableResult
    mutating func batchNorm(_ name: String, _ x: String, channels: Int, rank: Int = 2) -> String {
        nodes.append(Node(name: name, op: .batchNorm(BatchNormAttributes(spatialRank: rank, numFeatures: channels)), inputs: [x]))
        weights["\(name).weight"] = random([channels], scale: 0.5, offset: 1)
        weights["\(name).bias"] = random([channels], scale: 0.2)
        weights["\(name).running_mean"] = random([channels], scale: 0.3)
        weights["\(name).running_var"] = random([channels], scale: 0.4, offset: 1)
        return name
    }

    @discardableResult
    mutating func op(_ name: String, _ op: Op, _ xs: String...) -> String {
        nodes.append(Node(name: name, op: op, inputs: xs))
        return name
    }

    func graph(outputs: [String]) -> Graph {
        Graph(inputs: inputs, nodes: nodes, outputs: outputs, weights: weights)
    }
}

/// Runs a graph planned with the given options.
func runPlanned(_ graph: Graph, _ inputs: [String: Tensor], fuse: Bool = true, reuse: Bool = true) throws -> [String: Tensor] {
    try CompiledModel(graph: graph, options: PlanOptions(fuse: fuse, reuse: reuse, verify: true)).run(inputs)
}

func plan(_ graph: Graph, fuse: Bool = true, reuse: Bool = true) throws -> ExecutionPlan {
    let shapes = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, $0.shape.concrete!) })
    return try Planner.plan(graph, inputShapes: shapes, options: PlanOptions(fuse: fuse, reuse: reuse, verify: true))
}

/// Optimised and unoptimised plans agree (BatchNorm folding within 1e-5 relative).
func expectSameWithAndWithoutOptimisations(_ graph: Graph, seed: UInt64 = 7, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    var inputs: [String: Tensor] = [:]
    for (i, input) in graph.inputs.enumerated() {
        var rng = SplitMix64(seed: seed + UInt64(i))
        let shape = input.shape.concrete!
        inputs[input.name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
    }
    let plain = try runPlanned(graph, inputs, fuse: false, reuse: false)
    let optimised = try runPlanned(graph, inputs)
    for name in graph.outputs {
        expectClose(optimised[name]!, plain[name]!, "output \(name)", tolerance: 1e-5, sourceLocation: sourceLocation)
    }
}

@Suite struct FusionRuleTests {
    @Test func convBatchNormReluBecomesOneStep() throws {
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 9, 9])
        b.conv("conv", x, in: 3, out: 6)
        b.batchNorm("bn", "conv", channels: 6)
        b.op("relu", .activation(.relu), "bn")
        let g = b.graph(outputs: ["relu"])
        let p = try plan(g)
        #expect(p.steps.map(\.covers) == [["conv", "bn", "relu"]])
        guard case .conv(_, _, _, let e) = p.steps[0].kernel else { Issue.record("not a conv step"); return }
        #expect(e.preActivation == .relu)
        try expectSameWithAndWithoutOptimisations(g)
    }

    /// An unbatched Conv3d's output [C, D, H, W] read by BatchNorm2d as [N, C, H, W]: the norm's
    /// channels are not the conv's, so it must not be folded (a fuzzer finding: it trapped).
    @Test func batchNormOverAnUnbatchedConvOutputIsNotFolded() throws {
        var b = GraphBuilder(seed: 11)
        let x = b.input("x", [1, 2, 6, 6])
        b.conv("conv", x, in: 1, out: 5, k: 3, padding: 1, rank: 3)
        b.batchNorm("bn", "conv", channels: 2)
        let g = b.graph(outputs: ["bn"])
        let p = try plan(g)
        #expect(p.steps.count == 2, "\(p.steps.map(\.opName))")
        try expectSameWithAndWithoutOptimisations(g)
        let input = Tensor(shape: [1, 2, 6, 6], data: (0..<72).map { Float($0 % 7) / 7 - 0.5 })
        expectClose(try runPlanned(g, ["x": input])["bn"]!, try ReferenceExecutor.run(g, inputs: ["x": input])["bn"]!, "bn")
    }

    @Test func convOutputThatIsAGraphOutputIsNotFusedAway() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        b.conv("conv", x, in: 3, out: 4)
        b.batchNorm("bn", "conv", channels: 4)
        b.op("relu", .activation(.relu), "bn")
        let g = b.graph(outputs: ["conv", "relu"])
        let p = try plan(g)
        #expect(p.steps.map(\.covers) == [["conv"], ["bn", "relu"]] || p.steps.map(\.covers) == [["conv"], ["bn"], ["relu"]])
        #expect(p.steps.contains { $0.output == "conv" })
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func convWithTwoReadersKeepsItsOutput() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        b.conv("conv", x, in: 3, out: 4)
        b.op("relu", .activation(.relu), "conv")
        b.op("sig", .activation(.sigmoid), "conv")
        b.op("sum", .add, "relu", "sig")
        let g = b.graph(outputs: ["sum"])
        let p = try plan(g)
        #expect(p.steps.first?.covers == ["conv"])
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test(arguments: [1, 2, 4])
    func groupedConvResidualAddFuses(groups: Int) throws {
        var b = GraphBuilder()
        let x = b.input("x", [2, 4, 7, 7])
        b.conv("a", x, in: 4, out: 4)
        b.op("ra", .activation(.relu), "a")
        b.conv("b", "ra", in: 4, out: 4, groups: groups)
        b.batchNorm("bn", "b", channels: 4)
        b.op("sum", .add, "bn", x)
        b.op("out", .activation(.relu), "sum")
        let g = b.graph(outputs: ["out"])
        let p = try plan(g)
        #expect(p.steps.map(\.covers) == [["a", "ra"], ["b", "bn", "sum", "out"]])
        guard case .conv(_, _, _, let e) = p.steps[1].kernel else { Issue.record("not a conv step"); return }
        #expect(e.residualInput == 1 && e.postActivation == .relu && e.preActivation == nil)
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func residualComputedAfterTheConvIsNotFusedIntoIt() throws {
        // sum = Add(c1, c2): c2 runs after c1, so only c2 can take the residual.
        var b = GraphBuilder()
        let x = b.input("x", [1, 2, 6, 6])
        b.conv("c1", x, in: 2, out: 3)
        b.conv("c2", x, in: 2, out: 3)
        b.op("sum", .add, "c1", "c2")
        let g = b.graph(outputs: ["sum"])
        let p = try plan(g)
        #expect(p.steps.map(\.covers) == [["c1"], ["c2", "sum"]])
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func broadcastingAddIsNotFused() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 5, 5])
        let bias = b.input("bias", [3, 1, 1])
        b.conv("c", x, in: 3, out: 3)
        b.op("sum", .add, "c", bias)
        let g = b.graph(outputs: ["sum"])
        #expect(try plan(g).steps.count == 2)
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test(arguments: [1, 2, 3])
    func convTransposeBatchNormFoldsWithGroups(rank: Int) throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4] + [Int](repeating: 4, count: rank))
        b.conv("up", x, in: 4, out: 6, k: 3, stride: 2, padding: 1, groups: 2, rank: rank, transposed: true, bias: false)
        b.batchNorm("bn", "up", channels: 6, rank: rank)
        let g = b.graph(outputs: ["bn"])
        #expect(try plan(g).steps.map(\.covers) == [["up", "bn"]])
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func standaloneBatchNormAndActivationChainStaySeparateButRunInPlace() throws {
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 4, 4])
        b.op("pre", .activation(.tanh), x)
        b.batchNorm("bn", "pre", channels: 3)
        b.op("act", .activation(.hardswish), "bn")
        b.op("out", .activation(.leakyReLU(negativeSlope: 0.1)), "act")
        let g = b.graph(outputs: ["out"])
        let p = try plan(g)
        #expect(p.steps.count == 4)
        // pre, bn and act share one buffer: each ran in place over the one before.
        #expect(p.memory.buffers.filter { !$0.isScratch }.count == 1)
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func identityIsRemovedUnlessItIsAnOutput() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 2, 5, 5])
        b.op("id1", .identity, x)
        b.conv("c", "id1", in: 2, out: 2)
        b.op("id2", .identity, "c")
        let g = b.graph(outputs: ["id2"])
        let p = try plan(g)
        #expect(p.steps.map(\.opName) == ["Conv2d", "Identity"])
        #expect(p.steps[0].inputs == ["x"])
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func deadBranchesAreRemovedButUnreadOutputsKept() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 2, 5, 5])
        b.conv("used", x, in: 2, out: 2)
        b.conv("dead", x, in: 2, out: 2)
        b.op("dead2", .activation(.relu), "dead")
        b.conv("side", x, in: 2, out: 3)
        let g = b.graph(outputs: ["used", "side"])
        let p = try plan(g)
        #expect(Set(p.steps.map(\.output)) == ["used", "side"])
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func noFuseKeepsOneStepPerLayer() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 6, 6])
        b.conv("conv", x, in: 3, out: 3)
        b.batchNorm("bn", "conv", channels: 3)
        b.op("relu", .activation(.relu), "bn")
        #expect(try plan(b.graph(outputs: ["relu"]), fuse: false).steps.count == 3)
    }
}
