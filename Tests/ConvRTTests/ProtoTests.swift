import Foundation
import Testing

@testable import ConvRT

/// The `.pb` model format: lossless round trips, stable bytes, and a precise
/// `ConvRTError` (never a trap) for every malformed file.
@Suite struct ProtoTests {
    // MARK: Fixtures

    /// A graph using every op and attribute variant (not shape-valid; it need not be).
    static let sample: Graph = {
        let x = GraphInput(name: "x", shape: [.symbol("N"), .known(3), .symbol("H"), .symbol("W")])
        let z = GraphInput(name: "z", shape: [.known(2), .known(4), .known(16)])
        let v = GraphInput(name: "v", shape: [.known(0), .known(2), .known(4), .known(4), .known(4)])
        let scalarIn = GraphInput(name: "s", shape: [])
        let nodes: [Node] = [
            Node(
                name: "stem", op: .conv(.init(spatialRank: 2, inChannels: 3, outChannels: 8, kernelSize: [3, 3],
                    padding: .explicit([1, 1]))),
                inputs: ["x"], location: ConvRT.SourceLocation(file: "net.convnet", line: 3, column: 5)),
            Node(name: "act", op: .activation(.relu), inputs: ["stem"]),
            Node(
                name: "same", op: .conv(.init(spatialRank: 2, inChannels: 8, outChannels: 8, kernelSize: [2, 3],
                    padding: .same, dilation: [1, 2], groups: 2, paddingMode: .reflect)),
                inputs: ["act"]),
            Node(name: "sum", op: .add, inputs: ["act", "same"]),
            Node(
                name: "up", op: .conv(.init(spatialRank: 2, transposed: true, inChannels: 8, outChannels: 4,
                    kernelSize: [3, 3], stride: [2, 2], padding: .explicit([1, 0]), hasBias: false,
                    outputPadding: [1, 1], outputSize: [1, 4, 9, 9])),
                inputs: ["sum"]),
            Node(
                name: "lazy", op: .conv(.init(spatialRank: 2, isLazy: true, inChannels: nil, outChannels: 4,
                    kernelSize: [1, 1], padding: .valid, paddingMode: .circular)),
                inputs: ["up"]),
            Node(
                name: "unf", op: .unfold(SlidingWindow(kernelSize: [2, 2], dilation: [1, 2], padding: [0, 1], stride: [2, 1])),
                inputs: ["lazy"]),
            Node(
                name: "fold",
                op: .fold(FoldAttributes(outputSize: [5, 6], window: SlidingWindow(kernelSize: [2, 2], stride: [1, 2]))),
                inputs: ["unf"]),
            Node(
                name: "c1", op: .conv(.init(spatialRank: 1, inChannels: 4, outChannels: 6, kernelSize: [5],
                    padding: .explicit([2]), paddingMode: .replicate, outputSize: [])),
                inputs: ["z"]),
            Node(
                name: "t3", op: .conv(.init(spatialRank: 3, transposed: true, isLazy: true, inChannels: 2, outChannels: 2,
                    kernelSize: [1, 2, 3], outputSize: [4, 5, 6])),
                inputs: ["v"], location: ConvRT.SourceLocation(file: "dir/ü.convnet", line: 120, column: 1)),
            Node(name: "r", op: .activation(.relu), inputs: ["s"]),
        ] + activationNodes + [
            Node(name: "id", op: .identity, inputs: ["x"]),
            Node(name: "bn", op: .batchNorm(.init(spatialRank: 2, numFeatures: 3)), inputs: ["x"]),
            Node(name: "bn1", op: .batchNorm(.init(spatialRank: 1, isLazy: true, numFeatures: nil, eps: 0.5)), inputs: ["z"]),
            Node(
                name: "bn3",
                op: .batchNorm(.init(spatialRank: 3, isLazy: true, numFeatures: 2, eps: 1e-3, affine: false,
                                     trackRunningStats: false)),
                inputs: ["v"], location: ConvRT.SourceLocation(file: "net.convnet", line: 9, column: 1)),
            Node(name: "bn_odd", op: .batchNorm(.init(spatialRank: 2, numFeatures: -4, eps: -0.0)), inputs: ["x"]),
        ]
        let weights: [String: Tensor] = [
            "stem.weight": ramp([8, 3, 3, 3]), "stem.bias": ramp([8]),
            "same.weight": ramp([8, 4, 2, 3]), "same.bias": ramp([8]),
            "up.weight": ramp([8, 4, 3, 3]),
            "c1.weight": ramp([6, 4, 5]), "c1.bias": ramp([6]),
            "t3.weight": Tensor(shape: [2, 0, 1, 2, 3], data: []), "t3.bias": Tensor(shape: [0], data: []),
            "scalar": Tensor(shape: [], data: [-2.5]),
        ]
        return Graph(
            inputs: [x, z, v, scalarIn], nodes: nodes, outputs: ["fold", "up", "c1", "t3", "x", "r"], weights: weights)
    }()

