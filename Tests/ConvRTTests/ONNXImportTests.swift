import Foundation
import Testing
@testable import ConvRT

/// The fixtures of `Tools/gen_onnx_fixtures.py`: PyTorch exports and hand-written graphs with
/// their recorded outputs. Each imports to the expected layers and runs, planned and on the
/// reference executor, against the recorded output.
@Suite struct ONNXFixtureTests {
    struct Case: Decodable {
        var `case`: String
        var opset: Int
        var input: String
        var output: String
        var dynamic: Bool
    }

    static let directory = fixturesURL.appendingPathComponent("onnx")

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    /// The layers each fixture imports to (`Op.displayName`, in order).
    static let expectedLayers: [String: [String]] = [
        "activations_opset17": ["Conv1d", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "Sigmoid"],
        "activations_opset21": ["Conv3d", "GELU", "LeakyReLU", "Tanh", "Hardswish"],
        "arithmetic": ["Constant", "Mul", "Constant", "Sub", "Mul", "Constant", "Add", "Constant", "Div", "Constant", "Mul",
                       "Concat", "Transpose", "Unsqueeze", "Squeeze", "ReduceMean"],
        "circular_conv1d": ["Conv1d"],
        "circular_conv2d": ["Conv2d"],
        "clip_relu6": ["Conv2d", "ReLU6", "Conv2d", "Hardtanh"],
        "conv_asymmetric_pads": ["ConstantPad2d", "Conv2d"],
        "conv_bn_relu": ["Conv2d", "BatchNorm2d", "ReLU"],
        "conv_bn_relu_dynamic": ["Conv2d", "BatchNorm2d", "ReLU"],
        "conv_same_lower_stride2": ["ConstantPad2d", "Conv2d"],
        "convtranspose3d_groups": ["ConvTranspose3d"],
        "convtranspose_output_padding": ["ConvTranspose2d", "LeakyReLU"],
        "convtranspose_output_shape": ["ConvTranspose2d"],
        "convtranspose_output_shape_odd": ["ConvTranspose2d"],
        "convtranspose_same_upper": ["ConvTranspose2d", "ConstantPad2d"],
        "fold_col2im": ["Fold"],
        "log_softmax_opset11": ["Conv2d", "Transpose", "LogSoftmax", "Transpose"],
        "opset21_mix": ["Conv2d", "BatchNorm2d", "Hardsigmoid", "Add", "Hardtanh"],
        "pools": ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear", "Softmax"],
        "reflect_conv": ["Conv2d", "Tanh"],
        "replicate_conv1d": ["Conv1d"],
        "residual_add": ["Conv2d", "ReLU", "Conv2d", "Add", "ReLU"],
        "same_upper_even_kernel": ["Conv2d"],
        "tcn": ["Conv1d", "Slice", "ReLU", "Add", "Gather", "Linear", "LogSoftmax"],
        "unet_bilinear": ["Conv2d", "ReLU", "MaxPool2d", "Upsample", "Concat", "Conv2d", "Sigmoid"],
        "unet_nearest": ["Conv2d", "ReLU", "MaxPool2d", "Upsample", "Concat", "Conv2d", "Sigmoid"],
        "view_linear": ["Conv2d", "ReLU", "Reshape", "Linear"],
    ]

