import ConvRT
import Foundation

/// What every fuzz target shares: the rule for what counts as a finding, a small memory
/// limit, and the pipeline a decoded model goes through.
///
/// A finding is anything but returning normally or throwing ``ConvRTError``: a trap (Swift
/// runtime check, `precondition`, force-unwrap), an AddressSanitizer report, a hang past
/// libFuzzer's `-timeout`, an allocation past `-malloc_limit_mb`, or another error type.
public enum Fuzz {
    /// Far below libFuzzer's RSS limit, so the memory checks fire before it does.
    public static let limit = MemoryLimit(bytes: 64 << 20, name: "the fuzzing limit")

    /// Runs models only up to this many FLOPs, to keep each input fast.
    public static let maxRunFLOPs = 4_000_000

    /// Runs one input: `ConvRTError` is the expected way to reject it; anything else traps.
    public static func run(_ body: () throws -> Void) -> CInt {
        do {
            try body()
        } catch is ConvRTError {
            // A clean rejection.
        } catch {
            fatalError("finding: an error that is not a ConvRTError: \(error)")
        }
        return 0
    }

    /// The bytes libFuzzer hands over.
    public static func data(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let start, count > 0 else { return Data() }
        return Data(bytes: start, count: count)
    }

    /// Everything after decoding, as `convrt inspect` and `convrt infer` do it: shape inference,
    /// the summary, a plan (under ``limit``) and, for small models, a run on both executors.
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
            let count = shape.reduce(1, *)
            inputs[name] = Tensor(shape: shape, data: (0..<count).map { Float($0 % 7) - 3 })
        }
        let planned = try model.run(inputs)
        let reference = try model.runReference(inputs)
        guard planned.keys.sorted() == reference.keys.sorted(),
              planned.allSatisfy({ reference[$0.key]?.shape == $0.value.shape }) else {
            fatalError("finding: the planned and reference executors disagree on the outputs' names or shapes")
        }
    }
}
