import Foundation

/// Switches for the planner's optimisations (each can be turned off to compare results).
public struct PlanOptions: Hashable, Sendable {
    /// Fold BatchNorm into convolutions and fuse activations / residual adds into epilogues.
    public var fuse: Bool
    /// Share arena space between values whose lifetimes do not overlap, and run elementwise
    /// steps in place.
    public var reuse: Bool
    /// Run the plan verifier after every pass (always on in debug builds).
    public var verify: Bool
    /// Threads a kernel may use (results are identical for any count).
    public var threads: Int

    public init(fuse: Bool = true, reuse: Bool = true, verify: Bool = false,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.fuse = fuse
        self.reuse = reuse
        self.verify = verify
        self.threads = max(1, threads)
    }
}

/// A graph lowered for execution on concrete input shapes: fused steps and a memory plan.
public struct ExecutionPlan: Sendable {
    public var steps: [PlanStep]
    public var memory: MemoryPlan
    /// The concrete shape of every value.
    public var shapes: [String: [Int]]
    public var inputs: [String]
    public var outputs: [String]
}

/// Turns a weighted graph into an `ExecutionPlan`: steps, fusion passes, dead-step
/// elimination, then buffer planning. Each pass is followed by the verifier when asked.
public enum Planner {
    public static func plan(_ graph: Graph, inputShapes: [String: [Int]], options: PlanOptions = PlanOptions()) throws -> ExecutionPlan {
        let bound = try ShapeInference.bindInputs(graph, shapes: inputShapes)
        let inferred = try ShapeInference.run(graph, inputShapes: bound)
        let shapes = inferred.shapes.compactMapValues(\.concrete)
        var verify = options.verify
        assert({ verify = true; return true }())
        var steps = try StepBuilder.steps(for: inferred.graph)
        let outputs = graph.outputs
        func check(_ pass: String) throws {
            if verify { try PlanVerifier.verify(steps, inputs: graph.inputs.map(\.name), outputs: outputs, after: pass) }
        }
        try check("lowering")
        removeIdentities(&steps, outputs: outputs)
        try check("identity removal")
        if options.fuse {
            let rules: [(String, any FusionRule)] = [
                ("BatchNorm folding", FoldBatchNorm()),
                ("residual Add fusion", FuseResidualAdd()),
                ("activation fusion", FuseActivation()),
            ]
            // Rules in a fixed order, each to its fixpoint, until none applies.
            var changed = true
            while changed {
                changed = false
                for (name, rule) in rules {
                    let verifier: (([PlanStep]) throws -> Void)? = verify ? {
                        try PlanVerifier.verify($0, inputs: graph.inputs.map(\.name), outputs: outputs, after: name)
                    } : nil
                    if try rule.applyAll(&steps, outputs: outputs, shapes: shapes, check: verifier) { changed = true }
                }
            }
        }
        removeDeadSteps(&steps, outputs: outputs)
        try check("dead-step elimination")
        for i in steps.indices { steps[i].convAlgorithm = ConvAlgorithm.choose(steps[i], threads: options.threads, shapes: shapes) }
        for i in steps.indices { steps[i].kernel = steps[i].kernel.withThreads(options.threads) }
        let memory = MemoryPlanner.plan(steps, shapes: shapes, inputs: graph.inputs.map(\.name), outputs: outputs, reuse: options.reuse)
        return ExecutionPlan(steps: steps, memory: memory, shapes: shapes, inputs: graph.inputs.map(\.name), outputs: outputs)
    }

    /// An Identity passes its value through: readers read its input instead. One that is a graph
    /// output stays as a copy (outputs never alias other values).
    static func removeIdentities(_ steps: inout [PlanStep], outputs: [String]) {
        let outputs = Set(outputs)
        var renamed: [String: String] = [:]
        steps = steps.compactMap { step in
            var step = step
            step.inputs = step.inputs.map { renamed[$0] ?? $0 }
            if case .copy = step.kernel, !outputs.contains(step.output) {
                renamed[step.output] = step.inputs[0]
                return nil
            }
            return step
        }
    }

    /// Drops steps whose value no graph output depends on.
    static func removeDeadSteps(_ steps: inout [PlanStep], outputs: [String]) {
        var live = Set(outputs)
        var keep = [Bool](repeating: false, count: steps.count)
        for i in steps.indices.reversed() where live.contains(steps[i].output) {
            keep[i] = true
            live.formUnion(steps[i].inputs)
        }
        steps = steps.indices.filter { keep[$0] }.map { steps[$0] }
    }
}

/// Checks plan invariants: unique value names, operands defined before use, outputs defined,
/// epilogue operands in range.
enum PlanVerifier {
    static func verify(_ steps: [PlanStep], inputs: [String], outputs: [String], after pass: String) throws {
        var defined = Set(inputs)
        for step in steps {
            for name in step.inputs where !defined.contains(name) {
                throw ConvRTError("internal error after \(pass): step '\(step.output)' reads '\(name)' before it is defined")
            }
            guard defined.insert(step.output).inserted else {
                throw ConvRTError("internal error after \(pass): '\(step.output)' is defined twice")
            }
            if case .conv(_, _, _, let e) = step.kernel, let r = e.residualInput, r >= step.inputs.count {
                throw ConvRTError("internal error after \(pass): step '\(step.output)' has residual operand \(r) of \(step.inputs.count)")
            }
        }
        for name in outputs where !defined.contains(name) {
            throw ConvRTError("internal error after \(pass): output '\(name)' is no longer defined")
        }
    }
}
