import Foundation

/// Options for turning a `.convnet` file into a runnable graph.
public struct CompileOptions: Sendable {
    /// An `.npz` to use instead of the file's `weights` statement.
    public var weightsOverride: URL?
    /// Seed for the deterministic init used when there is no weights file.
    public var seed: UInt64
    /// Cap on the memory the model file and its weights may take (see ``MemoryLimit``).
    public var memoryLimit: MemoryLimit

    public init(weightsOverride: URL? = nil, seed: UInt64 = 0, memoryLimit: MemoryLimit = .default) {
        self.weightsOverride = weightsOverride
        self.seed = seed
        self.memoryLimit = memoryLimit
    }
}

/// The front half of the pipeline: parse, infer shapes (resolving Lazy layers), attach weights.
public enum ModelCompiler {
    /// Compiles a `.convnet` file; a relative `weights` path is read from the file's directory.
    public static func compile(contentsOf url: URL, options: CompileOptions = CompileOptions()) throws -> InferredGraph {
        try options.memoryLimit.checkFile(url)
        let parsed = try ConvnetParser.parse(contentsOf: url)
        return try compile(parsed, baseDirectory: url.deletingLastPathComponent(), options: options)
    }

    /// Compiles parsed DSL source.
    public static func compile(_ parsed: ParsedModel, baseDirectory: URL, options: CompileOptions = CompileOptions()) throws -> InferredGraph {
        var inferred = try ShapeInference.run(parsed.graph)
        if let url = options.weightsOverride ?? parsed.weightsPath.map({ URL(fileURLWithPath: $0, relativeTo: baseDirectory) }) {
            let entries: [(name: String, tensor: Tensor)]
            do {
                entries = try NPZ.read(contentsOf: url, limit: options.memoryLimit).map { ($0.name, $0.tensor) }
            } catch let error as ConvRTError {
                // A bad weights statement points at the statement; a bad --weights has no location.
                throw options.weightsOverride == nil ? error.located(at: parsed.weightsLocation, context: nil) : error
            }
            inferred.graph.weights = try WeightBinding.bind(inferred.graph, entries: entries, file: url.relativePath)
        } else {
            try options.memoryLimit.check(WeightBinding.parameterBytes(of: inferred.graph), "initializing the model's parameters")
            inferred.graph.weights = WeightBinding.initialize(inferred.graph, seed: options.seed)
        }
        return inferred
    }

    /// Loads a model for running: `.convnet` is compiled, `.pb` is decoded and fully re-validated,
    /// `.onnx` is imported (see `ModelFormat.detect` for how the format is told).
    public static func load(contentsOf url: URL, options: CompileOptions = CompileOptions()) throws -> InferredGraph {
        switch try ModelFormat.detect(url) {
        case .convnet:
            return try compile(contentsOf: url, options: options)
        case .convrtProtobuf:
            try options.memoryLimit.checkFile(url)
            let graph = try ModelFile.read(contentsOf: url)
            let inferred = try ShapeInference.run(graph)
            try WeightBinding.validate(inferred.graph, file: url.relativePath)
            return inferred
        case .onnx:
            try options.memoryLimit.checkFile(url)
            return try loadONNX(contentsOf: url)
        }
    }
}
