/// ONNX Reshape with a constant target shape: `0` copies the input dim at the same index (unless
/// `allowZero`, where it is a real 0), one `-1` is inferred from the element count. Messages follow
/// PyTorch's `view` where it has one.
enum ReshapeShapeFunction {
    static func infer(_ r: ReshapeAttributes, input: SymbolicShape) throws -> SymbolicShape {
        var out: [Dim] = []
        var inferred: Int?
        for (i, v) in r.shape.enumerated() {
            switch v {
            case -1:
                guard inferred == nil else { throw ConvRTError("only one dimension can be inferred") }
                inferred = i
                out.append(.known(1))  // a placeholder, replaced below
            case 0 where !r.allowZero:
                guard i < input.count else {
                    throw ConvRTError("shape \(r.shape.bracketed) copies input dim \(i) with its 0, but the input \(input.rendered) has \(input.count) dims")
                }
                out.append(input[i])
            case ..<0:
                throw ConvRTError("invalid shape dimension \(v)")
            default:
                out.append(.known(v))
            }
        }
        if r.allowZero, inferred != nil, r.shape.contains(0) {
            throw ConvRTError("shape \(r.shape.bracketed) has both 0 and -1, which allowzero=1 forbids (the -1 would be ambiguous)")
        }
        let total = try SymbolicProduct(input)
        guard let i = inferred else {
            if let count = input.concrete.flatMap(Limits.product), let given = out.concrete, Limits.product(given) != count {
                throw ConvRTError("shape '\(given.bracketed)' is invalid for input of size \(count)")
            }
            return out
        }
        let given = try SymbolicProduct(out)
        let requested = out.indices.map { $0 == i ? "-1" : out[$0].description }.joined(separator: ", ")
        if given.isZero {
            if let count = total.dim.value, count != 0 {
                throw ConvRTError("shape '[\(requested)]' is invalid for input of size \(count)")
            }
            throw ConvRTError("cannot reshape tensor of \(total.dim) elements into shape [\(requested)] because the unspecified dimension size -1 can be any value and is ambiguous")
        }
        if let q = total.exactlyDivided(by: given) {
            out[i] = q.dim
        } else if let count = total.dim.value, given.dim.value != nil {
            throw ConvRTError("shape '[\(requested)]' is invalid for input of size \(count)")
        } else {
            out[i] = total.displayQuotient(by: given)
        }
        return out
    }
}
