import Foundation
import Testing
@testable import ConvRT

/// `ONNXExporter` round trips: export, re-import with convrt's own ONNX importer, run, and compare
/// with the original graph's outputs (1e-5 relative) and with PyTorch's recorded ones.
@Suite struct ONNXExportTests {
    /// Exports `inferred` and imports the result the way `ModelCompiler.loadONNX` does.
    static func roundTrip(_ inferred: InferredGraph) throws -> (model: Onnx_ModelProto, graph: Graph) {
        let data = try ONNXExporter.export(inferred, graphName: "test")
        let model = try Onnx_ModelProto(serializedBytes: data)
        let graph = try ONNXImporter.importModel(data, file: "exported.onnx")
        let reimported = try ShapeInference.run(graph)
        try WeightBinding.validate(reimported.graph, file: "exported.onnx")
        return (model, reimported.graph)
    }

    /// `actual` equals `expected` within 1e-5 of `max(1, max|expected|)`.
    static func expectSame(_ actual: [String: Tensor], _ expected: [String: Tensor], _ what: String,
                           sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(Set(actual.keys) == Set(expected.keys), "\(what): outputs", sourceLocation: sourceLocation)
        for (name, e) in expected {
            guard let a = actual[name] else { continue }
            expectClose(a, e, "\(what) output \(name)", tolerance: 1e-5, sourceLocation: sourceLocation)
        }
    }

    /// The ops of a graph without its Identity nodes (the importer turns them into aliases).
    static func ops(_ graph: Graph) -> [String: Op] {
        Dictionary(uniqueKeysWithValues: graph.nodes.filter { $0.op != .identity }.map { ($0.name, $0.op) })
    }

    // MARK: Reference networks

