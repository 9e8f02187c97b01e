import Foundation
import Testing
@testable import ConvRT

/// BatchNorm, the activations and Identity past the parser: shape checks, weights, kernels.
/// (Their PyTorch parity over many configurations is in `PyTorchParityTests`.)
@Suite struct BatchNormActivationTests {
    // MARK: Shape inference

    @Test func lazyBatchNormTakesItsChannelsFromTheInput() throws {
        let inferred = try compile("input x: [2, 5, 3, 3]\nb = LazyBatchNorm2d(x)\noutput b")
        #expect(inferred.graph.nodes.first?.op == .batchNorm(.init(spatialRank: 2, isLazy: true, numFeatures: 5)))
        #expect(inferred.shape(of: "b") == [2, 5, 3, 3].dims)
        #expect(Set(inferred.graph.weights.keys) == ["b.weight", "b.bias", "b.running_mean", "b.running_var"])
    }

    @Test func lazyBatchNormNeedsAKnownChannelCountOnlyWithTensors() throws {
        #expect(compileError("input x: [N, C]\nb = LazyBatchNorm1d(x)\noutput b")
            == "model.convnet:2:1: LazyBatchNorm1d 'b': the input's channel dimension must be known when the model is compiled, but it is 'C'")
        let free = try compile("input x: [N, C, L]\nb = LazyBatchNorm1d(x, affine=False, track_running_stats=False)\noutput b")
        #expect(free.graph.nodes.first?.op == .batchNorm(.init(spatialRank: 1, isLazy: true, numFeatures: nil,
                                                                 affine: false, trackRunningStats: false)))
        #expect(free.graph.weights.isEmpty)
    }

    /// A symbolic channel dim is checked when the model runs on concrete shapes.
    @Test func symbolicChannelsAreCheckedAtRunTime() throws {
        let inferred = try compile("input x: [N, C, 4]\nb = BatchNorm1d(x, num_features=3)\noutput b")
        let bad = Tensor(zeros: [2, 4, 4])
        #expect(throws: ConvRTError("running_mean should contain 4 elements not 3", context: "BatchNorm1d 'b'",
                                    at: ConvRT.SourceLocation(file: "model.convnet", line: 2, column: 1))) {
            try ReferenceExecutor.run(inferred.graph, inputs: ["x": bad])
        }
        let single = try compile("input x: [N, 3, H, W]\nb = BatchNorm2d(x, num_features=3, track_running_stats=False)\noutput b")
        #expect(throws: ConvRTError(
            "Expected more than 1 value per channel when training, got input size torch.Size([1, 3, 1, 1])",
            context: "BatchNorm2d 'b'", at: ConvRT.SourceLocation(file: "model.convnet", line: 2, column: 1))) {
            try ReferenceExecutor.run(single.graph, inputs: ["x": Tensor(zeros: [1, 3, 1, 1])])
        }
    }

    @Test func batchStatisticsAllowAnySymbolicBatch() throws {
        let inferred = try compile("input x: [N, 2, H]\nb = BatchNorm1d(x, num_features=2, track_running_stats=False)\noutput b")
        let x = Tensor(shape: [2, 2, 1], data: [1, 10, 3, 20])
        let y = try #require(try ReferenceExecutor.run(inferred.graph, inputs: ["x": x])["b"])
        // Channel 0: {1, 3}, mean 2, var 1; channel 1: {10, 20}, mean 15, var 25 (weight 1, bias 0).
        let expected: [Float] = [-1 / (1 + 1e-5).squareRoot(), -5 / (25 + 1e-5).squareRoot(),
                                 1 / (1 + 1e-5).squareRoot(), 5 / (25 + 1e-5).squareRoot()]
        expectClose(y, Tensor(shape: [2, 2, 1], data: expected), "batch stats", tolerance: 1e-6)
    }

    /// `.pb` models do not pass through the DSL, so shape inference repeats its checks.
    @Test func pbModelsGetTheSameChecks() throws {
        let hardtanh = Graph(
            inputs: [GraphInput(name: "x", shape: [1, 3].dims)],
            nodes: [Node(name: "h", op: .activation(.hardtanh(minValue: 0.5, maxValue: 0.25)), inputs: ["x"])],
            outputs: ["h"])
        #expect(throws: ConvRTError("max_val (0.25) must be greater than min_val (0.5)", context: "Hardtanh 'h'")) {
            try ShapeInference.run(hardtanh)
        }
        let eps = Graph(
            inputs: [GraphInput(name: "x", shape: [1, 3].dims)],
            nodes: [Node(name: "b", op: .batchNorm(.init(spatialRank: 1, numFeatures: 3, eps: -1)), inputs: ["x"])],
            outputs: ["b"])
        #expect(throws: ConvRTError("batch_norm eps must be non-negative, but got -1.0", context: "BatchNorm1d 'b'")) {
            try ShapeInference.run(eps)
        }
    }

    // MARK: Weights

    @Test func parametersFollowTheStateDict() {
        let node = Node(name: "bn", op: .batchNorm(.init(spatialRank: 2, numFeatures: 3)), inputs: ["x"])
        let specs = WeightBinding.parameters(of: Graph(inputs: [], nodes: [node], outputs: []))
        #expect(specs.map(\.key) == ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"])
        #expect(specs.map(\.shape) == Array(repeating: [3], count: 4))
        #expect(specs.map(\.isBuffer) == [false, false, true, true])
        let noAffine = Node(name: "n", op: .batchNorm(.init(spatialRank: 1, numFeatures: 2, affine: false)), inputs: ["x"])
        let noStats = Node(name: "s", op: .batchNorm(.init(spatialRank: 1, numFeatures: 2, trackRunningStats: false)), inputs: ["x"])
        let neither = Node(name: "z", op: .batchNorm(.init(spatialRank: 1, numFeatures: -1, affine: false, trackRunningStats: false)),
                           inputs: ["x"])
        #expect(WeightBinding.parameters(of: Graph(inputs: [], nodes: [noAffine, noStats, neither], outputs: [])).map(\.key)
            == ["n.running_mean", "n.running_var", "s.weight", "s.bias"])
    }

    @Test func seededInitUsesPyTorchDefaults() throws {
        let inferred = try compile("input x: [1, 2, 3]\nb = BatchNorm1d(x, num_features=2)\noutput b")
        let w = inferred.graph.weights
        #expect(w["b.weight"] == Tensor(shape: [2], data: [1, 1]))
        #expect(w["b.bias"] == Tensor(shape: [2], data: [0, 0]))
        #expect(w["b.running_mean"] == Tensor(shape: [2], data: [0, 0]))
        #expect(w["b.running_var"] == Tensor(shape: [2], data: [1, 1]))
        #expect(w["b.num_batches_tracked"] == nil)
    }

    @Test func numBatchesTrackedIsAcceptedAndDropped() throws {
        let graph = try compile("input x: [1, 2, 3]\nb = BatchNorm1d(x, num_features=2)\noutput b").graph
        var entries = ["weight", "bias", "running_mean", "running_var"].map { (name: "b.\($0)", tensor: Tensor(zeros: [2])) }
        entries.append((name: "b.num_batches_tracked", tensor: Tensor(shape: [], data: [1000])))
        let bound = try WeightBinding.bind(graph, entries: entries, file: "w.npz")
        #expect(Set(bound.keys) == ["b.weight", "b.bias", "b.running_mean", "b.running_var"])
        var withBound = graph
        withBound.weights = bound
        try WeightBinding.validate(withBound, file: "m.pb")
        #expect(try ModelFile.decode(ModelFile.encode(withBound), file: "m.pb") == withBound)

        entries[4] = (name: "b.num_batches_tracked", tensor: Tensor(zeros: [2]))
        #expect(throws: ConvRTError("w.npz: key 'b.num_batches_tracked' has shape [2], but it must be a scalar (a counter)")) {
            try WeightBinding.bind(graph, entries: entries, file: "w.npz")
        }
    }

    @Test func numBatchesTrackedNeedsRunningStats() throws {
        let graph = try compile("input x: [2, 2, 3]\nb = BatchNorm1d(x, num_features=2, track_running_stats=False)\noutput b").graph
        let entries = [(name: "b.weight", tensor: Tensor(zeros: [2])), (name: "b.bias", tensor: Tensor(zeros: [2])),
                       (name: "b.num_batches_tracked", tensor: Tensor(zeros: []))]
        #expect(throws: ConvRTError("w.npz: unexpected key 'b.num_batches_tracked': no layer of the model uses it")) {
            try WeightBinding.bind(graph, entries: entries, file: "w.npz")
        }
    }

    @Test func summaryCountsParametersNotBuffers() throws {
        let inferred = try compile("input x: [1, 4, 3, 3]\nb = BatchNorm2d(x, num_features=4)\na = GELU(b)\noutput a")
        let summary = ModelSummary(inferred)
        #expect(summary.nodes.map(\.parameterCount) == [8, 0])
        #expect(summary.nodes.map(\.flops) == [72, 36])
    }

    // MARK: Kernels

    @Test func batchNormWithRunningStatsMatchesPyTorchsFloatFormula() {
        let x = Tensor(shape: [1, 2, 2], data: [1, 2, -3, 0.5])
        let mean: [Float] = [0.5, -1], variance: [Float] = [4, 0.25], weight: [Float] = [2, -1], bias: [Float] = [0.1, 3]
        let y = ReferenceKernels.batchNorm(x, mean: mean, variance: variance, weight: weight, bias: bias, eps: 1e-5)
        var expected: [Float] = []
        for c in 0..<2 {
            let invstd = 1 / (variance[c] + Float(1e-5)).squareRoot()
            // Fused multiply-adds, as in PyTorch's x86 builds.
            let alpha = invstd * weight[c], beta = bias[c].addingProduct(-mean[c], alpha)
            expected += x.data[(2 * c)..<(2 * c + 2)].map { beta.addingProduct($0, alpha) }
        }
        #expect(y == Tensor(shape: [1, 2, 2], data: expected))
    }

    @Test func batchNormOnEmptyInputs() {
        let empty = Tensor(zeros: [0, 3, 4])
        #expect(ReferenceKernels.batchNorm(empty, mean: nil, variance: nil, weight: nil, bias: nil, eps: 1e-5) == empty)
        let noSpatial = Tensor(zeros: [2, 0])
        #expect(ReferenceKernels.batchNorm(noSpatial, mean: [], variance: [], weight: [], bias: [], eps: 1e-5) == noSpatial)
    }

    @Test func activationsPropagateNaN() {
        let all: [Activation] = [
            .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .hardtanh(minValue: -1, maxValue: 1), .sigmoid, .tanh,
            .silu, .hardswish, .gelu(approximateTanh: false), .gelu(approximateTanh: true),
        ]
        for a in all { #expect(a.apply(.nan).isNaN, "\(a)") }
    }

    @Test func activationEdgeValues() {
        #expect(Activation.relu6.apply(7) == 6)
        #expect(Activation.relu6.apply(-7) == 0)
        #expect(Activation.leakyReLU(negativeSlope: -0.5).apply(-4) == 2)
        #expect(Activation.leakyReLU(negativeSlope: 0.2).apply(3) == 3)
        #expect(Activation.hardtanh(minValue: -0.5, maxValue: 2).apply(-3) == -0.5)
        #expect(Activation.hardswish.apply(-3) == 0)
        #expect(Activation.hardswish.apply(3) == 3)
        #expect(Activation.hardswish.apply(1) == Float(1) * 4 / 6)
        #expect(Activation.sigmoid.apply(-200) == 0)
        #expect(Activation.sigmoid.apply(200) == 1)
        #expect(Activation.silu.apply(-200) == 0)
        #expect(Activation.silu.apply(200) == 200)
        #expect(Activation.gelu(approximateTanh: false).apply(-20) == 0)
        #expect(Activation.gelu(approximateTanh: true).apply(20) == 20)
        #expect(Activation.tanh.apply(.infinity) == 1)
    }

    /// Every activation fixture within 1e-6 (relative to max(1, |expected|), per element) of
    /// PyTorch's float64 result: the float32 formulas lose no more than a few ulps.
    @Test(arguments: ["relu6", "leakyrelu_slope0p2", "hardtanh_m0p5_2", "sigmoid", "sigmoid_wide", "tanh", "tanh_wide",
                      "silu", "silu_wide", "hardswish", "gelu", "gelu_tanh", "gelu_wide", "gelu_tanh_wide", "gelu_small"])
    func activationsAreWithinAFewUlps(_ name: String) throws {
        let dir = fixturesURL.appendingPathComponent("layers")
        let compiled = try ModelCompiler.compile(contentsOf: dir.appendingPathComponent("\(name).convnet"))
        let x = try NPY.read(contentsOf: dir.appendingPathComponent("\(name).in.npy")).tensor
        let expected = try NPY.read(contentsOf: dir.appendingPathComponent("\(name).out.npy")).tensor
        let actual = try #require(try ReferenceExecutor.run(compiled.graph, inputs: ["x": x])["act"])
        let worst = zip(actual.data, expected.data).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= 1e-6, "\(name): \(worst)")
    }

    // MARK: Helpers

    private func compile(_ text: String) throws -> InferredGraph {
        try ModelCompiler.compile(ConvnetParser.parse(text, file: "model.convnet"), baseDirectory: URL(fileURLWithPath: "/"))
    }
}
