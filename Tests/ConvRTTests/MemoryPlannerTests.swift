import Foundation
import Testing
@testable import ConvRT

/// A random DAG of convs, BatchNorms, activations and residual adds, with branches, several
/// outputs and outputs nobody reads.
func randomGraph(seed: UInt64) -> Graph {
    var rng = SplitMix64(seed: seed)
    func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    var b = GraphBuilder(seed: seed &* 1000)
    let channelsChoices = [2, 3, 4]
    var values: [(name: String, channels: Int)] = [(b.input("x", [1, 3, 6, 6]), 3)]
    let count = 4 + pick(12)
    for i in 0..<count {
        let (x, c) = values[values.count - 1 - pick(min(values.count, 3))]
        let name = "n\(i)"
        switch pick(6) {
        case 0, 1:
            let out = channelsChoices[pick(3)]
            b.conv(name, x, in: c, out: out, k: [1, 3][pick(2)], padding: 1 - 0, groups: 1)
            // k=1 with padding 1 grows the spatial size; keep sizes fixed by using padding k/2.
            if case .conv(var a) = b.nodes.last!.op {
                a.padding = .explicit([a.kernelSize[0] / 2, a.kernelSize[1] / 2])
                b.nodes[b.nodes.count - 1].op = .conv(a)
            }
            values.append((name, out))
        case 2:
            b.batchNorm(name, x, channels: c)
            values.append((name, c))
        case 3:
            b.op(name, .activation([.relu, .sigmoid, .relu6, .silu][pick(4)]), x)
            values.append((name, c))
        default:
            guard let other = values.filter({ $0.channels == c && $0.name != x }).randomElement(using: &rng) else {
                b.op(name, .activation(.relu), x)
                values.append((name, c))
                continue
            }
            b.op(name, .add, x, other.name)
            values.append((name, c))
        }
    }
    var outputs = [values.last!.name]
    for (name, _) in values.dropFirst().dropLast() where pick(4) == 0 { outputs.append(name) }
    return b.graph(outputs: outputs)
}

/// The planner's invariant: buffers live at the same time never share bytes; values sharing
/// a buffer hand it over at one step (in place) and never overlap otherwise.
func expectNoLiveOverlap(_ p: ExecutionPlan, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let buffers = p.memory.buffers
    for i in buffers.indices {
        #expect(buffers[i].offset + buffers[i].bytes <= p.memory.arenaBytes, sourceLocation: sourceLocation)
        for j in buffers.indices where j > i {
            let (a, b) = (buffers[i], buffers[j])
            let liveTogether = a.firstStep <= b.lastStep && b.firstStep <= a.lastStep
            let bytesOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes
            #expect(!(liveTogether && bytesOverlap), "buffers \(a.values) and \(b.values) overlap", sourceLocation: sourceLocation)
        }
    }
    var defined: [String: Int] = [:], lastRead: [String: Int] = [:]
    for (i, step) in p.steps.enumerated() {
        defined[step.output] = i
        for name in step.inputs { lastRead[name] = i }
    }
    for buffer in buffers where !buffer.isScratch {
        let spans = buffer.values.map { (defined[$0]!, lastRead[$0] ?? defined[$0]!) }
        for (u, v) in zip(spans, spans.dropFirst()) {
            #expect(v.0 == u.1, "in-place handover \(buffer.values) at steps \(u) -> \(v)", sourceLocation: sourceLocation)
        }
        #expect(spans.allSatisfy { $0.0 >= buffer.firstStep && $0.1 <= buffer.lastStep }, sourceLocation: sourceLocation)
    }
    for name in p.inputs + p.outputs {
        #expect(p.memory.bufferOfValue[name] == nil, "graph input/output \(name) is in the arena", sourceLocation: sourceLocation)
    }
}

@Suite struct MemoryPlannerTests {
    @Test(arguments: 0..<150)
    func randomGraphsNeverOverlapLiveBuffers(seed: Int) throws {
        let g = randomGraph(seed: UInt64(seed))
        try GraphVerifier.verify(g)
        for (fuse, reuse) in [(true, true), (false, true), (true, false)] {
            expectNoLiveOverlap(try plan(g, fuse: fuse, reuse: reuse))
        }
        try expectSameWithAndWithoutOptimisations(g, seed: UInt64(seed))
    }

