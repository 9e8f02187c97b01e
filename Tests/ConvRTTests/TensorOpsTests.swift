import Foundation
import Testing
@testable import ConvRT

/// One ONNX-semantics case recorded from `onnx.reference` by Tools/gen_onnx_op_fixtures.py.
struct OnnxOpCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Attrs: Decodable, Sendable {
        var shape: [Int]?
        var allowZero: Bool?
        var starts: [Int]?
        var ends: [Int]?
        var axes: [Int]?
        var steps: [Int]?
        var axis: Int?
        var indices: [Int]?
        var indicesShape: [Int]?
        var permutation: [Int]?
        var `operator`: String?
        var keepDims: Bool?
        var log: Bool?
        var alpha: Float?
        var beta: Float?
    }

    struct Array: Decodable, Sendable {
        var shape: [Int]
        var data: [Float]
        var tensor: Tensor { Tensor(shape: shape, data: data) }
    }

    var name: String
    var op: String
    var attrs: Attrs
    var inputs: [Array]
    var expected: Array?
    var error: Bool?
    var testDescription: String { name }

    static func all() -> [OnnxOpCase] {
        struct File: Decodable { var cases: [OnnxOpCase] }
        guard let data = try? Data(contentsOf: fixturesURL.appendingPathComponent("onnx_ops.json")) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }

    /// convrt's op for the case.
    var irOp: Op? {
        let a = attrs
        switch op {
        case "reshape": return .reshape(ReshapeAttributes(shape: a.shape ?? [], allowZero: a.allowZero ?? false))
        case "slice": return .slice(SliceAttributes(starts: a.starts ?? [], ends: a.ends ?? [], axes: a.axes ?? [], steps: a.steps ?? []))
        case "gather": return .gather(GatherAttributes(axis: a.axis ?? 0, indices: a.indices ?? [], indicesShape: a.indicesShape ?? []))
        case "squeeze": return .squeeze(axes: a.axes ?? [])
        case "unsqueeze": return .unsqueeze(axes: a.axes ?? [])
        case "transpose": return .transpose(permutation: a.permutation ?? [])
        case "matmul": return .matmul
        case "binary": return a.operator.flatMap(BinaryOperator.init(rawValue:)).map { .binary($0) }
        case "concat": return .concat(axis: a.axis ?? 0)
        case "reduceMean": return .reduceMean(axes: a.axes ?? [], keepDims: a.keepDims ?? true)
        case "softmax": return .softmax(axis: a.axis ?? -1, log: a.log ?? false)
        case "hardSigmoid": return .activation(.hardSigmoid(alpha: a.alpha ?? 0.2, beta: a.beta ?? 0.5))
        default: return nil
        }
    }

    /// A one-node graph over inputs `x0, x1, ...`.
    var graph: Graph? {
        guard let op = irOp else { return nil }
        let names = inputs.indices.map { "x\($0)" }
        return Graph(inputs: zip(names, inputs).map { GraphInput(name: $0, shape: $1.shape.dims) },
                     nodes: [Node(name: "y", op: op, inputs: names)], outputs: ["y"])
    }
}

@Suite struct TensorOpsTests {
    static let onnxCases = OnnxOpCase.all()

    @Test func onnxFixturesArePresent() {
        #expect(Self.onnxCases.count > 80)
    }

