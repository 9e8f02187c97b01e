import Foundation

/// A loaded model ready to run: its weighted graph and a cache of execution plans, one per
/// set of input shapes (a symbolic batch re-plans when the bound shape changes).
///
/// `CompiledModel` is immutable and `Sendable` (checked by the compiler, not asserted), so one
/// instance can serve any number of concurrent ``run(_:)`` calls:
/// - `graph`, `options` and `memoryLimit` are `let` `Sendable` values;
/// - an ``ExecutionPlan`` is an immutable value once made (weights packed, algorithms chosen);
///   the cache holding plans is a `Locked` dictionary, and planning runs outside its lock,
///   so planning one shape never blocks runs of another (two threads may plan the same new
///   shape at once; both plans are identical and one is kept);
/// - every run writes only to memory it owns: its own arena from the `ArenaPool`, its own
///   input and output buffers, and per-thread kernel workspaces.
public final class CompiledModel: Sendable {
    public let graph: Graph
    public let options: PlanOptions
    /// Runs whose weights, arena, inputs and outputs would need more are refused before allocating.
    public let memoryLimit: MemoryLimit
    /// The float32 bytes of the weights as loaded.
    public let weightBytes: Int
    private let plans = Locked(PlanCache())
    private let arenas = ArenaPool()

    /// Plans kept per model; the least recently used is dropped beyond this, so a stream of
    /// distinct input shapes cannot grow memory without bound.
    public static let planCacheCapacity = 16

    public init(graph: Graph, options: PlanOptions = PlanOptions(), memoryLimit: MemoryLimit = .default) {
        self.graph = graph
        self.options = options
        self.memoryLimit = memoryLimit
        weightBytes = graph.weights.values.reduce(0) { $0 + $1.count * 4 }
    }

    /// The plan for these input shapes, computed once and reused; refused when running it
    /// would need more memory than ``memoryLimit``.
    public func plan(for inputShapes: [String: [Int]]) throws -> ExecutionPlan {
        if let plan = plans.withLock({ $0.lookUp(inputShapes) }) { return plan }
        // Packing weights for the kernels copies them: check that before planning.
        try memoryLimit.check(2 * weightBytes, "preparing the weights (2 x \(MemoryLimit.format(weightBytes)))")
        let plan = try Planner.plan(graph, inputShapes: inputShapes, options: options)
        try checkMemory(plan, inputShapes: inputShapes, reference: false)
        return plans.withLock { $0.insert(plan, for: inputShapes, capacity: Self.planCacheCapacity) }
    }

    /// Runs the model on named inputs; returns the outputs by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let plan = try plan(for: inputs.mapValues(\.shape))
        return try arenas.withArena(bytes: plan.memory.arenaBytes) { try PlanExecutor.run(plan, inputs: inputs, arena: $0) }
    }

    /// Runs the model `warmup + iterations` times and returns each plan step's median time over the
    /// timed runs, in step order (what `convrt bench --profile` prints).
    public func profile(_ inputs: [String: Tensor], warmup: Int, iterations: Int) throws -> [StepProfile] {
        let plan = try plan(for: inputs.mapValues(\.shape))
        var samples = [[Double]](repeating: [], count: plan.steps.count)
        let clock = ContinuousClock()
        try arenas.withArena(bytes: plan.memory.arenaBytes) { arena in
            for _ in 0..<warmup { _ = try PlanExecutor.run(plan, inputs: inputs, arena: arena) }
            for _ in 0..<iterations {
                _ = try PlanExecutor.run(plan, inputs: inputs, arena: arena) { index, runStep in
                    samples[index].append(clock.measure(runStep).milliseconds)
                }
            }
        }
        return plan.steps.enumerated().map { index, step in
            StepProfile(index: index, step: step, outputShape: plan.shapes[step.output] ?? [],
                        milliseconds: BenchmarkResult(samples: samples[index]).median)
        }
    }

    /// Runs the unoptimised graph on the reference kernels (the oracle), after the same memory
    /// check with every intermediate value counted (the reference executor reuses no memory).
    public func runReference(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let shapes = inputs.mapValues(\.shape)
        try memoryLimit.check(2 * weightBytes, "preparing the weights (2 x \(MemoryLimit.format(weightBytes)))")
        let plan = try Planner.plan(graph, inputShapes: shapes, options: PlanOptions(fuse: false, reuse: false, threads: 1))
        try checkMemory(plan, inputShapes: shapes, reference: true)
        return try ReferenceExecutor.run(graph, inputs: inputs)
    }

    /// What a run on these input shapes needs: weights, arena and inputs plus outputs.
    public func memoryEstimate(for inputShapes: [String: [Int]]) throws -> MemoryEstimate {
        MemoryEstimate(plan: try plan(for: inputShapes), weightBytes: weightBytes, reference: false)
    }

    /// How many distinct input shapes are planned and cached (for tests and `inspect`).
    public var cachedPlanCount: Int { plans.withLock { $0.count } }

    private func checkMemory(_ plan: ExecutionPlan, inputShapes: [String: [Int]], reference: Bool) throws {
        let estimate = MemoryEstimate(plan: plan, weightBytes: weightBytes, reference: reference)
        let shapes = plan.inputs.map { "\($0) \((inputShapes[$0] ?? []).bracketed)" }.joined(separator: ", ")
        try memoryLimit.check(estimate.total, "running the model on \(shapes) (\(estimate))")
    }
}

