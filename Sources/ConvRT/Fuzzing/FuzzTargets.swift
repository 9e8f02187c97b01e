import Foundation

/// The bodies of the fuzz targets (`Fuzz/`, run with `Tools/fuzz.sh`), kept in the library so that
/// the regression tests replay a finding through exactly the code the fuzzer ran.
///
/// A body returns normally or throws ``ConvRTError`` for input it rejects; a finding is anything
/// else: a trap (Swift runtime check, `precondition`, force-unwrap, or a property below failing),
/// an AddressSanitizer report, a hang past libFuzzer's `-timeout`, or an allocation past
/// `-malloc_limit_mb`. A new target (e.g. a model importer) is one body: `FuzzTargets.entry`
/// around "decode the bytes, then `FuzzTargets.exercise` the graph".
@_spi(Fuzzing) public enum FuzzTargets {
    /// Far below libFuzzer's RSS limit, so the memory checks fire before it does.
    public static let limit = MemoryLimit(bytes: 64 << 20, name: "the fuzzing limit")

    /// Models run only up to this many FLOPs, to keep each input fast.
    public static let maxRunFLOPs = 4_000_000

    /// The `LLVMFuzzerTestOneInput` wrapper: a `ConvRTError` is a clean rejection, any other error a finding.
    public static func entry(_ start: UnsafePointer<UInt8>?, _ count: Int, _ body: (Data) throws -> Void) -> CInt {
        let data = start.map { Data(bytes: $0, count: count) } ?? Data()
        do {
            try body(data)
        } catch is ConvRTError {
            // Rejected cleanly.
        } catch {
            fatalError("finding: an error that is not a ConvRTError: \(error)")
        }
        return 0
    }

    /// `.convnet` bytes -> parse -> shape inference -> seeded weights -> `.pb` round trip -> ``exercise(_:)``.
    /// A compiled model must come back unchanged from its own file format.
    public static func dsl(_ data: Data) throws {
        let parsed = try ConvnetParser.parse(data, file: "fuzz.convnet")
        let compiled = try ModelCompiler.compile(parsed, baseDirectory: URL(fileURLWithPath: "/nonexistent"),
                                                 options: CompileOptions(memoryLimit: limit))
        let graph = compiled.graph
        let decoded: Graph
        do {
            decoded = try ModelFile.decode(try ModelFile.encode(graph), file: "fuzz.pb")
        } catch {
            fatalError("finding: a compiled model does not survive its .pb: \(error)")
        }
        guard decoded == graph else { fatalError("finding: the .pb round trip changed the graph") }
        try exercise(graph)
    }

    /// `.pb` bytes -> decoding and validation -> shape inference -> weight check -> ``exercise(_:)``,
    /// as `convrt infer MODEL.pb` loads a model.
    public static func pb(_ data: Data) throws {
        let graph = try ModelFile.decode(data, file: "fuzz.pb")
        let inferred = try ShapeInference.run(graph)
        try WeightBinding.validate(inferred.graph, file: "fuzz.pb")
        try exercise(inferred.graph)
    }

    /// `.npy` bytes -> header, dtype conversion, Fortran reordering; an array that decodes must
    /// survive `NPY.encode` bit for bit.
    public static func npy(_ data: Data) throws {
        let (tensor, _) = try NPY.decode(data, name: "fuzz.npy", limit: limit)
        let again: Tensor
        do {
            again = try NPY.decode(NPY.encode(tensor), name: "again.npy", limit: limit).tensor
        } catch {
            fatalError("finding: an encoded array does not decode: \(error)")
        }
        guard again.shape == tensor.shape, again.data.map(\.bitPattern) == tensor.data.map(\.bitPattern) else {
            fatalError("finding: encode/decode changed the array")
        }
    }

    /// `.npz` bytes -> zip directory, inflation (zip bombs), CRC, then each `.npy`.
    public static func npz(_ data: Data) throws {
        _ = try NPZ.decode(data, name: "fuzz.npz", limit: limit)
    }

    /// What `convrt inspect` and `convrt infer` do with a decoded model: shape inference, the
    /// summary, a plan under ``limit`` (verified after every pass) and, for models up to
    /// ``maxRunFLOPs``, a run on both executors, which must agree on the outputs' shapes.
    /// Symbolic dims are bound to 2.
    public static func exercise(_ graph: Graph) throws {
        let inferred = try ShapeInference.run(graph)
        _ = ModelSummary(inferred)
        var shapes: [String: [Int]] = [:]
        for input in graph.inputs { shapes[input.name] = inferred.shape(of: input.name).map { $0.value ?? 2 } }
        let bound = try ShapeInference.run(inferred.graph, inputShapes: shapes.mapValues(\.dims))
        let model = CompiledModel(graph: inferred.graph, options: PlanOptions(verify: true, threads: 2), memoryLimit: limit)
        _ = try model.memoryEstimate(for: shapes)
        guard let flops = ModelSummary(bound).totalFLOPs, flops <= maxRunFLOPs else { return }
        var inputs: [String: Tensor] = [:]
        for (name, shape) in shapes {
            inputs[name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { Float($0 % 7) - 3 })
        }
        let planned = try model.run(inputs)
        let reference = try model.runReference(inputs)
        guard planned.mapValues(\.shape) == reference.mapValues(\.shape) else {
            fatalError("finding: the planned and reference executors disagree on the outputs' shapes")
        }
    }
}
