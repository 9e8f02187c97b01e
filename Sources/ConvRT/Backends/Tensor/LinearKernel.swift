import CKernels

/// `nn.Linear` as one SGEMM: `[rows x in] (x, packed per run) x [in x out] (W^T, transposed once
/// when the plan is made) -> [rows x out]`, written straight into the output; one or two rows
/// (batch 1 or 2) as one-row products over W^T instead (`convrt_sgemv`).
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
        if rows <= Self.rowsPerGEMV {
            // The one-row products add to `out`: the bias, or zeros.
            if bias == nil { out.update(repeating: 0, count: rows * outFeatures) }
            for r in 0..<rows { multiplyRow(x + r * inFeatures, out: out + r * outFeatures) }
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

    /// Up to this many rows run as one-row products (``multiplyRow``): the SGEMM's 1- and
    /// 2-row tiles have too few accumulators to hide the FMA latency (measured at batch 1,
    /// 1280 -> 1000: 0.11 vs 0.17 ms with W^T in cache, 0.30 vs 0.49 ms from memory).
    static let rowsPerGEMV = 2

    /// `out += x W^T` for one row (`out` holds the bias or zeros): W^T streamed once, the
    /// columns split between threads in whole cache lines (the bits do not depend on the split).
    private func multiplyRow(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let work = 2 * Double(inFeatures) * Double(outFeatures)
        let lines = (outFeatures + 15) / 16
        let parts = max(1, min(threads, lines, Int(work / 1e6)))
        let isa = SGEMM.ISA.best.cValue
        weightT.withUnsafeBufferPointer { w in
            let job = RowJob(x: x, w: w.baseAddress!, out: out)
            let body = { (part: Int) in
                let begin = min(part * lines / parts * 16, outFeatures)
                let end = min((part + 1) * lines / parts * 16, outFeatures)
                guard end > begin else { return }
                convrt_sgemv(isa, inFeatures, end - begin, job.x, job.w + begin, outFeatures, job.out + begin)
            }
            if parts == 1 { body(0) } else { ThreadPool.parallelFor(parts, threads: parts, body) }
        }
    }

    /// One row's pointers, shared read-only by the threads.
    private struct RowJob: @unchecked Sendable {
        let x: UnsafePointer<Float>
        let w: UnsafePointer<Float>
        let out: UnsafeMutablePointer<Float>
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
