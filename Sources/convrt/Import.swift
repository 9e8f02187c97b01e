import ArgumentParser
import ConvRT
import Foundation

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ONNX model (opsets 11-21) into a protobuf graph.",
        discussion: "infer, inspect and bench also read .onnx files directly; import checks the model once and saves the result.")

    @Argument(help: "The .onnx file.")
    var model: String

    @Option(name: .shortAndLong, help: "Where to write the .pb (default: MODEL with the .pb extension).")
    var output: String?

    func run() throws {
        try reportingErrors {
            let url = fileURL(model)
            guard try ModelFormat.detect(url) == .onnx else {
                throw ConvRTError("\(model): import expects an .onnx file")
            }
            let inferred = try ModelCompiler.loadONNX(contentsOf: url)
            let destination = output.map(fileURL) ?? url.deletingPathExtension().appendingPathExtension("pb")
            try ModelFile.write(inferred.graph, to: destination)
            print("wrote \(destination.relativePath): \(inferred.graph.nodes.count) nodes, \(inferred.graph.weights.count) weights")
        }
    }
}
