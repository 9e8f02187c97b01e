import CKernels

/// Packed single-precision matrix multiply with a fused epilogue, on the fastest
/// micro-kernels this CPU runs (chosen at run time).
///
/// Layout is row-major throughout: A is `[m x k]` weights (Cout x Cin*kh*kw),
/// packed once into a ``PackedMatrixA``; B is `[k x n]` activations (n = pixels,
/// e.g. an im2col matrix or, for a 1x1 convolution, the NCHW input plane); C is
/// `[m x n]`, one image's NCHW output. Results are bit-identical for any thread
/// count: threads share output tiles, never the K sum.
public enum SGEMM {
    /// An instruction-set path of the kernels.
    public enum ISA: String, CaseIterable, Sendable, CustomStringConvertible {
        case portable, avx2, avx512, neon

        var cValue: convrt_isa {
            switch self {
            case .portable: return CONVRT_ISA_PORTABLE
            case .avx2: return CONVRT_ISA_AVX2
            case .avx512: return CONVRT_ISA_AVX512
            case .neon: return CONVRT_ISA_NEON
            }
        }

        init?(cValue: convrt_isa) {
            guard let isa = ISA.allCases.first(where: { $0.cValue == cValue }) else { return nil }
            self = isa
        }

        /// The fastest path this CPU supports.
        public static var best: ISA { ISA(cValue: convrt_isa_best()) ?? .portable }

        /// Every path this CPU runs, fastest last.
        public static var supported: [ISA] { allCases.filter(\.isSupported) }

        /// Whether this build has the path and this CPU runs it.
        public var isSupported: Bool { convrt_isa_supported(cValue) != 0 }

        /// The kernel's name, tile and ISA, e.g. `sgemm_8x48_avx512`.
        public var kernelName: String { String(cString: convrt_sgemm_kernel_name(cValue)) }

        /// Micro-tile rows (MR) and columns (NR).
        public var tile: (rows: Int, columns: Int) {
            (Int(convrt_sgemm_mr(cValue)), Int(convrt_sgemm_nr(cValue)))
        }

        /// Floats per vector register of the micro-kernel (NR is a multiple of it).
        public var vectorWidth: Int { Int(convrt_sgemm_vector_width(cValue)) }

        public var description: String { kernelName }
    }

    /// The kernel in use by default, for `convrt inspect` (e.g. `sgemm_8x48_avx512`).
    public static var kernelName: String { ISA.best.kernelName }

    /// `C = epilogue(A * B)`; see ``SGEMMEpilogue`` for the order of the steps.
    ///
    /// Layout: row-major; `b` is `[k x n]` with row stride `ldb`, `c` is `[m x n]` with row
    /// stride `ldc`. `c` must not overlap `b`, the packed weights, the bias or the residual.
    /// B is read in place (not copied) unless its row stride is cache-hostile (near a multiple
    /// of 4 KiB); rows that start on 64-byte boundaries (64-byte aligned `b` and `c`, strides
    /// a multiple of 16 floats) run fastest: split loads cost up to ~20% with few rows in A.
    /// - Parameters:
    ///   - packedA: the weights, `m x k`, packed for the ISA to run.
    ///   - threads: how many threads share the output tiles (1: the calling thread only);
    ///     fewer run when the product is too small to pay for waking them.
    public static func multiply(
        packedA: PackedMatrixA, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
        epilogue: SGEMMEpilogue = SGEMMEpilogue(), threads: Int = 1
    ) {
        multiply(packedA: packedA, b: b, ldb: ldb, c: c, ldc: ldc, m: m, n: n, k: k,
                 epilogue: epilogue, threads: threads, minimumWorkPerThread: 1e6)
    }

    /// ``multiply(packedA:b:ldb:c:ldc:m:n:k:epilogue:threads:)`` giving each thread at least
    /// `minimumWorkPerThread` FLOPs (tests pass 0 to split even tiny products).
    static func multiply(
        packedA: PackedMatrixA, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
        epilogue: SGEMMEpilogue, threads: Int, minimumWorkPerThread: Double
    ) {
        precondition(m == packedA.rows && k == packedA.columns, "SGEMM: A is \(packedA.rows)x\(packedA.columns), not \(m)x\(k)")
        precondition(n >= 0 && ldb >= n && ldc >= n && threads >= 1, "SGEMM: bad n, ldb, ldc or threads")
        precondition(epilogue.residual == nil || epilogue.residualStride >= n, "SGEMM: residual stride < n")
        guard m > 0, n > 0 else { return }
        // Waking a thread costs microseconds: give each enough work. The bits do not
        // depend on the thread count, so this only changes the speed.
        let work = 2 * Double(m) * Double(n) * Double(max(k, 1))
        let threads = minimumWorkPerThread > 0 ? max(1, min(threads, Int(work / minimumWorkPerThread))) : threads
        var plan = convrt_sgemm_plan()
        guard convrt_sgemm_plan_make(packedA.isa.cValue, m, n, k, threads, &plan) == 0 else {
            preconditionFailure("SGEMM: \(packedA.isa) unsupported on this CPU")
        }
        let job = Job(plan: plan, a: packedA.baseAddress, b: b, ldb: ldb, c: c, ldc: ldc,
                      epilogue: epilogue.cValue)
        let failed = threads == 1 ? job.run(part: 0, of: 1) : job.runConcurrently(threads)
        // The per-thread buffer has a fixed size (at most KC x NC floats, ~400 KB), so failing
        // to get it is running out of memory, which Swift's own allocations trap on too.
        if failed { fatalError("SGEMM: out of memory for the B packing buffer") }
    }
}

/// One multiply's arguments, shared read-only by the worker threads.
private struct Job: @unchecked Sendable {
    var plan: convrt_sgemm_plan
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let ldb: Int
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    var epilogue: convrt_sgemm_epilogue

    /// Computes part `part` of `parts`; true on failure.
    func run(part: Int, of parts: Int) -> Bool {
        var plan = self.plan, epilogue = self.epilogue
        var begin = 0, end = 0
        convrt_sgemm_plan_partition(&plan, part, parts, &begin, &end)
        return convrt_sgemm_compute(&plan, a, b, ldb, c, ldc, &epilogue, begin, end) != 0
    }

    func runConcurrently(_ threads: Int) -> Bool {
        let failures = UnsafeMutableBufferPointer<Bool>.allocate(capacity: threads)
        defer { failures.deallocate() }
        failures.initialize(repeating: false)
        let slots = FailureSlots(base: failures.baseAddress!)
        ThreadPool.parallelFor(threads, threads: threads) { part in
            slots.base[part] = run(part: part, of: threads)
        }
        return failures.contains(true)
    }
}

/// Per-thread result slots: each worker writes only its own.
private struct FailureSlots: @unchecked Sendable {
    let base: UnsafeMutablePointer<Bool>
}
