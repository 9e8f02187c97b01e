/// Runs a graph with the reference kernels: plain loops, the oracle every faster backend
/// is tested against.
///
/// Inputs are bound to the declared shapes, shape inference re-runs on the concrete shapes
/// (so every check also covers symbolic dims), then nodes run in order. A value is released
/// after its last use.
public enum ReferenceExecutor {
    /// Runs `graph` (with weights attached) on named inputs; returns the graph outputs by name.
    public static func run(_ graph: Graph, inputs: [String: Tensor]) throws -> [String: Tensor] {
        let bound = try ShapeInference.bindInputs(graph, shapes: inputs.mapValues(\.shape))
        let inferred = try ShapeInference.run(graph, inputShapes: bound)
        let lastUse = lastUses(inferred.graph)
        let outputs = Set(graph.outputs)
        var values = inputs
        for (index, node) in inferred.graph.nodes.enumerated() {
            let operands = node.inputs.map { values[$0]! }  // verified: defined before use
            guard let outputShape = inferred.shapes[node.name]?.concrete else {
                throw ConvRTError("could not resolve the output shape", context: node.label, at: node.location)
            }
            values[node.name] = try execute(node, operands: operands, outputShape: outputShape, weights: graph.weights)
            for name in node.inputs where lastUse[name] == index && !outputs.contains(name) {
                values[name] = nil
            }
        }
        return Dictionary(uniqueKeysWithValues: graph.outputs.map { ($0, values[$0]!) })
    }

    /// Index of the last node that reads each value.
    static func lastUses(_ graph: Graph) -> [String: Int] {
        var last: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for name in node.inputs { last[name] = index }
        }
        return last
    }

    static func execute(_ node: Node, operands: [Tensor], outputShape: [Int], weights: [String: Tensor]) throws -> Tensor {
        // Empty outputs (batch 0, or a 0-channel conv input, which yields 0 channels) need no kernel.
        if outputShape.contains(0) { return Tensor(zeros: outputShape) }
        switch node.op {
        case .conv(let a):
            guard let weight = weights["\(node.name).weight"] else {
                throw ConvRTError("missing weight '\(node.name).weight'", context: node.label, at: node.location)
            }
            let bias = a.hasBias ? weights["\(node.name).bias"] : nil
            return conv(a, operands[0], weight: weight, bias: bias, outputShape: outputShape)
        case .unfold(let window):
            return withBatch(operands[0], batchedRank: 4) { ReferenceKernels.unfold($0, window: window) }
        case .fold(let f):
            return withBatch(operands[0], batchedRank: 3) { ReferenceKernels.fold($0, outputSize: f.outputSize, window: f.window) }
        case .activation(let activation):
            return ReferenceKernels.activation(operands[0], activation)
        case .identity:
            return operands[0]
        case .batchNorm(let b):
            return try batchNorm(b, operands[0], node: node, weights: weights)
        case .add:
            return ReferenceKernels.add(operands[0], operands[1])
        case .linear, .matmul, .binary, .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze, .slice, .gather,
             .softmax, .reduceMean, .constant:
            return try ReferenceKernels.tensorOp(node, operands, outputShape: outputShape, weights: weights)
        case .pool(let a): return ReferenceKernels.pool(operands[0], a, outputShape: outputShape)
        case .adaptivePool(let a): return ReferenceKernels.adaptivePool(operands[0], a, outputShape: outputShape)
        case .pad(let p): return ReferenceKernels.pad(operands[0], p)
        case .resize(let a): return ReferenceKernels.resize(operands[0], a, outputShape: outputShape)
        }
    }

    static func conv(_ a: ConvAttributes, _ x: Tensor, weight: Tensor, bias: Tensor?, outputShape: [Int]) -> Tensor {
        withBatch(x, batchedRank: a.spatialRank + 2) { batched in
            if a.transposed {
                return ReferenceKernels.convTranspose(
                    batched, weight: weight, bias: bias, stride: a.stride, dilation: a.dilation,
                    padding: a.transposedPadding, groups: a.groups, outputSpatial: Array(outputShape.suffix(a.spatialRank)))
            }
            let (begin, end) = a.padBeginEnd
            if a.paddingMode == .zeros {
                return ReferenceKernels.conv(batched, weight: weight, bias: bias, stride: a.stride, dilation: a.dilation,
                                             padBegin: begin, padEnd: end, groups: a.groups)
            }
            // Like PyTorch: pad with the mode first, then convolve without padding.
            let padded = ReferenceKernels.pad(batched, begin: begin, end: end, mode: a.paddingMode)
            let zeros = [Int](repeating: 0, count: a.spatialRank)
            return ReferenceKernels.conv(padded, weight: weight, bias: bias, stride: a.stride, dilation: a.dilation,
                                         padBegin: zeros, padEnd: zeros, groups: a.groups)
        }
    }

    /// BatchNorm with the node's `weight`/`bias` (if affine) and running stats (if tracked).
    static func batchNorm(_ b: BatchNormAttributes, _ x: Tensor, node: Node, weights: [String: Tensor]) throws -> Tensor {
        func tensor(_ suffix: String, if present: Bool) throws -> [Float]? {
            guard present else { return nil }
            guard let t = weights["\(node.name).\(suffix)"] else {
                throw ConvRTError("missing weight '\(node.name).\(suffix)'", context: node.label, at: node.location)
            }
            return t.data
        }
        return ReferenceKernels.batchNorm(
            x, mean: try tensor("running_mean", if: b.trackRunningStats),
            variance: try tensor("running_var", if: b.trackRunningStats),
            weight: try tensor("weight", if: b.affine), bias: try tensor("bias", if: b.affine), eps: b.eps)
    }

    /// Runs a batched kernel on an unbatched tensor by adding and removing a leading 1.
    static func withBatch(_ x: Tensor, batchedRank: Int, _ body: (Tensor) -> Tensor) -> Tensor {
        guard x.rank == batchedRank - 1 else { return body(x) }
        let y = body(x.reshaped([1] + x.shape))
        return y.reshaped(Array(y.shape.dropFirst()))
    }
}
