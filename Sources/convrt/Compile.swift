import ArgumentParser
import ConvRT
import Foundation

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a .convnet model (and its weights) into a protobuf graph.")

    @Argument(help: "The .convnet file.")
    var model: String

    @Option(help: "An .npz of weights to use instead of the file's `weights` statement.")
    var weights: String?

    @Option(help: "Seed for the deterministic init used when there are no weights.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Where to write the .pb (default: MODEL with the .pb extension).")
    var output: String?

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        try reportingErrors {
            let url = fileURL(model)
            guard url.pathExtension == "convnet" else {
                throw ConvRTError("\(model): compile expects a .convnet file")
            }
            let options = CompileOptions(weightsOverride: weights.map(fileURL), seed: seed, memoryLimit: memory.limit)
            let inferred = try ModelCompiler.compile(contentsOf: url, options: options)
            let destination = output.map(fileURL) ?? url.deletingPathExtension().appendingPathExtension("pb")
            try ModelFile.write(inferred.graph, to: destination)
            print("wrote \(destination.relativePath): \(inferred.graph.nodes.count) nodes, \(inferred.graph.weights.count) weights")
        }
    }
}
