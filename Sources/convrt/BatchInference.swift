import ConvRT
import Foundation

/// `convrt infer MODEL a.npy b.npy ... -o out/`: many inputs through one loaded model (one
/// plan per distinct input shape, one arena reused), each result named after its input.
///
/// Setup problems (the model, the arguments, the output directory) are one `error:` line and
/// exit status 1 before anything runs. A file that fails is one `error: FILE: ...` line and the
/// rest still run; the exit status is then 1.
struct BatchInference {
    let command: Infer

    /// One input file and where its result goes (`nil`: print a summary).
    struct Job {
        var input: String
        var output: String?
    }

    func run() throws {
        var setup: (model: CompiledModel, jobs: [Job])?
        try reportingErrors {
            guard command.namedInputs.isEmpty else {
                throw ConvRTError("--input cannot be combined with several input files; batch mode is for models with one input")
            }
            let inferred = try command.modelOptions.load()
            try Infer.checkSingleInput(inferred.graph)
            setup = (command.modelOptions.compiledModel(inferred.graph), try jobs(outputs: inferred.graph.outputs))
        }
        guard let (model, jobs) = setup else { return }
        let progress = ProgressBar(total: jobs.count)
        var failures = 0
        for (index, job) in jobs.enumerated() {
            progress.show(done: index, current: job.input)
            do {
                try runOne(job, model: model, progress: progress)
            } catch {
                failures += 1
                let message = (error as? ConvRTError)?.description ?? "\(error)"
                progress.print("error: " + (message.hasPrefix("\(job.input): ") ? message : "\(job.input): \(message)"))
            }
        }
        progress.finish()
        if failures > 0 {
            progress.print("error: \(failures) of \(jobs.count) input\(jobs.count == 1 ? "" : "s") failed")
            Foundation.exit(1)
        }
    }

    private func runOne(_ job: Job, model: CompiledModel, progress: ProgressBar) throws {
        let (tensor, notes) = try command.readInput(job.input)
        notes.forEach { progress.print("note: \($0)") }
        let outputs = try command.infer(model, inputs: [model.graph.inputs[0].name: tensor])
        if let path = job.output {
            try command.write(outputs, to: path)
        } else {
            progress.clear()
            for (name, tensor) in outputs { Swift.print("\(job.input): " + command.describe(name, tensor)) }
        }
    }

    /// Pairs each input with its output file in the `-o` directory (created if missing), refusing
    /// two inputs that would write the same file and an output that would overwrite an input.
    private func jobs(outputs: [String]) throws -> [Job] {
        guard let directory = command.output else { return command.inputs.map { Job(input: $0) } }
        let url = fileURL(directory)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ConvRTError("\(directory): several input files need -o to name a directory (e.g. out/), but this is a file")
            }
        } else if ["npy", "npz"].contains(url.pathExtension.lowercased()) {
            throw ConvRTError("\(directory): several input files need -o to name a directory (e.g. out/), not an .\(url.pathExtension) file")
        }
        let inputs = Set(command.inputs.map { fileURL($0).standardizedFileURL.path })
        var claimed: [String: String] = [:]
        let jobs = try command.inputs.map { input in
            let stem = fileURL(input).deletingPathExtension().lastPathComponent
            let output = url.appendingPathComponent(stem).appendingPathExtension(outputs.count == 1 ? "npy" : "npz")
            let key = output.standardizedFileURL.path
            if let other = claimed.updateValue(input, forKey: key) {
                throw ConvRTError("inputs \(other) and \(input) would both write \(output.relativePath); rename one")
            }
            guard !inputs.contains(key) else {
                throw ConvRTError("\(input): its result \(output.relativePath) would overwrite an input file; choose another -o directory")
            }
            return Job(input: input, output: output.relativePath)
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ConvRTError("\(directory): cannot create directory: \(error.localizedDescription)")
        }
        return jobs
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes
/// see just the error and note lines). Other stderr lines go through `print`, which clears the
/// bar first.
final class ProgressBar {
    private let total: Int
    private let enabled: Bool
    private var drawn = false

    init(total: Int) {
        self.total = total
        enabled = isatty(STDERR_FILENO) != 0
    }

    func show(done: Int, current: String) {
        guard enabled else { return }
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        write("\r\u{1B}[K[\(bar)] \(done)/\(total) \(current)")
        drawn = true
    }

    /// Writes one line to stderr, clearing the bar first.
    func print(_ line: String) {
        clear()
        write(line + "\n")
    }

    func clear() {
        guard drawn else { return }
        write("\r\u{1B}[K")
        drawn = false
    }

    func finish() { clear() }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
