import ArgumentParser
import ConvRT
import Foundation

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on NumPy inputs.",
        discussion: """
            One output goes to an .npy; several go to an .npz keyed by output name. Without -o, prints a summary of each output.
            Batch mode: several input files (or -o naming a directory, e.g. out/) run one after another on the same loaded model;             each result is written to the directory, named after its input (a.npy -> out/a.npy, or out/a.npz for several outputs).             A file that fails is reported with its name and the others still run; the exit status is 1 if any failed.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "The input .npy file(s), for a model with one input.")
    var inputs: [String] = []

    @Option(name: .customLong("input"), help: "A named input as NAME=PATH.npy (repeatable).")
    var namedInputs: [String] = []

    @Option(name: .shortAndLong, help: "Output .npy (one output) or .npz (any number of outputs); a directory in batch mode.")
    var output: String?

    @Flag(help: "Run the unoptimised graph with the reference kernels (the oracle).")
    var reference = false

    /// Batch mode: several positional inputs, or `-o` naming a directory (`out/` or an existing one).
    var isBatch: Bool {
        if inputs.count > 1 { return true }
        guard inputs.count == 1, let output else { return false }
        var isDirectory: ObjCBool = false
        return output.hasSuffix("/") || (FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    func run() throws {
        if isBatch {
            try BatchInference(command: self).run()
            return
        }
        try reportingErrors {
            let inferred = try modelOptions.load()
            // Check the destination before running: a model can take a while.
            if let output { try checkDestination(output, outputs: inferred.graph.outputs) }
            let model = modelOptions.compiledModel(inferred.graph)
            let ordered = try infer(model, inputs: try loadInputs(for: inferred.graph))
            if let output {
                try write(ordered, to: output)
            } else {
                for (name, tensor) in ordered { print(describe(name, tensor)) }
            }
        }
    }

    /// Runs the model (optimised or reference); returns the outputs in the model's order.
    func infer(_ model: CompiledModel, inputs: [String: Tensor]) throws -> [(String, Tensor)] {
        let outputs = reference ? try model.runReference(inputs) : try model.run(inputs)
        return try model.graph.outputs.map { name in
            guard let tensor = outputs[name] else { throw ConvRTError("the model did not produce output '\(name)'") }
            return (name, tensor)
        }
    }

    /// Reads an input `.npy` under the memory limit; notes say what was converted.
    func readInput(_ path: String) throws -> (tensor: Tensor, notes: [String]) {
        let (tensor, notes) = try NPY.read(contentsOf: fileURL(path), limit: modelOptions.memory.limit)
        return (tensor, notes.map { "\(path): \($0)" })
    }

    private func loadInputs(for graph: Graph) throws -> [String: Tensor] {
        var paths: [String: String] = [:]
        func add(_ name: String, _ path: String) throws {
            guard paths[name] == nil else { throw ConvRTError("input '\(name)' is given more than once") }
            paths[name] = path
        }
        if let input = inputs.first {
            try Self.checkSingleInput(graph)
            try add(graph.inputs[0].name, input)
        }
        for binding in namedInputs {
            let parts = binding.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ConvRTError("--input expects NAME=PATH.npy, but got '\(binding)'")
            }
            try add(parts[0], parts[1])
        }
        // Read in the model's input order (unknown names last) so notes and errors are deterministic.
        let order = graph.inputs.map(\.name).filter { paths[$0] != nil }
            + paths.keys.filter { name in !graph.inputs.contains { $0.name == name } }.sorted()
        var tensors: [String: Tensor] = [:]
        for name in order {
            guard let path = paths[name] else { continue }
            let (tensor, notes) = try readInput(path)
            notes.forEach(note)
            tensors[name] = tensor
        }
        return tensors
    }

    /// A positional input needs a model with exactly one input.
    static func checkSingleInput(_ graph: Graph) throws {
        guard graph.inputs.count == 1 else {
            throw ConvRTError("the model has \(graph.inputs.count) inputs (\(graph.inputs.map(\.name).joined(separator: ", "))); pass each with --input NAME=PATH.npy")
        }
    }

    /// `-o` takes an `.npy` for a single output or an `.npz` for any number.
    private func checkDestination(_ path: String, outputs: [String]) throws {
        switch fileURL(path).pathExtension.lowercased() {
        case "npz":
            return
        case "npy":
            guard outputs.count > 1 else { return }
            throw ConvRTError("the model has \(outputs.count) outputs (\(outputs.joined(separator: ", "))); write them to an .npz")
        default:
            throw ConvRTError("\(path): unknown output format; use .npy (one output) or .npz (any number of outputs)")
        }
    }

    func write(_ outputs: [(String, Tensor)], to path: String) throws {
        let url = fileURL(path)
        if url.pathExtension.lowercased() == "npz" {
            try NPZ.write(outputs.map { (name: $0.0, tensor: $0.1) }, to: url)
        } else if let (_, tensor) = outputs.first {
            try NPY.write(tensor, to: url)
        }
    }

    func describe(_ name: String, _ t: Tensor) -> String {
        var line = "\(name): shape \(t.shape.dims.rendered)"
        guard !t.data.isEmpty else { return line + " (empty)" }
        let mean = t.data.reduce(0.0) { $0 + Double($1) } / Double(t.count)
        line += String(format: " min %.6g max %.6g mean %.6g", t.data.min()!, t.data.max()!, mean)
        let head = t.data.prefix(6).map { String(format: "%.6g", $0) }.joined(separator: ", ")
        return line + " [\(head)\(t.count > 6 ? ", ..." : "")]"
    }
}