/// One plan step's share of a model's run time.
public struct StepProfile: Sendable {
    /// The step's position in the plan (as `convrt inspect` numbers them).
    public var index: Int
    public var step: PlanStep
    public var outputShape: [Int]
    /// Median over the timed runs (0 for steps skipped because their output is empty).
    public var milliseconds: Double
}

/// The memory one run takes, by what holds it.
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    /// Weights as loaded; counted twice, as their folded / packed copies live alongside.
    public var weights: Int
    /// The planned arena: intermediate values and kernel workspaces.
    public var arena: Int
    /// Graph inputs and outputs, which live outside the arena; counted twice, as the caller's
    /// tensors and the executor's buffers.
    public var inputsAndOutputs: Int

    /// The sum, saturating at `Int.max`.
    public var total: Int {
        [weights, weights, arena, inputsAndOutputs, inputsAndOutputs].reduce(0) { sum, bytes in
            let (next, overflow) = sum.addingReportingOverflow(bytes)
            return overflow ? Int.max : next
        }
    }

    /// `weights 2 x 1.0 MiB, arena 3.0 MiB, inputs and outputs 2 x 12.0 KiB`.
    public var description: String {
        "weights 2 x \(MemoryLimit.format(weights)), arena \(MemoryLimit.format(arena)), "
            + "inputs and outputs 2 x \(MemoryLimit.format(inputsAndOutputs))"
    }

    init(plan: ExecutionPlan, weightBytes: Int, reference: Bool) {
        weights = weightBytes
        arena = reference ? plan.memory.naiveBytes : plan.memory.arenaBytes
        inputsAndOutputs = Set(plan.inputs + plan.outputs).reduce(0) { $0 + (plan.shapes[$1]?.reduce(1, *) ?? 0) * 4 }
    }
}

/// Plans by input shapes, least recently used first out.
private struct PlanCache: Sendable {
    private var plans: [[String: [Int]]: ExecutionPlan] = [:]
    /// Keys from least to most recently used.
    private var order: [[String: [Int]]] = []

    var count: Int { plans.count }

    mutating func lookUp(_ key: [String: [Int]]) -> ExecutionPlan? {
        guard let plan = plans[key] else { return nil }
        touch(key)
        return plan
    }

    /// Inserts `plan` unless another thread planned the same shapes first; returns the kept plan.
    mutating func insert(_ plan: ExecutionPlan, for key: [String: [Int]], capacity: Int) -> ExecutionPlan {
        if let existing = lookUp(key) { return existing }
        plans[key] = plan
        order.append(key)
        while order.count > capacity { plans[order.removeFirst()] = nil }
        return plan
    }

    private mutating func touch(_ key: [String: [Int]]) {
        if let index = order.firstIndex(of: key) { order.remove(at: index) }
        order.append(key)
    }
}
