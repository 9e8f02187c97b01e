import ArgumentParser
import ConvRT
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model to ONNX (opset 17, or 18 when it has a Fold).",
        discussion: "The graph is written as shape inference leaves it, before fusion: one ONNX node (or a short exact chain) per layer, parameters as initializers named like their .npz keys. Layers with no exact ONNX equivalent are all listed in one error, and nothing is written.")

    @Argument(help: "The model: a .convnet file, a compiled .pb, or an .onnx file.")
    var model: String

    @Option(help: "An .npz of weights to use instead of the .convnet file's `weights` statement.")
    var weights: String?

    @Option(help: "Seed for the deterministic init used when a .convnet has no weights.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Where to write the .onnx (default: MODEL with the .onnx extension).")
    var output: String?

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        try reportingErrors {
            let url = fileURL(model)
            let destination = output.map(fileURL) ?? url.deletingPathExtension().appendingPathExtension("onnx")
            guard destination.standardizedFileURL.path != url.standardizedFileURL.path else {
                throw ConvRTError("\(model): export would overwrite the model itself; choose another file with -o")
            }
            let options = CompileOptions(weightsOverride: weights.map(fileURL), seed: seed, memoryLimit: memory.limit)
            let inferred = try ModelCompiler.load(contentsOf: url, options: options)
            let name = url.deletingPathExtension().lastPathComponent
            do {
                try ONNXExporter.write(inferred, to: destination, graphName: name)
            } catch let error as ConvRTError where error.location == nil {
                throw ConvRTError("\(model): \(error.description)")
            }
            print("wrote \(destination.relativePath): opset \(ONNXExporter.opset(for: inferred.graph)), \(inferred.graph.nodes.count) layers, \(inferred.graph.weights.count) weights")
        }
    }
}
