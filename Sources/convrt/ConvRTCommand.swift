import ArgumentParser
import ConvRT
import Foundation

@main
struct ConvRTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convrt",
        abstract: "A graph-based inference runtime for convolutional networks.",
        subcommands: [Compile.self, Import.self, Export.self, Infer.self, Inspect.self, Bench.self]
    )

    /// Like ArgumentParser's `main()`, but a usage error is one `error: ...` line on stderr
    /// (with ArgumentParser's exit status) instead of a multi-line message with the usage.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // `--help` and friends: let ArgumentParser print them as usual.
            guard code != .success else { exit(withError: error) }
            let text = message(for: error).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            if !text.isEmpty {
                FileHandle.standardError.write(Data("error: \(text) (see '\(helpCommand)')\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }

    /// `convrt infer --help` when the command line names a subcommand, else `convrt --help`.
    private static var helpCommand: String {
        let names = configuration.subcommands.map { $0.configuration.commandName ?? String(describing: $0).lowercased() }
        if let first = CommandLine.arguments.dropFirst().first, names.contains(first) {
            return "convrt \(first) --help"
        }
        return "convrt --help"
    }
}

/// Runs a command body, turning every error into one `error: ...` line and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ConvRTError {
        fail(error.description)
    } catch let error as ExitCode {
        throw error
    } catch {
        fail(error.localizedDescription)
    }
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// Prints a `note: ...` line on stderr.
func note(_ message: String) {
    FileHandle.standardError.write(Data("note: \(message)\n".utf8))
}

/// A file URL for a command-line path, relative to the working directory.
func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path) }

/// Parses `name=1,3,224,224`.
func parseShapeBinding(_ text: String) throws -> (name: String, shape: [Int]) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    let dims = parts.count == 2 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) } : []
    guard parts.count == 2, !parts[0].isEmpty, !dims.isEmpty, dims.allSatisfy({ ($0 ?? -1) >= 0 }) else {
        throw ConvRTError("--input-shape expects NAME=D1,D2,... with non-negative integers, but got '\(text)'")
    }
    return (parts[0], dims.map { $0! })
}

/// Options shared by commands that load a model.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The model: a .convnet file, a compiled .pb, or an .onnx file.")
    var model: String

    @Option(help: "An .npz of weights to use instead of the .convnet file's `weights` statement.")
    var weights: String?

    @Option(help: "Seed for the deterministic init used when a .convnet has no weights.")
    var seed: UInt64 = 0

    @Flag(name: .customLong("no-fuse"), help: "Turn off BatchNorm folding and epilogue fusion.")
    var noFuse = false

    @Flag(name: .customLong("no-reuse"), help: "Give every intermediate value its own memory (no arena reuse, no in-place).")
    var noReuse = false

    @Option(help: "Threads for the convolution kernels (default: all cores; results are identical for any count).")
    var threads: Int?

    @OptionGroup var memory: MemoryOptions

    var planOptions: PlanOptions {
        PlanOptions(fuse: !noFuse, reuse: !noReuse, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func load() throws -> InferredGraph {
        let options = CompileOptions(weightsOverride: weights.map(fileURL), seed: seed, memoryLimit: memory.limit)
        return try ModelCompiler.load(contentsOf: fileURL(model), options: options)
    }

    /// The loaded model, ready to run under the memory limit.
    func compiledModel(_ graph: Graph) -> CompiledModel {
        CompiledModel(graph: graph, options: planOptions, memoryLimit: memory.limit)
    }
}
