import Foundation
import Testing
@testable import ConvRT

/// The reduced-width reference networks (ResNet-18, MobileNetV2, two U-Nets, a dilated TCN,
/// r3d_18; written by `Tools/gen_reference_networks.py`) through both the `.convnet` and the
/// PyTorch-exported `.onnx` path, planned with all optimisations, against PyTorch's output.
@Suite struct ReferenceNetworksTests {
    static let names = ["resnet18", "mobilenet_v2", "unet_transposed", "unet_bilinear", "tcn", "r3d_18"]

    static func file(_ name: String, _ ext: String) -> URL {
        fixturesURL.appendingPathComponent("networks/\(name).\(ext)")
    }

    @Test(arguments: names, ["convnet", "onnx"])
    func matchesPyTorch(_ name: String, _ format: String) throws {
        let input = try NPY.read(contentsOf: Self.file(name, "input.npy")).tensor
        let expected = try NPY.read(contentsOf: Self.file(name, "expected.npy")).tensor
        let graph = try ModelCompiler.load(contentsOf: Self.file(name, format)).graph
        let inputName = try #require(graph.inputs.first?.name)
        let model = CompiledModel(graph: graph, options: PlanOptions(threads: 2))
        let output = try #require(try model.run([inputName: input])[graph.outputs[0]])
        #expect(output.shape == expected.shape)
        let scale = max(1, expected.data.map(abs).max() ?? 0)
        let error = zip(output.data, expected.data).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error <= 1e-4 * scale, "\(name).\(format): max abs error \(error)")
    }
}
