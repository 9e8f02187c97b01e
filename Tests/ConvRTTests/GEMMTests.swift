import Testing
@testable import ConvRT

/// The packed SGEMM against a naive triple loop (in Double), on every ISA path this
/// CPU runs, over grids that hit every tile remainder and K-block boundary.
@Suite struct GEMMTests {
    /// One problem with seeded inputs and its reference result.
    struct Problem {
        let m: Int, n: Int, k: Int
        var a: [Float], b: [Float], c: [Float], bias: [Float], residual: [Float]

        init(m: Int, n: Int, k: Int, seed: UInt32 = 1) {
            self.m = m
            self.n = n
            self.k = k
            var state = seed &+ UInt32(m * 7919 + n * 131 + k)
            func next() -> Float {
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8 & 0xffff) / 32768 - 1
            }
            a = (0..<m * k).map { _ in next() }
            b = (0..<k * n).map { _ in next() }
            c = (0..<m * n).map { _ in next() }
            bias = (0..<m).map { _ in next() }
            residual = (0..<m * n).map { _ in next() }
        }

        /// The expected C and a bound on float rounding per element.
        func reference(_ e: SGEMMEpilogue) -> (values: [Double], bounds: [Double]) {
            var values = [Double](repeating: 0, count: m * n), bounds = values
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let t = Double(a[i * k + p]) * Double(b[p * n + j])
                        sum += t
                        magnitude += abs(t)
                    }
                    var v = Double(e.alpha) * sum
                    magnitude *= abs(Double(e.alpha))
                    if e.accumulate { v += Double(c[i * n + j]); magnitude += abs(Double(c[i * n + j])) }
                    if e.bias != nil { v += Double(bias[i]); magnitude += abs(Double(bias[i])) }
                    if e.residual != nil { v += Double(residual[i * n + j]); magnitude += 1 }
                    values[i * n + j] = Self.activate(v, e.activation)
                    bounds[i * n + j] = 1e-6 * Double(k + 4) * magnitude + 1e-6
                }
            }
            return (values, bounds)
        }

        static func activate(_ v: Double, _ activation: SGEMMEpilogue.Activation) -> Double {
            switch activation {
            case .none: return v
            case .relu: return max(v, 0)
            case let .clamp(lo, hi): return min(max(v, Double(lo)), Double(hi))
            case let .leakyReLU(slope): return v > 0 ? v : v * Double(slope)
            }
        }

        /// C after the multiply on `isa` with `threads` threads.
        func run(_ isa: SGEMM.ISA, _ spec: EpilogueSpec, threads: Int = 1) -> [Float] {
            let packed = PackedMatrixA(rows: m, columns: k, array: a, isa: isa)
            var out = c
            b.withUnsafeBufferPointer { b in
                bias.withUnsafeBufferPointer { bias in
                    residual.withUnsafeBufferPointer { residual in
                        out.withUnsafeMutableBufferPointer { out in
                            let e = spec.epilogue(bias: bias.baseAddress, residual: residual.baseAddress, n: n)
                            let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
                            defer { dummy.deallocate() }
                            SGEMM.multiply(packedA: packed, b: b.baseAddress ?? UnsafePointer(dummy), ldb: n,
                                               c: out.baseAddress ?? dummy, ldc: n, m: m, n: n, k: k,
                                               epilogue: e, threads: threads, minimumWorkPerThread: 0)
                        }
                    }
                }
            }
            return out
        }

        /// Checks `isa` against the reference; returns the output.
        @discardableResult
        func check(_ isa: SGEMM.ISA, _ spec: EpilogueSpec, threads: Int = 1,
                   sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [Float] {
            let out = run(isa, spec, threads: threads)
            let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
            defer { dummy.deallocate() }
            let (expected, bounds) = reference(spec.epilogue(bias: dummy, residual: dummy, n: n))
            let worst = out.indices.first { abs(Double(out[$0]) - expected[$0]) > bounds[$0] }
            #expect(worst == nil, "\(isa) m=\(m) n=\(n) k=\(k) \(spec) threads=\(threads): element \(worst ?? 0) is \(worst.map { out[$0] } ?? 0), expected \(worst.map { expected[$0] } ?? 0)",
                    sourceLocation: sourceLocation)
            return out
        }
    }

    /// An epilogue without pointers, so it can be a test argument.
    struct EpilogueSpec: CustomStringConvertible, Sendable {
        var alpha: Float = 1
        var accumulate = false
        var bias = false
        var residual = false
        var activation: SGEMMEpilogue.Activation = .none

        func epilogue(bias b: UnsafePointer<Float>?, residual r: UnsafePointer<Float>?, n: Int) -> SGEMMEpilogue {
            SGEMMEpilogue(alpha: alpha, accumulate: accumulate, bias: bias ? b : nil,
                          residual: residual ? r : nil, residualStride: n, activation: activation)
        }

        var description: String {
            "alpha=\(alpha) acc=\(accumulate) bias=\(bias) res=\(residual) \(activation)"
        }

        static let plain = EpilogueSpec()
        static let all: [EpilogueSpec] = {
            var specs: [EpilogueSpec] = []
            let activations: [SGEMMEpilogue.Activation] = [.none, .relu, .clamp(min: -0.5, max: 0.5), .leakyReLU(slope: 0.1)]
            for activation in activations {
                for flags in 0..<8 {
                    specs.append(EpilogueSpec(alpha: flags == 5 ? -0.75 : 1, accumulate: flags & 1 != 0,
                                              bias: flags & 2 != 0, residual: flags & 4 != 0, activation: activation))
                }
            }
            return specs
        }()
    }

    static let isas = SGEMM.ISA.supported

    @Test func bestISAIsSupportedAndNamed() {
        #expect(SGEMM.ISA.best.isSupported)
        #expect(SGEMM.ISA.portable.isSupported)
        #expect(SGEMM.kernelName.hasPrefix("sgemm_"))
        #expect(SGEMM.kernelName.hasSuffix(SGEMM.ISA.best.rawValue))
    }

    /// Every M and N remainder (1 ... 2*tile+1) for small K.
    @Test(arguments: isas) func everyTileRemainder(isa: SGEMM.ISA) {
        let (mr, nr) = isa.tile
        for m in 1...(2 * mr + 1) {
            for n in 1...(2 * nr + 1) {
                for k in [1, 3, 17] {
                    Problem(m: m, n: n, k: k).check(isa, .plain)
                }
            }
        }
    }

    /// K around and past the K block (256), with row and column tails.
    @Test(arguments: isas) func kBlockBoundaries(isa: SGEMM.ISA) {
        let (mr, nr) = isa.tile
        for k in [0, 255, 256, 257, 513, 600] {
            for (m, n) in [(1, 1), (mr, nr), (mr + 1, nr - 1), (2 * mr + 1, 2 * nr + 3), (3, 5 * nr + 7)] {
                Problem(m: m, n: n, k: k).check(isa, .plain)
            }
        }
    }

    /// Each epilogue combination, with tails, one and several K blocks.
    @Test(arguments: isas) func epilogues(isa: SGEMM.ISA) {
        let (mr, nr) = isa.tile
        for spec in EpilogueSpec.all {
            for k in [0, 9, 300] {
                Problem(m: 2 * mr + 3, n: 2 * nr + 5, k: k).check(isa, spec)
            }
        }
    }

    /// Thread counts 1, 2, 3 give the same bits, including shapes split along M.
    @Test(arguments: isas) func threadCountsIdentical(isa: SGEMM.ISA) {
        let spec = EpilogueSpec(accumulate: true, bias: true, residual: true, activation: .relu)
        for (m, n, k) in [(64, 3 * isa.tile.columns + 5, 300), (130, 50, 70), (7, 1000, 40), (256, 196, 280)] {
            let problem = Problem(m: m, n: n, k: k)
            let one = problem.check(isa, spec, threads: 1)
            for threads in [2, 3] {
                let many = problem.run(isa, spec, threads: threads)
                #expect(one.map { $0.bitPattern } == many.map { $0.bitPattern }, "\(isa) \(m)x\(n)x\(k) threads=\(threads)")
            }
        }
    }

    /// The fused-multiply-add paths compute the same sums in the same order.
    @Test func fusedPathsAgreeBitwise() {
        let fused = Self.isas.filter { $0 != .portable }
        guard let first = fused.first else { return }
        let problem = Problem(m: 37, n: 101, k: 300)
        let spec = EpilogueSpec(alpha: 0.5, accumulate: true, bias: true, activation: .leakyReLU(slope: 0.2))
        let expected = problem.run(first, spec).map { $0.bitPattern }
        for isa in fused.dropFirst() {
            #expect(problem.run(isa, spec).map { $0.bitPattern } == expected, "\(isa) vs \(first)")
        }
    }

    /// NaN passes through relu and clamp; relu turns -0 into +0.
    @Test(arguments: isas) func activationEdgeValues(isa: SGEMM.ISA) {
        var problem = Problem(m: 5, n: 40, k: 3)
        problem.b[1 * 40 + 7] = .nan  // column 7 of every row becomes NaN
        for activation: SGEMMEpilogue.Activation in [.relu, .clamp(min: 0, max: 6), .leakyReLU(slope: 0.1)] {
            let out = problem.run(isa, EpilogueSpec(activation: activation))
            for i in 0..<5 { #expect(out[i * 40 + 7].isNaN, "\(isa) \(activation) row \(i)") }
        }
        // K = 0 and alpha = -1: every product is -0.
        let empty = Problem(m: 3, n: 20, k: 0)
        #expect(empty.run(isa, EpilogueSpec(alpha: -1)).allSatisfy { $0 == 0 && $0.sign == .minus })
        #expect(empty.run(isa, EpilogueSpec(alpha: -1, activation: .relu)).allSatisfy { $0 == 0 && $0.sign == .plus })
    }

    /// A B row stride of 4 KiB would crowd a micro-panel into a few cache sets, so B is
    /// packed then instead of read in place; the bits are the same either way.
    @Test(arguments: isas) func packedBForCacheHostileStride(isa: SGEMM.ISA) {
        let (mr, nr) = isa.tile
        let ldb = 1024
        for (m, n, k) in [(mr + 1, 1, 300), (2 * mr + 1, nr + 3, 300), (mr, 2 * nr + 1, 600), (3, 1000, 257)] {
            let problem = Problem(m: m, n: n, k: k)
            let spec = EpilogueSpec(accumulate: true, bias: true, activation: .relu)
            let inPlace = problem.check(isa, spec)
            var b = [Float](repeating: .nan, count: k * ldb)
            for p in 0..<k { for j in 0..<n { b[p * ldb + j] = problem.b[p * n + j] } }
            let packed = PackedMatrixA(rows: m, columns: k, array: problem.a, isa: isa)
            for threads in [1, 2] {
                var c = problem.c
                b.withUnsafeBufferPointer { b in
                    problem.bias.withUnsafeBufferPointer { bias in
                        c.withUnsafeMutableBufferPointer { c in
                            let e = spec.epilogue(bias: bias.baseAddress, residual: nil, n: n)
                            SGEMM.multiply(packedA: packed, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!,
                                               ldc: n, m: m, n: n, k: k, epilogue: e, threads: threads,
                                               minimumWorkPerThread: 0)
                        }
                    }
                }
                #expect(c.map { $0.bitPattern } == inPlace.map { $0.bitPattern }, "\(isa) \(m)x\(n)x\(k) threads=\(threads)")
            }
        }
    }

    /// Strided B, C and residual (ld > n) leave the gaps untouched.
    @Test(arguments: isas) func strides(isa: SGEMM.ISA) {
        let (m, n, k, ld) = (9, 37, 20, 45)
        let problem = Problem(m: m, n: n, k: k)
        let packed = PackedMatrixA(rows: m, columns: k, array: problem.a, isa: isa)
        var b = [Float](repeating: .nan, count: k * ld), c = [Float](repeating: -7, count: m * ld)
        var residual = [Float](repeating: .nan, count: m * ld)
        for p in 0..<k { for j in 0..<n { b[p * ld + j] = problem.b[p * n + j] } }
        for i in 0..<m { for j in 0..<n { residual[i * ld + j] = problem.residual[i * n + j] } }
        b.withUnsafeBufferPointer { b in
            residual.withUnsafeBufferPointer { r in
                c.withUnsafeMutableBufferPointer { c in
                    let e = SGEMMEpilogue(residual: r.baseAddress, residualStride: ld)
                    SGEMM.multiply(packedA: packed, b: b.baseAddress!, ldb: ld, c: c.baseAddress!, ldc: ld,
                                       m: m, n: n, k: k, epilogue: e, threads: 2, minimumWorkPerThread: 0)
                }
            }
        }
        let expected = problem.run(isa, EpilogueSpec(residual: true))
        for i in 0..<m {
            #expect(Array(c[i * ld..<i * ld + n]).map { $0.bitPattern } == Array(expected[i * n..<i * n + n]).map { $0.bitPattern })
            #expect(c[i * ld + n..<i * ld + ld].allSatisfy { $0 == -7 })
        }
    }
}
