/// Structural checks on a graph: unique names, operands defined before use, operand
/// counts, outputs defined. Run before shape inference and after every pass in tests.
public enum GraphVerifier {
    /// Throws a `ConvRTError` naming the first structural problem.
    public static func verify(_ graph: Graph) throws {
        var defined = Set<String>()
        for input in graph.inputs {
            guard defined.insert(input.name).inserted else {
                throw ConvRTError("duplicate input name '\(input.name)'")
            }
        }
        for node in graph.nodes {
            let expected = node.op.operandCount
            guard expected.contains(node.inputs.count) else {
                let count = expected.upperBound == Int.max ? "at least \(expected.lowerBound)" : "\(expected.lowerBound)"
                throw ConvRTError("takes \(count) input\(expected.lowerBound == 1 ? "" : "s"), got \(node.inputs.count)",
                                  context: node.label, at: node.location)
            }
            for name in node.inputs where !defined.contains(name) {
                throw ConvRTError("undefined name '\(name)'", context: node.label, at: node.location)
            }
            guard defined.insert(node.name).inserted else {
                throw ConvRTError("duplicate name '\(node.name)'", context: node.label, at: node.location)
            }
        }
        guard !graph.outputs.isEmpty else { throw ConvRTError("the model has no outputs") }
        var listed = Set<String>()
        for name in graph.outputs {
            guard defined.contains(name) else { throw ConvRTError("output '\(name)' is not defined") }
            guard listed.insert(name).inserted else { throw ConvRTError("output '\(name)' is listed twice") }
        }
    }
}

extension Op {
    /// How many operands the op consumes.
    public var operandCount: ClosedRange<Int> {
        switch self {
        case .conv, .unfold, .fold, .activation, .batchNorm, .identity, .pool, .adaptivePool, .linear,
             .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather, .pad, .resize,
             .softmax, .reduceMean:
            return 1...1
        case .add, .matmul, .binary: return 2...2
        case .concat: return 1...Int.max
        case .constant: return 0...0
        }
    }
}
