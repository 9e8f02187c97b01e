/// Lowers a shape-inferred graph to one plan step per node, capturing each node's parameters.
enum StepBuilder {
    static func steps(for graph: Graph) throws -> [PlanStep] {
        try graph.nodes.map { node in
            PlanStep(kernel: try kernel(for: node, weights: graph.weights), inputs: node.inputs, output: node.name,
                     covers: [node.name], opName: node.op.displayName)
        }
    }

    static func kernel(for node: Node, weights: [String: Tensor]) throws -> StepKernel {
        func parameter(_ suffix: String) throws -> Tensor {
            guard let t = weights["\(node.name).\(suffix)"] else {
                throw ConvRTError("missing weight '\(node.name).\(suffix)'", context: node.label, at: node.location)
            }
            return t
        }
        switch node.op {
        case .conv(let a):
            return .conv(a, weight: try parameter("weight"), bias: a.hasBias ? try parameter("bias") : nil, epilogue: Epilogue())
        case .unfold(let w): return .unfold(w)
        case .fold(let f): return .fold(f)
        case .activation(let a): return .activation(a)
        case .add: return .add(then: nil)
        case .identity: return .copy
        case .batchNorm(let b):
            let weight = b.affine ? try parameter("weight") : nil
            let bias = b.affine ? try parameter("bias") : nil
            guard b.trackRunningStats else { return .batchStatisticsNorm(eps: b.eps, weight: weight, bias: bias) }
            let (scale, shift) = batchNormAffine(
                mean: try parameter("running_mean").data, variance: try parameter("running_var").data,
                weight: weight?.data, bias: bias?.data, eps: b.eps)
            return .channelAffine(scale: scale.map(Float.init), shift: shift.map(Float.init))
        case .linear, .matmul, .binary, .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather,
             .softmax, .reduceMean, .constant:
            return .tensor(try TensorLayerKernel(node, weights: weights))
        case .pool, .adaptivePool, .pad, .resize: return .layer(try SpatialLayerKernel(node.op))
        }
    }

    /// Inference BatchNorm as `x * scale + shift`: `scale = w / sqrt(var + eps)`, `shift = b - mean * scale`
    /// (PyTorch's CPU kernel uses the same form). Kept in Double for folding into convolutions.
    static func batchNormAffine(mean: [Float], variance: [Float], weight: [Float]?, bias: [Float]?, eps: Double)
        -> (scale: [Double], shift: [Double])
    {
        let scale = variance.indices.map { c in Double(weight?[c] ?? 1) / (Double(variance[c]) + eps).squareRoot() }
        let shift = mean.indices.map { c in Double(bias?[c] ?? 0) - Double(mean[c]) * scale[c] }
        return (scale, shift)
    }
}