    /// Each case through shape inference, the reference executor, both planned configurations
    /// and a `.pb` round trip; rejections must be rejected by shape inference.
    @Test(arguments: onnxCases)
    func matchesOnnxReference(_ c: OnnxOpCase) throws {
        let graph = try #require(c.graph, "unknown op \(c.op)")
        let pb = try ModelFile.decode(ModelFile.encode(graph), file: "\(c.name).pb")
        #expect(pb == graph)
        guard let expected = c.expected?.tensor else {
            #expect(throws: ConvRTError.self, "\(c.name) must be rejected") { _ = try ShapeInference.run(graph) }
            return
        }
        let inferred = try ShapeInference.run(graph)
        #expect(inferred.shape(of: "y") == expected.shape.dims)
        let inputs = Dictionary(uniqueKeysWithValues: c.inputs.enumerated().map { ("x\($0.offset)", $0.element.tensor) })
        let runs: [(String, () throws -> [String: Tensor])] = [
            ("reference", { try ReferenceExecutor.run(graph, inputs: inputs) }),
            ("planned", { try runPlanned(graph, inputs) }),
            ("planned, no reuse", { try runPlanned(graph, inputs, fuse: false, reuse: false) }),
        ]
        for (label, run) in runs {
            let y = try #require(try run()["y"])
            expectClose(y, expected, "\(c.name) [\(label)]", tolerance: 1e-5)
        }
    }

    // MARK: Symbolic shapes

    static func infer(_ op: Op, _ shapes: [SymbolicShape]) throws -> SymbolicShape {
        try TensorShapeFunctions.infer(op, operands: shapes).1
    }

    static let n = Dim.symbol("N"), h = Dim.symbol("H"), w = Dim.symbol("W")

    @Test func symbolicDimsFlowThrough() throws {
        let (n, h, w) = (Self.n, Self.h, Self.w)
        #expect(try Self.infer(.flatten(startDim: 1, endDim: -1), [[n, .known(4), h, w]]) == [n, .symbol("4*H*W")])
        #expect(try Self.infer(.flatten(startDim: 0, endDim: 1), [[n, .known(4)]]) == [.symbol("4*N")])
        #expect(try Self.infer(.reshape(ReshapeAttributes(shape: [-1, 512])), [[n, .known(512), .known(1), .known(1)]]) == [n, .known(512)])
        #expect(try Self.infer(.reshape(ReshapeAttributes(shape: [0, -1])), [[n, .known(512), .known(1), .known(1)]]) == [n, .known(512)])
        #expect(try Self.infer(.reshape(ReshapeAttributes(shape: [0, 3, -1])), [[n, .known(3), h, w]]) == [n, .known(3), .symbol("H*W")])
        #expect(try Self.infer(.reshape(ReshapeAttributes(shape: [-1, 2])), [[n, .known(5)]]) == [.symbol("(5*N)/2"), .known(2)])
        #expect(try Self.infer(.linear(LinearAttributes(inFeatures: 7, outFeatures: 3)), [[n, h, .known(7)]]) == [n, h, .known(3)])
        #expect(try Self.infer(.concat(axis: 1), [[n, .known(3), h], [n, .known(5), h]]) == [n, .known(8), h])
        #expect(try Self.infer(.concat(axis: 0), [[n, .known(3)], [.known(2), .known(3)], [h, .known(3)]]) == [.symbol("N+H+2"), .known(3)])
        #expect(try Self.infer(.concat(axis: 1), [[n, .known(3)], [.known(2), .known(3)]]) == [.known(2), .known(6)])
        #expect(try Self.infer(.matmul, [[n, .known(3), .known(4)], [.known(4), .known(5)]]) == [n, .known(3), .known(5)])
        #expect(try Self.infer(.squeeze(axes: []), [[n, .known(1), h]]) == [n, h])
        #expect(try Self.infer(.squeeze(axes: [0]), [[n, .known(3)]]) == [.known(3)])
        #expect(try Self.infer(.unsqueeze(axes: [0, -1]), [[n, h]]) == [.known(1), n, h, .known(1)])
        #expect(try Self.infer(.gather(GatherAttributes(axis: 0, indices: [0, -1], indicesShape: [2])), [[n, .known(5)]]) == [.known(2), .known(5)])
        #expect(try Self.infer(.transpose(permutation: [0, 2, 1]), [[n, .known(3), h]]) == [n, h, .known(3)])
        #expect(try Self.infer(.reduceMean(axes: [2, 3], keepDims: false), [[n, .known(3), h, w]]) == [n, .known(3)])
        #expect(try Self.infer(.softmax(axis: 1, log: false), [[n, h]]) == [n, h])
    }