    @Test func everyFixtureHasAnExpectation() {
        #expect(Self.cases.count == Self.expectedLayers.count)
        for c in Self.cases { #expect(Self.expectedLayers[c.case] != nil, "\(c.case)") }
    }

    @Test(arguments: cases.map(\.case)) func fixture(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.case == name })
        let url = Self.directory.appendingPathComponent("\(name).onnx")
        let graph = try ONNXImporter.importModel(contentsOf: url)
        #expect(graph.nodes.map(\.op.displayName) == Self.expectedLayers[name], "\(name)")
        #expect(graph.inputs.map(\.name) == [c.input] && graph.outputs == [c.output])
        #expect(graph.inputs[0].shape.contains { $0.value == nil } == c.dynamic)
        let inferred = try ModelCompiler.loadONNX(contentsOf: url)
        let x = try NPY.read(contentsOf: Self.directory.appendingPathComponent("\(name).in.npy")).tensor
        let expected = try NPY.read(contentsOf: Self.directory.appendingPathComponent("\(name).out.npy")).tensor
        let planned = try CompiledModel(graph: inferred.graph).run([c.input: x])
        expectClose(try #require(planned[c.output]), expected, "\(name) planned")
        let reference = try ReferenceExecutor.run(inferred.graph, inputs: [c.input: x])
        expectClose(try #require(reference[c.output]), expected, "\(name) reference")
    }

    /// A symbolic batch imports as a symbol and runs at any batch size.
    @Test func dynamicBatchRunsAtAnotherSize() throws {
        let url = Self.directory.appendingPathComponent("conv_bn_relu_dynamic.onnx")
        let inferred = try ModelCompiler.loadONNX(contentsOf: url)
        #expect(inferred.graph.inputs[0].shape == [.symbol("N"), .known(3), .known(7), .known(7)])
        let x = try NPY.read(contentsOf: Self.directory.appendingPathComponent("conv_bn_relu_dynamic.in.npy")).tensor
        let expected = try NPY.read(contentsOf: Self.directory.appendingPathComponent("conv_bn_relu_dynamic.out.npy")).tensor
        let one = Tensor(shape: [1] + x.shape.dropFirst(), data: Array(x.data.prefix(x.count / 2)))
        let out = try CompiledModel(graph: inferred.graph).run(["x": one])
        let first = Tensor(shape: [1] + expected.shape.dropFirst(), data: Array(expected.data.prefix(expected.count / 2)))
        expectClose(try #require(out["y"]), first, "batch 1")
    }

    /// What PyTorch's exports fold into: padding modes, the `view(x.size(0), -1)` chain, resize attributes.
    @Test func exportPatternsMapToPyTorchLayers() throws {
        func nodes(_ name: String) throws -> [Node] {
            try ONNXImporter.importModel(contentsOf: Self.directory.appendingPathComponent("\(name).onnx")).nodes
        }
        guard case .conv(let reflect) = try nodes("reflect_conv")[0].op else { Issue.record("reflect_conv"); return }
        #expect(reflect.paddingMode == .reflect && reflect.padding == .explicit([1, 1]))
        guard case .conv(let replicate) = try nodes("replicate_conv1d")[0].op else { Issue.record("replicate"); return }
        #expect(replicate.paddingMode == .replicate && replicate.padding == .explicit([2]))
        for (name, padding) in [("circular_conv1d", [2]), ("circular_conv2d", [1, 2])] {
            let conv = try nodes(name)[0].op.convAttributes
            #expect(conv?.paddingMode == .circular && conv?.padding == .explicit(padding), "\(name)")
        }
        #expect(try nodes("view_linear")[2].op == .reshape(ReshapeAttributes(shape: [0, -1])))
        #expect(try nodes("view_linear")[3].op == .linear(LinearAttributes(inFeatures: 27, outFeatures: 4)))
        #expect(try nodes("tcn")[1].op == .slice(SliceAttributes(starts: [0], ends: [-4], axes: [2], steps: [1])))
        #expect(try nodes("tcn")[4].op == .gather(GatherAttributes(axis: 2, indices: [-1], indicesShape: [])))
        #expect(try nodes("unet_bilinear")[3].op == .resize(ResizeAttributes(
            mode: .linear, coordinateTransform: .halfPixel, nearestRounding: .floor, scales: [2, 2])))
        #expect(try nodes("unet_nearest")[3].op == .resize(ResizeAttributes(
            mode: .nearest, coordinateTransform: .asymmetric, nearestRounding: .floor, scales: [2, 2])))
        #expect(try nodes("pools")[0].op == .pool(PoolAttributes(
            kind: .max, spatialRank: 2, kernelSize: [3, 3], stride: [2, 2], padBegin: [1, 1], ceilMode: true)))
        #expect(try nodes("pools")[1].op == .pool(PoolAttributes(
            kind: .average, spatialRank: 2, kernelSize: [3, 3], stride: [2, 2], padBegin: [1, 1], countIncludePad: false)))
        #expect(try nodes("same_upper_even_kernel")[0].op.convAttributes?.padding == .same)
        #expect(try nodes("conv_same_lower_stride2")[0].op == .pad(PadAttributes(mode: .constant, begin: [2, 1], end: [1, 1])))
        #expect(try nodes("fold_col2im")[0].op == .fold(FoldAttributes(
            outputSize: [4, 5], window: SlidingWindow(kernelSize: [2, 2], padding: [1, 1]))))
    }
}

extension Op {
    var convAttributes: ConvAttributes? {
        if case .conv(let a) = self { return a }
        return nil
    }
}
