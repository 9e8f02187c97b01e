/// Pooling (MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool) and the dense ops (Gemm, MatMul).
extension ImportSession {
    mutating func pool(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        guard let kernel = try node.ints("kernel_shape") else { throw ConvRTError("attribute 'kernel_shape' is missing") }
        let k = kernel.count
        guard (1...3).contains(k), x.shape.count == k + 2 else {
            throw ConvRTError("a \(k)-d kernel over an input of shape \(x.shape.rendered) is not supported (1-d to 3-d pooling of (N, C, spatial) inputs)")
        }
        let isMax = node.opType == "MaxPool"
        if isMax, try node.int("storage_order", default: 0) != 0 {
            throw ConvRTError("storage_order=1 is not supported")
        }
        let window = try ConvWindow(node, kernel: kernel)
        if !isMax, window.dilations.contains(where: { $0 != 1 }) {
            throw ConvRTError("AveragePool with dilations \(window.dilations.bracketed) is not supported")
        }
        let pads = try window.pads(node, input: x.shape)
        let countIncludePad = try node.int("count_include_pad", default: 0) != 0
        let attributes = PoolAttributes(
            kind: isMax ? .max : .average, spatialRank: k, kernelSize: kernel, stride: window.strides,
            padBegin: pads.begin, padEnd: pads.end, dilation: window.dilations,
            ceilMode: try node.int("ceil_mode", default: 0) != 0,
            countIncludePad: isMax || countIncludePad)
        return try emit(.pool(attributes), [x.name], for: node)
    }

    mutating func globalPool(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let k = x.shape.count - 2
        guard (1...3).contains(k) else {
            throw ConvRTError("input has shape \(x.shape.rendered); \(node.opType) needs 3 to 5 dims (N, C, spatial)")
        }
        let kind: PoolAttributes.Kind = node.opType == "GlobalMaxPool" ? .max : .average
        let attributes = AdaptivePoolAttributes(kind: kind, spatialRank: k, outputSize: [Int?](repeating: 1, count: k))
        return try emit(.adaptivePool(attributes), [x.name], for: node)
    }

    /// Gemm `alpha * A' B' + beta * C`. With a constant B it is a Linear (`alpha` folded into the
    /// weight, a broadcastable constant `beta * C` into the bias); otherwise MatMul and elementwise ops.
    mutating func gemm(_ node: ONNXNode) throws -> ImportedValue {
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        var a = try runtime(node, 0)
        guard a.shape.count == 2 else { throw ConvRTError("A has shape \(a.shape.rendered), but Gemm needs a matrix") }
        if transA, let t = try emit(.transpose(permutation: [1, 0]), [a.name], for: node, suffix: "/transA").runtimeName {
            a = (t, [a.shape[1], a.shape[0]])
        }
        guard let b = knownConstant(node, 1) else { return try gemmAsMatMul(node, a.name, alpha, beta, transB) }
        var weight = try b.floatTensor(for: "B")
        guard weight.rank == 2 else { throw ConvRTError("B has shape \(weight.shape.bracketed), but Gemm needs a matrix") }
        if !transB { weight = try ConstantOps.transpose(b, permutation: [1, 0]).floatTensor(for: "B") }
        if alpha != 1 { weight.data = weight.data.map { $0 * alpha } }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        var parameters = ["weight": weight]
        // beta * C that is not a bias vector, or a run-time C, is added after the Linear.
        var constantC: ONNXConstant?
        var runtimeC = false
        if beta != 0, node.input(2) != nil {
            if let c = knownConstant(node, 2) {
                let bias = try c.floatTensor(for: "C")
                let isRow = bias.shape.dropLast().allSatisfy { $0 == 1 } && (bias.shape.last ?? 1) == outFeatures
                if bias.shape.allSatisfy({ $0 == 1 }) || isRow {
                    let row = bias.count == 1 ? [Float](repeating: bias.data[0], count: outFeatures) : bias.data
                    parameters["bias"] = Tensor(shape: [outFeatures], data: row.map { $0 * beta })
                } else {
                    constantC = ONNXConstant(name: c.name, shape: c.shape, floats: bias.data.map { $0 * beta })
                }
            } else {
                runtimeC = true
            }
        }
        let linear = LinearAttributes(inFeatures: inFeatures, outFeatures: outFeatures, hasBias: parameters["bias"] != nil)
        let needsAdd = constantC != nil || runtimeC
        let result = try emit(.linear(linear), [a.name], for: node, suffix: needsAdd ? "/linear" : "", parameters: parameters)
        guard needsAdd, let y = result.runtimeName else { return result }
        return try addScaledC(node, y, beta: beta, constantC: constantC)
    }

    /// Gemm with a run-time B.
    private mutating func gemmAsMatMul(_ node: ONNXNode, _ a: String, _ alpha: Float, _ beta: Float, _ transB: Bool) throws -> ImportedValue {
        var b = try runtime(node, 1).name
        if transB, let t = try emit(.transpose(permutation: [1, 0]), [b], for: node, suffix: "/transB").runtimeName { b = t }
        let hasC = beta != 0 && node.input(2) != nil
        var result = try emit(.matmul, [a, b], for: node, suffix: alpha != 1 || hasC ? "/matmul" : "")
        if alpha != 1, let y = result.runtimeName {
            let scale = try builder.materialize(ONNXConstant(name: node.name + "/alpha", shape: [], floats: [alpha]), role: "alpha")
            result = try emit(.binary(.mul), [y, scale.name], for: node, suffix: hasC ? "/alpha" : "")
        }
        guard hasC, let y = result.runtimeName else { return result }
        return try addScaledC(node, y, beta: beta, constantC: try knownConstant(node, 2).map { c in
            ONNXConstant(name: c.name, shape: c.shape, floats: try c.floatTensor(for: "C").data.map { $0 * beta })
        })
    }

    /// `y + beta * C` for a C that is not a Linear bias.
    private mutating func addScaledC(_ node: ONNXNode, _ y: String, beta: Float, constantC: ONNXConstant?) throws -> ImportedValue {
        if let constantC {
            return try emit(.add, [y, try builder.materialize(constantC, role: "C").name], for: node)
        }
        var c = try runtime(node, 2).name
        if beta != 1 {
            let scale = try builder.materialize(ONNXConstant(name: node.name + "/beta", shape: [], floats: [beta]), role: "beta")
            if let scaled = try emit(.binary(.mul), [c, scale.name], for: node, suffix: "/beta").runtimeName { c = scaled }
        }
        return try emit(.add, [y, c], for: node)
    }

    /// MatMul: a Linear (weight `B^T`) when B is a constant matrix, else a run-time MatMul.
    mutating func matmul(_ node: ONNXNode) throws -> ImportedValue {
        let a = try runtime(node, 0)
        if let b = knownConstant(node, 1), b.shape.count == 2 {
            let weight = try ConstantOps.transpose(b, permutation: [1, 0]).floatTensor(for: "B")
            let linear = LinearAttributes(inFeatures: b.shape[0], outFeatures: b.shape[1], hasBias: false)
            return try emit(.linear(linear), [a.name], for: node, parameters: ["weight": weight])
        }
        let b = try runtime(node, 1)
        return try emit(.matmul, [a.name, b.name], for: node)
    }
}
