/// `nn.Linear` as one SGEMM: `[rows x in] (x, packed per run) x [in x out] (W^T, transposed once
/// when the plan is made) -> [rows x out]`, written straight into the output.
///
/// The activations are the SGEMM's A so that the long dimension (`out`) runs along the
/// micro-kernel's wide NR side: with one row (batch 1) only MR-1 rows of a tile are padding,
/// where `W x^T` would waste NR-1 columns. The bias is stored first and accumulated onto.
public struct LinearKernel: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// `W^T`, `[in x out]` row-major: the SGEMM's B.
    let weightT: [Float]
    let bias: [Float]?
    /// Threads the SGEMM may use (set by the planner).
    var threads = 1
    /// A fused activation the SGEMM store applies.
    var activation = SGEMMEpilogue.Activation.none

    init(weight: Tensor, bias: Tensor?) {
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        inFeatures = inF
        outFeatures = outF
        var t = [Float](repeating: 0, count: inF * outF)
        // [out x in] -> [in x out]
        for o in 0..<outF {
            for i in 0..<inF { t[i * outF + o] = weight.data[o * inF + i] }
        }
        weightT = t
        self.bias = bias?.data
    }

    /// `out[r] = x[r] W^T + b` for `rows` rows of `inFeatures`.
    func run(_ x: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>) {
        guard rows > 0, outFeatures > 0 else { return }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { (out + r * outFeatures).update(from: b.baseAddress!, count: outFeatures) }
            }
        } else if inFeatures == 0 {
            out.update(repeating: 0, count: rows * outFeatures)
        }
        guard inFeatures > 0 else {
            if activation != .none { applyActivation(out, count: rows * outFeatures) }
            return
        }
        let a = PackedMatrixA(rows: rows, columns: inFeatures, data: x)
        weightT.withUnsafeBufferPointer { w in
            SGEMM.multiply(packedA: a, b: w.baseAddress!, ldb: outFeatures, c: out, ldc: outFeatures,
                           m: rows, n: outFeatures, k: inFeatures,
                           epilogue: SGEMMEpilogue(accumulate: bias != nil, activation: activation), threads: threads)
        }
    }

    /// The store activation on its own (when there was no product to fuse it into).
    private func applyActivation(_ y: UnsafeMutablePointer<Float>, count: Int) {
        let a: Activation
        switch activation {
        case .none: return
        case .relu: a = .relu
        case .clamp(let lo, let hi): a = .hardtanh(minValue: lo, maxValue: hi)
        case .leakyReLU(let slope): a = .leakyReLU(negativeSlope: slope)
        }
        DirectElementwise.activation(a, y, count: count, out: y)
    }
}