    @Test func symbolicSliceLengths() throws {
        func slice(_ start: Int, _ end: Int, _ step: Int = 1) throws -> Dim {
            try Self.infer(.slice(SliceAttributes(starts: [start], ends: [end], axes: [1], steps: [step])), [[Self.n, Self.h]])[1]
        }
        #expect(try slice(0, Int.max) == .symbol("H"))
        #expect(try slice(1, Int.max) == .symbol("H-1"))
        #expect(try slice(0, -1) == .symbol("H-1"))
        #expect(try slice(2, -2) == .symbol("H-4"))
        #expect(try slice(0, Int.max, 2) == .symbol("(H-1)/2+1"))
        #expect(try slice(-3, Int.max) == .symbol("len(H[-3:])"))
        #expect(try slice(Int.max, Int.min, -1) == .symbol("len(H[::-1])"))
    }

    @Test func symbolicErrors() {
        #expect(throws: ConvRTError("the input's last dimension must be known when the model is compiled, but it is 'F'")) {
            _ = try Self.infer(.linear(LinearAttributes(isLazy: true, inFeatures: nil, outFeatures: 3)), [[Self.n, .symbol("F")]])
        }
        #expect(throws: ConvRTError("addmm: mat1 and mat2 shapes cannot be multiplied (3*Nx5 and 4x2)")) {
            _ = try Self.infer(.linear(LinearAttributes(inFeatures: 4, outFeatures: 2)), [[Self.n, .known(3), .known(5)]])
        }
        #expect(throws: ConvRTError.self) {
            _ = try Self.infer(.reshape(ReshapeAttributes(shape: [0, -1])), [[.known(0), Self.n]])
        }
    }

    /// A symbolic model re-plans for each bound shape, and the reshape's -1 follows the binding.
    @Test func symbolicReshapeRunsForEachBinding() throws {
        let graph = Graph(inputs: [GraphInput(name: "x", shape: [Self.n, .known(6)])],
                          nodes: [Node(name: "r", op: .reshape(ReshapeAttributes(shape: [-1, 3])), inputs: ["x"]),
                                  Node(name: "t", op: .transpose(permutation: []), inputs: ["r"])],
                          outputs: ["t"])
        let model = CompiledModel(graph: graph)
        for batch in [1, 4] {
            let x = Tensor(shape: [batch, 6], data: (0..<(batch * 6)).map(Float.init))
            let y = try #require(try model.run(["x": x])["t"])
            #expect(y == (try ReferenceExecutor.run(graph, inputs: ["x": x])["t"]))
            #expect(y.shape == [3, 2 * batch])
        }
        #expect(model.cachedPlanCount == 2)
    }

    // MARK: Planned kernels against the reference

    /// Linear's SGEMM path over shapes hitting every tile remainder, and its one-row path (batch
    /// 1 and 2; big enough to split the columns unevenly between threads), identical for 1 and 2
    /// threads, with and without a store activation.
    @Test func linearKernelMatchesReference() throws {
        var rng = SplitMix64(seed: 11)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        }
        let shapes = [(1, 1, 1), (1, 512, 10), (2, 7, 17), (6, 16, 16), (7, 33, 49), (13, 5, 3), (3, 100, 1),
                      (1, 1280, 1000), (2, 1100, 1003)]
        for (rows, inF, outF) in shapes {
            for bias in [true, false] {
                let weight = random([outF, inF]), b = bias ? random([outF]) : nil, x = random([rows, inF])
                var expected = ReferenceKernels.linear(x, weight: weight, bias: b)
                // ReLU6 in the store for the bias-less half.
                if !bias { expected.data = expected.data.map { Swift.min(Swift.max($0, 0), 6) } }
                var results: [[Float]] = []
                for threads in [1, 2] {
                    var kernel = LinearKernel(weight: weight, bias: b)
                    kernel.threads = threads
                    if !bias { kernel.activation = .clamp(min: 0, max: 6) }
                    var y = [Float](repeating: .nan, count: rows * outF)
                    x.data.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { kernel.run(xp.baseAddress!, rows: rows, out: $0.baseAddress!) }
                    }
                    results.append(y)
                    expectClose(Tensor(shape: [rows, outF], data: y), expected, "linear \(rows)x\(inF)->\(outF) bias \(bias)",
                                tolerance: 1e-5)
                }
                let same = results[0] == results[1]
                #expect(same, "linear \(rows)x\(inF)->\(outF): 1 vs 2 threads")
            }
        }
    }

    /// Broadcast walks, transposes, slices and reductions on random shapes: planned == reference.
    @Test func movementAndReductionKernelsMatchReference() throws {
        var rng = SplitMix64(seed: 5)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        for trial in 0..<60 {
            let rank = 1 + pick(4)
            let shape = (0..<rank).map { _ in 1 + pick(4) }
            // Operand b: some dims broadcast, maybe fewer dims.
            let dropped = pick(rank)
            let shapeB = shape.dropFirst(dropped).map { pick(3) == 0 ? 1 : $0 }
            var perm = Swift.Array(0..<rank)
            perm.shuffle(using: &rng)
            let axes = (0..<rank).filter { _ in pick(2) == 0 }
            let start = pick(shape[rank - 1]), step = [1, 2, -1, -2][pick(4)]
            let ops: [(Op, [[Int]])] = [
                (.binary([.sub, .mul, .div][trial % 3]), [shape, Swift.Array(shapeB)]),
                (.binary(.mul), [Swift.Array(shapeB), shape]),
                (.transpose(permutation: perm), [shape]),
                (.reduceMean(axes: axes, keepDims: trial % 2 == 0), [shape]),
                (.softmax(axis: pick(rank), log: trial % 2 == 1), [shape]),
                (.slice(SliceAttributes(starts: [start, 0], ends: [Int.max * (step > 0 ? 1 : -1), -1], axes: [-1, 0], steps: [step, 1])), [shape]),
                (.concat(axis: rank - 1), [shape, Swift.Array(shape.dropLast()) + [2]]),
                (.gather(GatherAttributes(axis: 0, indices: [0, -1, 0], indicesShape: [3])), [shape]),
            ]
            for (op, shapes) in ops {
                if case .slice = op, rank < 2 { continue }
                let names = shapes.indices.map { "x\($0)" }
                let graph = Graph(inputs: zip(names, shapes).map { GraphInput(name: $0, shape: $1.dims) },
                                  nodes: [Node(name: "y", op: op, inputs: names)], outputs: ["y"])
                let inputs = Dictionary(uniqueKeysWithValues: zip(names, shapes).map { name, s in
                    (name, Tensor(shape: s, data: (0..<s.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 + 0.01 }))
                })
                let expected = try #require(try ReferenceExecutor.run(graph, inputs: inputs)["y"])
                let actual = try #require(try runPlanned(graph, inputs)["y"])
                expectClose(actual, expected, "\(op.displayName) \(shapes)", tolerance: 1e-5)
            }
        }
    }

    /// Linear -> ReLU/ReLU6/LeakyReLU runs in the SGEMM's store; Linear -> Sigmoid stays apart.
    @Test func linearFusesStoreActivations() throws {
        for (activation, fused) in [(Activation.relu, true), (.relu6, true), (.leakyReLU(negativeSlope: 0.1), true), (.sigmoid, false)] {
            for inFeatures in [0, 9] {
                var b = GraphBuilder(seed: 3)
                let x = b.input("x", [3, inFeatures])
                b.op("fc", .linear(LinearAttributes(inFeatures: inFeatures, outFeatures: 5)), x)
                b.weights["fc.weight"] = Tensor(shape: [5, inFeatures], data: (0..<(5 * inFeatures)).map { Float($0 % 7) - 3 })
                b.weights["fc.bias"] = Tensor(shape: [5], data: [-2, -0.5, 0, 0.5, 8])
                b.op("act", .activation(activation), "fc")
                let graph = b.graph(outputs: ["act"])
                #expect(try plan(graph).steps.map(\.opName) == (fused ? ["Linear+\(activation.displayName)"] : ["Linear", activation.displayName]))
                try expectSameWithAndWithoutOptimisations(graph)
                let input = Tensor(shape: [3, inFeatures], data: (0..<(3 * inFeatures)).map { Float($0) / 10 - 1 })
                expectClose(try runPlanned(graph, ["x": input])["act"]!, try ReferenceExecutor.run(graph, inputs: ["x": input])["act"]!,
                            "Linear+\(activation.displayName) in \(inFeatures)")
            }
        }
    }

    // MARK: Memory planning

    /// Flatten runs in place (no copy) when its input dies there; a broadcast operand is never
    /// overwritten in place (it would be read after its first elements are written).
    @Test func viewsRunInPlaceAndBroadcastOperandsDoNot() throws {
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 4, 4]), small = b.input("s", [1, 3])
        b.conv("conv", x, in: 3, out: 3)
        b.op("flat", .flatten(startDim: 1, endDim: -1), "conv")
        b.op("relu", .activation(.relu), small)
        b.op("sum", .add, "relu", b.op("rows", .reshape(ReshapeAttributes(shape: [-1, 3])), "flat"))
        b.op("prod", .binary(.mul), "relu", "sum")
        let graph = b.graph(outputs: ["prod"])
        let p = try plan(graph)
        #expect(p.memory.bufferOfValue["flat"] == p.memory.bufferOfValue["conv"])
        #expect(p.memory.bufferOfValue["rows"] == p.memory.bufferOfValue["flat"])
        #expect(p.memory.bufferOfValue["sum"] != p.memory.bufferOfValue["relu"])
        expectNoLiveOverlap(p)
        try expectSameWithAndWithoutOptimisations(graph)
        let inputs = ["x": Tensor(zeros: [2, 3, 4, 4], value: 0.5), "s": Tensor(shape: [1, 3], data: [1, -2, 3])]
        expectClose(try runPlanned(graph, inputs)["prod"]!, try ReferenceExecutor.run(graph, inputs: inputs)["prod"]!, "prod")
    }

    /// A Constant (no operands) plans and runs, and its value is a buffer, not a parameter.
    @Test func constantRunsAndIsNotAParameter() throws {
        let graph = Graph(inputs: [GraphInput(name: "x", shape: [.known(2), .known(3)])],
                          nodes: [Node(name: "c", op: .constant(shape: [3]), inputs: []),
                                  Node(name: "y", op: .binary(.sub), inputs: ["x", "c"])],
                          outputs: ["y", "c"], weights: ["c.value": Tensor(shape: [3], data: [1, 2, 3])])
        try WeightBinding.validate(graph, file: "m.pb")
        let x = Tensor(shape: [2, 3], data: [1, 1, 1, 5, 5, 5])
        for outputs in [try ReferenceExecutor.run(graph, inputs: ["x": x]), try runPlanned(graph, ["x": x])] {
            #expect(outputs["y"]?.data == [0, -1, -2, 4, 3, 2])
            #expect(outputs["c"]?.data == [1, 2, 3])
        }
        #expect(ModelSummary(try ShapeInference.run(graph)).totalParameters == 0)
    }

    // MARK: Summary

    @Test func summaryCountsLinearParametersAndFLOPs() throws {
        let graph = try ConvnetParser.parse("""
            input x: [2, 3, 4, 4]
            f = Flatten(x)
            fc = Linear(f, in_features=48, out_features=10)
            s = Softmax(fc, dim=1)
            output s
            """, file: "m.convnet").graph
        let summary = ModelSummary(try ShapeInference.run(graph))
        #expect(summary.nodes.map(\.attributes) == ["start_dim=1 end_dim=-1", "48->10", "dim=1"])
        #expect(summary.nodes.map(\.flops) == [0, 2 * 2 * 10 * 48, 5 * 20])
        #expect(summary.totalParameters == 48 * 10 + 10)
    }
}