    /// Every activation kind and parameter variant.
    static let activations: [Activation] = [
        .relu, .relu6, .leakyReLU(negativeSlope: 0.01), .leakyReLU(negativeSlope: 0), .leakyReLU(negativeSlope: -2.5),
        .hardtanh(minValue: -1, maxValue: 1), .hardtanh(minValue: 0, maxValue: 0), .hardtanh(minValue: -0.5, maxValue: .infinity),
        .sigmoid, .tanh, .silu, .hardswish, .gelu(approximateTanh: false), .gelu(approximateTanh: true),
        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSigmoid(alpha: 1.0 / 6, beta: 0.5),
    ]

    static let activationNodes: [Node] = activations.enumerated().map { i, a in
        Node(name: "a\(i)", op: .activation(a), inputs: ["x"])
    }

    /// Deterministic, non-trivial values.
    static func ramp(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { Float($0 % 7) * 0.37 - Float($0) / 1024 })
    }

    static let file = "m.pb"

    static func decode(_ data: Data) throws -> Graph { try ModelFile.decode(data, file: file) }

    static func decode(_ model: PBModel) throws -> Graph { try decode(try model.serializedBytes()) }

    // MARK: Round trips

    @Test func roundTripIsLossless() throws {
        let bytes = try ModelFile.encode(Self.sample)
        let back = try Self.decode(bytes)
        #expect(back == Self.sample)
        #expect(back.nodes.map(\.op) == Self.sample.nodes.map(\.op))
        #expect(back.nodes.map(\.location) == Self.sample.nodes.map(\.location))
        #expect(back.weights == Self.sample.weights)
    }

    @Test func reencodingGivesTheSameBytes() throws {
        let bytes = try ModelFile.encode(Self.sample)
        #expect(try ModelFile.encode(Self.decode(bytes)) == bytes)
        #expect(try ModelFile.encode(Self.sample) == bytes)
    }

    @Test func weightInsertionOrderDoesNotMatter() throws {
        var reversed: [String: Tensor] = [:]
        for (k, v) in Self.sample.weights.sorted(by: { $0.key > $1.key }) { reversed[k] = v }
        var g = Self.sample
        g.weights = reversed
        #expect(try ModelFile.encode(g) == ModelFile.encode(Self.sample))
        let names = try PBModel(serializedBytes: ModelFile.encode(g)).weights.map(\.name)
        #expect(names == names.sorted())
    }

    @Test(arguments: ConvAttributes.PaddingMode.allCases)
    func everyPaddingModeRoundTrips(_ mode: ConvAttributes.PaddingMode) throws {
        let conv = ConvAttributes(spatialRank: 1, inChannels: 1, outChannels: 1, kernelSize: [3], paddingMode: mode)
        try expectRoundTrip(conv)
    }

    @Test(arguments: [ConvAttributes.Padding.explicit([0, 3]), .same, .valid])
    func everyPaddingKindRoundTrips(_ padding: ConvAttributes.Padding) throws {
        try expectRoundTrip(.init(spatialRank: 2, inChannels: 2, outChannels: 2, kernelSize: [3, 3], padding: padding))
    }

    @Test(arguments: [nil, [], [7], [9, 9, 9], [1, 2, 9, 9, 9]] as [[Int]?])
    func outputSizeRoundTrips(_ outputSize: [Int]?) throws {
        try expectRoundTrip(
            .init(spatialRank: 3, transposed: true, inChannels: 2, outChannels: 2, kernelSize: [3, 3, 3],
                outputSize: outputSize))
    }

    @Test(arguments: [(false, 3 as Int?), (true, nil), (true, 5)])
    func lazyAndInChannelsRoundTrip(_ lazy: Bool, _ inChannels: Int?) throws {
        try expectRoundTrip(.init(spatialRank: 1, isLazy: lazy, inChannels: inChannels, outChannels: 2, kernelSize: [1]))
    }

    /// Unusual numbers pass through unchanged: validation is shape inference's job.
    @Test(arguments: activations)
    func everyActivationRoundTrips(_ activation: Activation) throws {
        try expectRoundTrip(.activation(activation))
    }

    @Test(arguments: [
        BatchNormAttributes(spatialRank: 1, numFeatures: 0), .init(spatialRank: 2, numFeatures: 16, eps: 1e-3),
        .init(spatialRank: 3, isLazy: true, numFeatures: nil, affine: false),
        .init(spatialRank: 2, isLazy: true, numFeatures: 7, eps: 0.1 + 0.2, trackRunningStats: false),
        .init(spatialRank: 2, numFeatures: -1, eps: -5, affine: false, trackRunningStats: false),
    ])
    func batchNormRoundTrips(_ attributes: BatchNormAttributes) throws {
        try expectRoundTrip(.batchNorm(attributes))
    }

    @Test func identityRoundTrips() throws {
        try expectRoundTrip(.identity)
    }

    /// ReLU is written in its own field (readable by older readers); the generic activation
    /// message with kind RELU means the same.
    @Test func reluHasTwoSpellings() throws {
        var model = PBModel(Self.sample)
        #expect(model.nodes[1].relu == PBReluAttrs())
        model.nodes[1].op = .activation(.with { $0.kind = .relu })
        let graph = try Self.decode(model)
        #expect(graph == Self.sample)
    }

    @Test func parameterValuesAreNotRangeChecked() throws {
        try expectRoundTrip(
            .init(spatialRank: 2, inChannels: -1, outChannels: 0, kernelSize: [0, -3], stride: [0, 0],
                padding: .explicit([-1, Int.max]), dilation: [Int.min, 0], groups: -4, outputPadding: [-2, 9]))
    }

    @Test func floatBitsArePreserved() throws {
        let special: [Float] = [
            .nan, -.nan, Float(bitPattern: 0x7FC0_1234), .infinity, -.infinity, -0.0, 0, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, -1.5,
        ]
        let g = Graph(
            inputs: [GraphInput(name: "x", shape: [.known(1)])], nodes: [], outputs: ["x"],
            weights: ["w": Tensor(shape: [2, 5], data: special)])
        let back = try Self.decode(ModelFile.encode(g))
        #expect(back.weights["w"]?.shape == [2, 5])
        #expect(back.weights["w"]?.data.map(\.bitPattern) == special.map(\.bitPattern))
    }

    @Test func writesLittleEndianFloat32() throws {
        let g = Graph(
            inputs: [GraphInput(name: "x", shape: [])], nodes: [], outputs: ["x"],
            weights: ["w": Tensor(shape: [2], data: [1, -2])])
        let model = try PBModel(serializedBytes: ModelFile.encode(g))
        #expect(model.formatVersion == 1)
        #expect(model.producer == "convrt")
        #expect(model.weights.first?.dims == [2])
        #expect(model.weights.first.map { [UInt8]($0.data) } == [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
    }

    @Test func writesAndReadsFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convrt-proto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.pb")
        try ModelFile.write(Self.sample, to: url)
        #expect(try ModelFile.read(contentsOf: url) == Self.sample)
        #expect(try Data(contentsOf: url) == ModelFile.encode(Self.sample))
    }

    @Test func readingAMissingFileThrows() {
        let url = URL(fileURLWithPath: "/nonexistent-convrt-dir/none.pb")
        #expect(
            throws: ConvRTError("/nonexistent-convrt-dir/none.pb: cannot read file: No such file or directory")
        ) { try ModelFile.read(contentsOf: url) }
    }

    @Test func writingToAMissingDirectoryThrows() {
        let url = URL(fileURLWithPath: "/nonexistent-convrt-dir/out.pb")
        #expect(
            throws: ConvRTError("/nonexistent-convrt-dir/out.pb: cannot write file: No such file or directory")
        ) { try ModelFile.write(Self.sample, to: url) }
    }

    /// The C reader built by `make -C Tools/pbreader`, if it has been built.
    static let pbreader: URL? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.appendingPathComponent("Tools/pbreader/build/pbreader")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }()

    /// libprotobuf-c reads what swift-protobuf writes, and names ops like `Op.displayName`.
    @Test(.enabled(if: pbreader != nil, "Tools/pbreader not built (make -C Tools/pbreader)"))
    func cReaderListsTheSameNodes() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convrt-proto-\(UUID().uuidString).pb")
        guard let reader = Self.pbreader else { return }
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.write(Self.sample, to: url)
        let process = Process()
        process.executableURL = reader
        process.arguments = [url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let expected = Self.sample.nodes.map { "\($0.name) \($0.op.displayName)\n" }.joined()
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    private func expectRoundTrip(_ conv: ConvAttributes, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        try expectRoundTrip(.conv(conv), sourceLocation: sourceLocation)
    }

    private func expectRoundTrip(_ op: Op, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let g = Graph(
            inputs: [GraphInput(name: "x", shape: [.symbol("N")])],
            nodes: [Node(name: "c", op: op, inputs: ["x"])], outputs: ["c"])
        let bytes = try ModelFile.encode(g)
        #expect(try Self.decode(bytes) == g, sourceLocation: sourceLocation)
        #expect(try ModelFile.encode(Self.decode(bytes)) == bytes, sourceLocation: sourceLocation)
    }

    // MARK: Rejections

    /// One malformed model: how to break the sample, and the exact error.
    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var mutate: @Sendable (inout PBModel) -> Void
        var error: ConvRTError
        var testDescription: String { name }

        init(_ name: String, _ message: String, context: String? = nil, _ mutate: @escaping @Sendable (inout PBModel) -> Void) {
            self.name = name
            self.mutate = mutate
            self.error = context.map { ConvRTError(message, context: "m.pb: " + $0) } ?? ConvRTError("m.pb: " + message)
        }
    }

    /// Index of a node in the sample.
    static func at(_ name: String) -> Int { sample.nodes.firstIndex { $0.name == name } ?? -1 }

    /// Mutates the conv attributes of sample node `name`.
    static func conv(_ name: String, _ edit: @escaping @Sendable (inout PBConvAttrs) -> Void) -> @Sendable (inout PBModel) -> Void {
        { model in
            guard case .conv(var a) = model.nodes[at(name)].op else { return }
            edit(&a)
            model.nodes[at(name)].op = .conv(a)
        }
    }

    /// Mutates the activation attributes of sample node `name`.
    static func activation(
        _ name: String, _ edit: @escaping @Sendable (inout PBActivationAttrs) -> Void
    ) -> @Sendable (inout PBModel) -> Void {
        { model in
            guard case .activation(var a) = model.nodes[at(name)].op else { return }
            edit(&a)
            model.nodes[at(name)].op = .activation(a)
        }
    }

    /// Mutates the BatchNorm attributes of sample node `name`.
    static func batchNorm(
        _ name: String, _ edit: @escaping @Sendable (inout PBBatchNormAttrs) -> Void
    ) -> @Sendable (inout PBModel) -> Void {
        { model in
            guard case .batchNorm(var b) = model.nodes[at(name)].op else { return }
            edit(&b)
            model.nodes[at(name)].op = .batchNorm(b)
        }
    }

    static let badModels: [Bad] = [
        Bad("version 0", "unsupported format_version 0 (this convrt reads version 1)") { $0.formatVersion = 0 },
        Bad("version 2", "unsupported format_version 2 (this convrt reads version 1)") { $0.formatVersion = 2 },
        // Inputs
        Bad("empty input name", "graph input 1 has an empty name") { $0.inputs[1].name = "" },
        Bad("duplicate input", "duplicate value name 'x'", context: "input 'x'") { $0.inputs[1].name = "x" },
        Bad("negative input dim", "dimension 2 has negative size -1", context: "input 'z'") {
            $0.inputs[1].dims[2].size = -1
        },
        Bad("unset input dim", "dimension 0 has neither a size nor a symbol", context: "input 'z'") {
            $0.inputs[1].dims[0].value = nil
        },
        Bad("empty symbol", "dimension 0 has an empty symbol", context: "input 'x'") { $0.inputs[0].dims[0].symbol = "" },
        // Nodes
        Bad("empty node name", "node 1 has an empty name") { $0.nodes[1].name = "" },
        Bad("missing op", "node has no op (missing, or an op this convrt does not know)", context: "node 'act'") {
            $0.nodes[1].op = nil
        },
        Bad("node named like an input", "duplicate value name 'x'", context: "ReLU 'x'") { $0.nodes[1].name = "x" },
        Bad("duplicate node", "duplicate value name 'stem'", context: "ReLU 'stem'") {
            $0.nodes[1].name = "stem"
        },
        Bad("undefined input", "input 'nope' is not defined", context: "Add 'sum'") { $0.nodes[3].inputs[1] = "nope" },
        Bad(
            "out of order", "input 'up' is used before the node that defines it (nodes must be in topological order)",
            context: "Add 'sum'"
        ) { $0.nodes[3].inputs[1] = "up" },
        Bad(
            "self reference", "input 'act' is used before the node that defines it (nodes must be in topological order)",
            context: "ReLU 'act'"
        ) { $0.nodes[1].inputs = ["act"] },
        Bad("add arity", "expects 2 inputs, got 1", context: "Add 'sum'") { $0.nodes[3].inputs = ["act"] },
        Bad("relu arity", "expects 1 input, got 2", context: "ReLU 'act'") { $0.nodes[1].inputs = ["stem", "stem"] },
        Bad("conv arity", "expects 1 input, got 0", context: "Conv2d 'stem'") { $0.nodes[0].inputs = [] },
        // Conv attributes
        Bad("spatial rank 0", "spatial_rank 0 is not 1, 2 or 3", context: "Conv0d 'stem'", conv("stem") { $0.spatialRank = 0 }),
        Bad(
            "spatial rank 4", "spatial_rank 4 is not 1, 2 or 3", context: "LazyConvTranspose4d 't3'",
            conv("t3") { $0.spatialRank = 4 }),
        Bad(
            "huge spatial rank", "spatial_rank -9223372036854775808 is not 1, 2 or 3",
            context: "Conv-9223372036854775808d 'stem'", conv("stem") { $0.spatialRank = .min }),
        Bad("kernel_size length", "kernel_size has 3 values, expected 2", context: "Conv2d 'stem'",
            conv("stem") { $0.kernelSize = [3, 3, 3] }),
        Bad("stride length", "stride has 1 value, expected 2", context: "Conv2d 'stem'", conv("stem") { $0.stride = [1] }),
        Bad("dilation length", "dilation has 0 values, expected 3", context: "LazyConvTranspose3d 't3'",
            conv("t3") { $0.dilation = [] }),
        Bad("padding length", "padding has 1 value, expected 2", context: "Conv2d 'stem'", conv("stem") { $0.padding = [1] }),
        Bad("output_padding length", "output_padding has 2 values, expected 1", context: "Conv1d 'c1'",
            conv("c1") { $0.outputPadding = [0, 0] }),
        Bad("padding list with SAME", "padding has 2 values, but padding_kind SAME takes none", context: "Conv2d 'same'",
            conv("same") { $0.padding = [1, 1] }),
        Bad("padding list with VALID", "padding has 1 value, but padding_kind VALID takes none", context: "LazyConv2d 'lazy'",
            conv("lazy") { $0.padding = [0] }),
        Bad("unknown padding kind", "unknown padding_kind 7", context: "Conv2d 'stem'",
            conv("stem") { $0.paddingKind = .UNRECOGNIZED(7) }),
        Bad("unknown padding mode", "unknown padding_mode -3", context: "Conv2d 'stem'",
            conv("stem") { $0.paddingMode = .UNRECOGNIZED(-3) }),
        Bad("missing in_channels", "in_channels is missing (only Lazy layers may leave it unresolved)",
            context: "Conv2d 'stem'", conv("stem") { $0.inChannelsPresent = nil }),
        // Unfold / Fold
        Bad("unfold kernel_size", "kernel_size has 1 value, expected 2", context: "Unfold 'unf'") {
            guard case .unfold(var u) = $0.nodes[at("unf")].op else { return }
            u.kernelSize = [2]
            $0.nodes[at("unf")].op = .unfold(u)
        },
        Bad("fold stride", "stride has 3 values, expected 2", context: "Fold 'fold'") {
            guard case .fold(var f) = $0.nodes[at("fold")].op else { return }
            f.stride = [1, 1, 1]
            $0.nodes[at("fold")].op = .fold(f)
        },
        Bad("fold output_size", "output_size has 0 values, expected 2", context: "Fold 'fold'") {
            guard case .fold(var f) = $0.nodes[at("fold")].op else { return }
            f.outputSize = []
            $0.nodes[at("fold")].op = .fold(f)
        },
        // Activations, BatchNorm, Identity
        Bad("activation kind unset", "activation kind is not set", context: "Activation 'a1'",
            activation("a1") { $0.kind = .unspecified }),
        Bad("unknown activation kind", "unknown activation kind 42", context: "Activation 'a1'",
            activation("a1") { $0.kind = .UNRECOGNIZED(42) }),
        Bad("slope on sigmoid", "negative_slope is set, but Sigmoid takes no negative_slope", context: "Sigmoid 'a8'",
            activation("a8") { $0.negativeSlope = 0.5 }),
        Bad("bounds on leaky relu", "max_val is set, but LeakyReLU takes no max_val", context: "LeakyReLU 'a2'",
            activation("a2") { $0.maxVal = 6 }),
        Bad("slope on hardtanh", "negative_slope is set, but Hardtanh takes no negative_slope", context: "Hardtanh 'a5'",
            activation("a5") { $0.negativeSlope = -1 }),
        Bad("approximate on silu", "approximate is set, but SiLU takes no approximate", context: "SiLU 'a10'",
            activation("a10") { $0.approximate = .tanh }),
        Bad("unknown gelu approximate", "unknown GELU approximate 3", context: "GELU 'a12'",
            activation("a12") { $0.approximate = .UNRECOGNIZED(3) }),
        Bad("activation arity", "expects 1 input, got 2", context: "GELU 'a13'") {
            $0.nodes[at("a13")].inputs = ["x", "z"]
        },
        Bad("identity arity", "expects 1 input, got 0", context: "Identity 'id'") { $0.nodes[at("id")].inputs = [] },
        Bad("batch norm spatial rank", "spatial_rank 0 is not 1, 2 or 3", context: "BatchNorm0d 'bn'",
            batchNorm("bn") { $0.spatialRank = 0 }),
        Bad("batch norm missing num_features", "num_features is missing (only Lazy layers may leave it unresolved)",
            context: "BatchNorm2d 'bn'", batchNorm("bn") { $0.numFeaturesPresent = nil }),
        Bad("lazy batch norm spatial rank", "spatial_rank 4 is not 1, 2 or 3", context: "LazyBatchNorm4d 'bn1'",
            batchNorm("bn1") { $0.spatialRank = 4 }),
        // Outputs
        Bad("no outputs", "model has no outputs") { $0.outputs = [] },
        Bad("undefined output", "output 'ghost' is not defined") { $0.outputs.append("ghost") },
        // Weights
        Bad("empty weight name", "weight 0 has an empty name") { $0.weights[0].name = "" },
        Bad("duplicate weight", "duplicate weight name 'c1.bias'") { $0.weights[1].name = "c1.bias" },
        Bad("negative weight dim", "negative dimension -6 in dims [-6, 4, 5]", context: "weight 'c1.weight'") {
            $0.weights[1].dims[0] = -6
        },
        Bad("short weight data", "data has 23 bytes, expected 4 * product of dims [6]", context: "weight 'c1.bias'") {
            $0.weights[0].data.removeLast()
        },
        Bad("long weight data", "data has 5 bytes, expected 4 * product of dims []", context: "weight 'scalar'") {
            $0.weights[4].data.append(0)
        },
        Bad(
            "element count overflow", "dims [4294967296, 4294967296, 0] have too many elements",
            context: "weight 'c1.bias'"
        ) { $0.weights[0].dims = [1 << 32, 1 << 32, 0] },
        Bad(
            "byte count overflow", "data has 24 bytes, expected 4 * product of dims [4611686018427387904]",
            context: "weight 'c1.bias'"
        ) { $0.weights[0].dims = [1 << 62] },
    ]

    @Test(arguments: badModels)
    func rejects(_ bad: Bad) throws {
        var model = PBModel(Self.sample)
        bad.mutate(&model)
        #expect(throws: bad.error) { try Self.decode(model) }
    }

    @Test func unknownOpFieldIsReportedAsMissingOp() throws {
        // A node from a newer writer: name "n", input "x", and op field 99 (an empty message).
        var bytes = try PBModel(Self.sample).serializedBytes() as [UInt8]
        let node: [UInt8] = [0x0A, 0x01, 0x6E, 0x12, 0x01, 0x78, 0x9A, 0x06, 0x00]
        bytes += [0x22, UInt8(node.count)] + node
        #expect(
            throws: ConvRTError("node has no op (missing, or an op this convrt does not know)", context: "m.pb: node 'n'")
        ) { try Self.decode(Data(bytes)) }
    }

    @Test(arguments: [
        ([0x12, 0x05, 0x41], "data is truncated"),
        ([0x12, 0x01, 0xFF], "a string is not valid UTF-8"),
        ([0x0F], "malformed protobuf data"),
        ([0x08], "data is truncated"),
    ] as [([UInt8], String)])
    func rejectsMalformedProtobuf(_ bytes: [UInt8], _ reason: String) {
        #expect(throws: ConvRTError("m.pb: not a valid convrt model: \(reason)")) { try Self.decode(Data(bytes)) }
    }

    @Test func rejectsEmptyFile() {
        #expect(throws: ConvRTError("m.pb: unsupported format_version 0 (this convrt reads version 1)")) {
            try Self.decode(Data())
        }
    }

    @Test func everyTruncationThrowsOrDecodes() throws {
        let bytes = try ModelFile.encode(Self.sample)
        var accepted = 0
        for n in 0..<bytes.count where try Self.outcome(bytes.prefix(n)) != nil {
            accepted += 1
        }
        #expect(throws: ConvRTError.self) { try Self.decode(bytes.prefix(bytes.count - 1)) }
        #expect(throws: ConvRTError.self) { try Self.decode(bytes.prefix(bytes.count / 2)) }
        // Only cuts right after a whole output name or weight (the last fields) still form a valid model.
        #expect(accepted <= Self.sample.outputs.count + Self.sample.weights.count)
    }

    @Test func randomGarbageNeverTraps() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let count = Int(rng.next() % 64)
            let bytes = Data((0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            _ = try Self.outcome(bytes)
        }
    }

    @Test func corruptedModelsNeverTrap() throws {
        let bytes = [UInt8](try ModelFile.encode(Self.sample))
        var rng = SplitMix64(seed: 7)
        var decoded = 0
        for _ in 0..<3000 {
            var copy = bytes
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                copy[Int(rng.next() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let g = try Self.outcome(Data(copy)) {
                decoded += 1
                // Whatever decodes is a graph that survives its own round trip.
                let again = try ModelFile.encode(g)
                #expect(try ModelFile.encode(Self.decode(again)) == again)
            }
        }
        #expect(decoded > 0)
    }

    /// Decodes, returning nil for a `ConvRTError`; any other error fails the test.
    static func outcome(_ data: Data) throws -> Graph? {
        do {
            return try decode(data)
        } catch is ConvRTError {
            return nil
        }
    }
}

