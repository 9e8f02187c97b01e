/// Validation and shape function of `nn.Linear` / `nn.LazyLinear`, with PyTorch's checks in its
/// order: the weight's allocation `(out, in)`, then `F.linear`'s rank and size checks.
enum LinearShapeFunction {
    /// `(*, in) -> (*, out)`; resolves a Lazy layer's `in_features` from the input's last dim.
    static func infer(_ attributes: LinearAttributes, input: SymbolicShape) throws -> (LinearAttributes, SymbolicShape) {
        var a = attributes
        if !a.isLazy { try checkWeight(a, inFeatures: a.inFeatures ?? 0) }
        guard let last = input.last else {
            throw ConvRTError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
        }
        if a.inFeatures == nil {
            guard let features = last.value else {
                throw ConvRTError("the input's last dimension must be known when the model is compiled, but it is '\(last)'")
            }
            a.inFeatures = features
            try checkWeight(a, inFeatures: features)
        }
        let inFeatures = a.inFeatures ?? 0
        if let k = last.value, k != inFeatures {
            // ATen folds the leading dims into the rows of one matrix product.
            let rows = try SymbolicProduct(Array(input.dropLast())).dim
            throw ConvRTError("\(a.hasBias ? "addmm" : "mm"): mat1 and mat2 shapes cannot be multiplied (\(rows)x\(k) and \(inFeatures)x\(a.outFeatures))")
        }
        return (a, input.dropLast() + [.known(a.outFeatures)])
    }

    /// The constructor's `torch.empty((out_features, in_features))`.
    private static func checkWeight(_ a: LinearAttributes, inFeatures: Int) throws {
        let weight = [a.outFeatures, inFeatures]
        if let bad = weight.first(where: { $0 < 0 }) {
            throw ConvRTError("Trying to create tensor with negative dimension \(bad): \(weight.bracketed)")
        }
        try Limits.checkElements(weight, "weight")
    }
}

/// NumPy `matmul` (ONNX MatMul, `torch.matmul`): a 1-D first operand is a row vector and a 1-D
/// second operand a column vector, the added dim removed again; the batch dims broadcast.
enum MatMulShapeFunction {
    static func infer(_ a: SymbolicShape, _ b: SymbolicShape) throws -> SymbolicShape {
        guard !a.isEmpty, !b.isEmpty else {
            throw ConvRTError("both arguments to matmul need to be at least 1D, but they are \(a.count)D and \(b.count)D")
        }
        if a.count == 1, b.count == 1 {
            if let x = a[0].value, let y = b[0].value, x != y {
                throw ConvRTError("inconsistent tensor size, expected tensor [\(x)] and src [\(y)] to have the same number of elements, but got \(x) and \(y) elements respectively")
            }
            return []
        }
        let m = a.count == 1 ? Dim.known(1) : a[a.count - 2], k = a[a.count - 1]
        let k2 = b.count == 1 ? b[0] : b[b.count - 2], n = b.count == 1 ? Dim.known(1) : b[b.count - 1]
        if let x = k.value, let y = k2.value, x != y {
            throw ConvRTError("mat1 and mat2 shapes cannot be multiplied (\(m)x\(x) and \(y)x\(n))")
        }
        let batch = try ElementwiseShapeFunction.broadcast(Array(a.dropLast(2)), Array(b.dropLast(2)))
        return batch + (a.count == 1 ? [] : [m]) + (b.count == 1 ? [] : [n])
    }
}
