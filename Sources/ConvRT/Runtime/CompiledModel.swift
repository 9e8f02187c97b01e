import Foundation

/// A loaded model ready to run: its weighted graph and a cache of execution plans, one per
/// set of input shapes (a symbolic batch re-plans when the bound shape changes).
///
/// Safe to share between threads: the graph is immutable and the plan cache is locked.
public final class CompiledModel: @unchecked Sendable {
    public let graph: Graph
    public let options: PlanOptions
    private let lock = NSLock()
    private var plans: [[String: [Int]]: ExecutionPlan] = [:]
    private let arenas = ArenaPool()

    public init(graph: Graph, options: PlanOptions = PlanOptions()) {
        self.graph = graph
        self.options = options
    }

    /// The plan for these input shapes, computed once and reused.
    public func plan(for inputShapes: [String: [Int]]) throws -> ExecutionPlan {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[inputShapes] { return plan }
        let plan = try Planner.plan(graph, inputShapes: inputShapes, options: options)
        plans[inputShapes] = plan
        return plan
    }

    /// Runs the model on named inputs; returns the outputs by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let plan = try plan(for: inputs.mapValues(\.shape))
        return try arenas.withArena(bytes: plan.memory.arenaBytes) { try PlanExecutor.run(plan, inputs: inputs, arena: $0) }
    }

    /// How many distinct input shapes have been planned (for tests and `inspect`).
    public var cachedPlanCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return plans.count
    }
}