    /// Each reduced reference network: the ONNX file re-imports to the same layers with the same
    /// weights, and runs (planned, as convrt runs it) to the same output as the `.convnet` path.
    @Test(arguments: ReferenceNetworksTests.names)
    func referenceNetworkRoundTrips(_ name: String) throws {
        let inferred = try ModelCompiler.load(contentsOf: ReferenceNetworksTests.file(name, "convnet"))
        let (model, graph) = try Self.roundTrip(inferred)
        #expect(model.opsetImport.map(\.version) == [17])
        let (before, after) = (Self.ops(inferred.graph), Self.ops(graph))
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
        #expect(changed.isEmpty, "\(name): these layers change in the round trip: \(changed)")
        #expect(graph.weights == inferred.graph.weights, "\(name): the weights change in the round trip")
        let input = try NPY.read(contentsOf: ReferenceNetworksTests.file(name, "input.npy")).tensor
        let feeds = [try #require(graph.inputs.first?.name): input]
        let options = PlanOptions(threads: 2)
        let exported = try CompiledModel(graph: graph, options: options).run(feeds)
        let original = try CompiledModel(graph: inferred.graph, options: options).run(feeds)
        Self.expectSame(exported, original, name)
        let expected = try NPY.read(contentsOf: ReferenceNetworksTests.file(name, "expected.npy")).tensor
        expectClose(try #require(exported[graph.outputs[0]]), expected, "\(name) vs PyTorch")
    }

    // MARK: Single layers

    /// Layer fixtures covering every op mapping and its variants (padding modes, unbatched inputs,
    /// ceil mode, output_size, nearest shortcuts, symbolic dims, several inputs and outputs).
    static let layerCases = [
        "conv1d_k3", "conv2d_k3_same_d2", "conv2d_kasym_same_dasym_reflect", "conv2d_k3_p12_replicate",
        "conv2d_all_params_circular", "conv3d_k3_p1_depthwise", "conv1d_k3_unbatched_p1_circular", "conv1d_k3_pmax_reflect",
        "convtranspose2d_k3_s2_op1", "convtranspose1d_k3_s1_d2_op1", "convtranspose2d_k3_s2_p1_outsize_unbatched",
        "convtranspose3d_asym_g2", "lazyconv2d_same_reflect", "megengine_conv2d_g3_nobias",
        "unfold_unbatched_k3x2_d1x2_p1_s2", "unfold_k2x3_d2x1_p1x0_s2x1", "fold_k2x3_d1x2_p1x0_s2x1", "fold_unbatched_k2_s2_p1",
        "batchnorm1d_2d_input", "batchnorm3d_affine_false_eps",
        "relu6", "leakyrelu_slope0p2", "hardtanh_m0p5_2", "sigmoid", "tanh", "silu", "hardswish", "hardsigmoid", "gelu", "gelu_tanh",
        "add_basic", "sub_broadcast_first", "mul_broadcast_both", "div_broadcast_rows", "concat_dim1",
        "maxpool1d_k3_s2_p2_d2_ceil", "maxpool2d_asym_ceil", "avgpool2d_k3_s2_p1_ceil", "avgpool3d_asym_ceil_exclude_pad",
        "avgpool2d_k3_divisor5", "maxpool2d_unbatched", "adaptiveavgpool2d_global_7x7", "adaptiveavgpool3d_out1_rank3",
        "adaptivemaxpool1d_out1", "adaptiveavgpool2d_none_first",
        "linear", "linear_3d_input", "linear_1d_input", "flatten_middle", "flatten_start0", "flatten_0d_input",
        "softmax_0d_input", "logsoftmax_channels", "dropout", "identity",
        "zeropad2d_crop", "reflectionpad1d_crop_and_reflect", "replicationpad1d_crop_past_edge", "circularpad1d_crop_then_wrap",
        "circularpad3d_asym", "constantpad1d_large_negative_value",
        "upsample2d_nearest_sf2", "upsample2d_nearest_sf2p2_double_size", "upsample1d_nearest_exact_sf1p7",
        "upsample2d_bilinear_sf2_align", "upsample3d_trilinear_size", "upsample2d_nearest_size",
        "net_two_outputs", "net_multi_io", "net_symbolic_dims", "net_symbolic_classifier", "net_symbolic_bn", "net_unfold_fold",
        "net_dotted_names",
    ]

    /// Each case: the re-imported model gives the original graph's outputs, and PyTorch's.
    @Test(arguments: layerCases)
    func layerRoundTrips(_ name: String) throws {
        let c = try #require(PyTorchParityTests.layerCases.first { $0.case == name }, "no fixture \(name)")
        let dir = fixturesURL.appendingPathComponent("layers")
        let inferred = try ModelCompiler.compile(contentsOf: dir.appendingPathComponent("\(name).convnet"))
        let (model, graph) = try Self.roundTrip(inferred)
        let hasFold = inferred.graph.nodes.contains { if case .fold = $0.op { true } else { false } }
        #expect(model.opsetImport.map(\.version) == [hasFold ? 18 : 17])
        var feeds: [String: Tensor] = [:]
        for (input, file) in c.inputs { feeds[input] = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor }
        let exported = try ReferenceExecutor.run(graph, inputs: feeds)
        Self.expectSame(exported, try ReferenceExecutor.run(inferred.graph, inputs: feeds), name)
        for (output, file) in c.outputs {
            let expected = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor
            expectClose(try #require(exported[output]), expected, "\(name) vs PyTorch")
        }
    }

    /// The tensor ops (Reshape, Slice, Gather, Squeeze, Transpose, MatMul, ReduceMean, ...) recorded
    /// from ONNX's reference evaluator.
    @Test func tensorOpsRoundTrip() throws {
        for c in TensorOpsTests.onnxCases {
            guard let expected = c.expected?.tensor, let graph = c.graph else { continue }
            let (_, exported) = try Self.roundTrip(try ShapeInference.run(graph))
            let feeds = Dictionary(uniqueKeysWithValues: c.inputs.enumerated().map { ("x\($0.offset)", $0.element.tensor) })
            expectClose(try #require(try ReferenceExecutor.run(exported, inputs: feeds)["y"]), expected, c.name, tolerance: 1e-5)
        }
    }

    /// Asymmetric pool pads, every Resize coordinate transform and rounding, Pad modes.
    @Test func spatialOpsRoundTrip() throws {
        for c in SpatialLayerTests.onnxCases {
            let graph = singleLayerGraph(c.irOp, input: c.input_shape)
            let (_, exported) = try Self.roundTrip(try ShapeInference.run(graph))
            let y = try ReferenceExecutor.run(exported, inputs: ["x": Tensor(shape: c.input_shape, data: c.input)])["y"]
            expectClose(try #require(y), Tensor(shape: c.output_shape, data: c.output), c.name, tolerance: 1e-5)
        }
    }

    // MARK: The ONNX file itself

    static func compile(_ text: String) throws -> InferredGraph {
        try ModelCompiler.compile(try ConvnetParser.parse(text, file: "m.convnet"), baseDirectory: URL(fileURLWithPath: "/"))
    }

    @Test func modelMetadataNamesAndSymbolicBatch() throws {
        let inferred = try Self.compile("""
            input x: [N, 3, 8, 8]
            conv = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, padding=1)
            bn = BatchNorm2d(conv, num_features=4)
            act = SiLU(bn)
            pool = AdaptiveAvgPool2d(act, output_size=(2, 4))
            flat = Flatten(pool)
            fc = Linear(flat, in_features=32, out_features=5)
            output fc
            """)
        let data = try ONNXExporter.export(inferred, graphName: "m")
        let model = try Onnx_ModelProto(serializedBytes: data)
        #expect(model.irVersion == 8 && model.producerName == "convrt" && model.graph.name == "m")
        #expect(model.opsetImport.map(\.domain) == [""] && model.opsetImport.map(\.version) == [17])
        let initializers = Set(model.graph.initializer.map(\.name))
        #expect(Set(inferred.graph.weights.keys).isSubset(of: initializers))
        #expect(model.graph.node.map(\.opType) == ["Conv", "BatchNormalization", "Sigmoid", "Mul", "AveragePool", "Flatten", "Gemm"])
        #expect(model.graph.node.map(\.name).filter { !$0.contains("/") } == ["conv", "bn", "act", "pool", "flat", "fc"])
        let dims = model.graph.input[0].type.tensorType.shape.dim
        #expect(dims.map(\.dimParam) == ["N", "", "", ""] && dims.map(\.dimValue) == [0, 3, 8, 8])
        #expect(model.graph.output.map(\.name) == ["fc"])
        #expect(model.graph.output[0].type.tensorType.shape.dim.map(\.dimParam) == ["N", ""])
        // Run with a batch of 2 through the re-imported graph.
        let graph = try ONNXImporter.importModel(data, file: "m.onnx")
        #expect(graph.inputs[0].shape == [.symbol("N"), .known(3), .known(8), .known(8)])
        let x = sampleTensor([2, 3, 8, 8])
        Self.expectSame(try ReferenceExecutor.run(graph, inputs: ["x": x]), try ReferenceExecutor.run(inferred.graph, inputs: ["x": x]), "m")
    }

    /// Layers without an exact ONNX form are all named in one error, with their locations.
    @Test func rejectsLayersWithoutONNXEquivalent() throws {
        let inferred = try Self.compile("""
            input x: [1, 3, 7, 7]
            bn = BatchNorm2d(x, num_features=3, track_running_stats=False)
            pool = AdaptiveAvgPool2d(bn, output_size=3)
            act = ReLU(pool)
            avg = AvgPool2d(act, kernel_size=2, ceil_mode=True, divisor_override=3)
            output avg
            """)
        let error = try #require(throws: ConvRTError.self) { _ = try ONNXExporter.export(inferred) }
        #expect(error.description == "cannot export to ONNX: 3 layers have no exact ONNX equivalent: "
            + "BatchNorm2d 'bn' at m.convnet:2:1 (track_running_stats=False normalises with the batch's own statistics, which inference-mode BatchNormalization cannot); "
            + "AdaptiveAvgPool2d 'pool' at m.convnet:3:1 (output size [3, 3] does not divide the input size [7, 7]); "
            + "AvgPool2d 'avg' at m.convnet:5:1 (divisor_override with ceil_mode=True has no AveragePool equivalent)")
    }

    /// `convrt export`: writes the file, or on a rejection one error line, exit status 1 and no file.
    @Test func exportCommand() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("ok.convnet", "input x: [1, 2, 5, 5]\nu = Unfold(x, kernel_size=2)\nf = Fold(u, output_size=5, kernel_size=2)\noutput f\n")
        let ok = try CLI.run(["export", "ok.convnet", "-o", "ok.onnx"], in: tmp.url)
        #expect(ok.status == 0 && ok.stdout.hasPrefix("wrote ok.onnx: opset 18"), "\(ok)")
        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: tmp.url.appendingPathComponent("ok.onnx")))
        #expect(model.graph.node.map(\.opType).contains("Col2Im"))
        try tmp.write("bad.convnet", "input x: [1, 2, 5]\np = AdaptiveMaxPool1d(x, output_size=2)\noutput p\n")
        let bad = try CLI.run(["export", "bad.convnet"], in: tmp.url)
        #expect(bad.status == 1)
        #expect(bad.stderr == "error: bad.convnet: cannot export to ONNX: 1 layer has no exact ONNX equivalent: AdaptiveMaxPool1d 'p' at bad.convnet:2:1 (output size [2] does not divide the input size [5])\n")
        #expect(!FileManager.default.fileExists(atPath: tmp.path("bad.onnx")))
        let same = try CLI.run(["export", "ok.onnx"], in: tmp.url)
        #expect(same.status == 1 && same.stderr.contains("would overwrite the model itself"), "\(same)")
    }
}