    /// A ResNet-style stack: stem, basic blocks (conv-bn-relu-conv-bn-add-relu), a strided
    /// block with a 1x1 downsample shortcut.
    static func resNetStyle(blocks: Int = 4, channels: Int = 16, size: Int = 32) -> Graph {
        var b = GraphBuilder()
        var x = b.input("x", [1, 3, size, size])
        b.conv("stem", x, in: 3, out: channels, bias: false)
        b.batchNorm("stem.bn", "stem", channels: channels)
        x = b.op("stem.relu", .activation(.relu), "stem.bn")
        var c = channels
        for i in 0..<blocks {
            let down = i == blocks / 2
            let out = down ? 2 * c : c
            b.conv("b\(i).conv1", x, in: c, out: out, stride: down ? 2 : 1, bias: false)
            b.batchNorm("b\(i).bn1", "b\(i).conv1", channels: out)
            b.op("b\(i).relu1", .activation(.relu), "b\(i).bn1")
            b.conv("b\(i).conv2", "b\(i).relu1", in: out, out: out, bias: false)
            b.batchNorm("b\(i).bn2", "b\(i).conv2", channels: out)
            var shortcut = x
            if down {
                b.conv("b\(i).down", x, in: c, out: out, k: 1, stride: 2, padding: 0, bias: false)
                shortcut = b.batchNorm("b\(i).down.bn", "b\(i).down", channels: out)
            }
            b.op("b\(i).add", .add, "b\(i).bn2", shortcut)
            x = b.op("b\(i).relu", .activation(.relu), "b\(i).add")
            c = out
        }
        return b.graph(outputs: [x])
    }

    @Test func resNetStyleArenaIsAtMostFortyPercentOfNaive() throws {
        let g = Self.resNetStyle()
        let p = try plan(g)
        expectNoLiveOverlap(p)
        let ratio = Double(p.memory.arenaBytes) / Double(p.memory.naiveBytes)
        #expect(ratio <= 0.40, "arena \(p.memory.arenaBytes) / naive \(p.memory.naiveBytes) = \(ratio)")
        try expectSameWithAndWithoutOptimisations(g)
    }

    @Test func plainChainNeedsAboutTwoActivations() throws {
        var b = GraphBuilder()
        var x = b.input("x", [1, 8, 16, 16])
        for i in 0..<8 {
            b.conv("c\(i)", x, in: 8, out: 8)
            x = b.op("r\(i)", .activation(.relu), "c\(i)")
        }
        let g = b.graph(outputs: [x])
        let p = try plan(g)
        let activation = 8 * 16 * 16 * 4
        let scratch = p.memory.buffers.filter(\.isScratch).map(\.bytes).max() ?? 0
        #expect(p.memory.arenaBytes <= 2 * activation + scratch, "arena \(p.memory.arenaBytes), activation \(activation)")
    }

    @Test func noReuseGivesEveryValueItsOwnBytes() throws {
        let p = try plan(Self.resNetStyle(), reuse: false)
        #expect(p.memory.arenaBytes == p.memory.naiveBytes)
        expectNoLiveOverlap(p)
    }

    @Test func planIsCachedPerInputShapeAndSymbolicBatchReplans() throws {
        var b = GraphBuilder()
        b.inputs = [GraphInput(name: "x", shape: [.symbol("N"), .known(2), .known(5), .known(5)])]
        b.conv("c", "x", in: 2, out: 3)
        let model = CompiledModel(graph: b.graph(outputs: ["c"]))
        for n in [1, 1, 3, 1, 3, 0] {
            let out = try model.run(["x": Tensor(zeros: [n, 2, 5, 5], value: 0.5)])
            #expect(out["c"]?.shape == [n, 3, 5, 5])
        }
        #expect(model.cachedPlanCount == 3)
    }
}
