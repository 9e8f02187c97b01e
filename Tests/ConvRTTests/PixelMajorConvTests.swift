import CKernels
import Testing
@testable import ConvRT

/// The pixel-major 1x1 convolution (``PixelMajorConv``): the transposing store against a
/// scalar model, whole convolutions against a naive one over pixel counts around every MR
/// and thread split, channel counts around NR and the vector width, every ISA this CPU runs,
/// every store epilogue; the same bits as the channel-major ``GEMMConv`` and for any thread count.
@Suite struct PixelMajorConvTests {
    /// The store epilogue's scalar semantics (sgemm_scalar_activation): max/min pick the
    /// second operand on NaN or equal, as x86 maxps does.
    static func activate(_ x: Float, _ a: SGEMMEpilogue.Activation) -> Float {
        switch a {
        case .none: return x
        case .relu: return (0 > x ? 0 : x) + 0
        case let .clamp(lo, hi):
            let y = lo > x ? lo : x
            return hi < y ? hi : y
        case let .leakyReLU(slope): return x > 0 ? x : x * slope
        }
    }

    static let activations: [SGEMMEpilogue.Activation] = [.none, .relu, .clamp(min: 0, max: 6), .leakyReLU(slope: 0.1)]

    @Test func transposeStoreMatchesScalarModel() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<200 {
            let rows = 1 + Int(rng.next() % 20), cols = 1 + Int(rng.next() % 20)
            let lds = cols + Int(rng.next() % 3), ldd = rows + Int(rng.next() % 3), ldr = rows + Int(rng.next() % 3)
            var src = (0..<rows * lds).map { _ in 8 * rng.nextUnitFloat() - 4 }
            // Special values where the activations' NaN and signed-zero rules show.
            if trial % 4 == 0 { src[0] = .nan; src[src.count - 1] = -0.0 }
            let bias: [Float]? = trial % 3 == 0 ? nil : (0..<cols).map { _ in rng.nextUnitFloat() - 0.5 }
            let residual: [Float]? = trial % 2 == 0 ? nil : (0..<cols * ldr).map { _ in rng.nextUnitFloat() - 0.5 }
            let activation = Self.activations[trial % Self.activations.count]
            var dst = [Float](repeating: 7, count: cols * ldd)
            bias.withOptionalPointer { b in
                residual.withOptionalPointer { r in
                    var e = SGEMMEpilogue(bias: b, residual: r, residualStride: ldr, activation: activation).cValue
                    convrt_transpose_store(src, lds, rows, cols, &dst, ldd, &e)
                }
            }
            var bad: String?
            for c in 0..<cols {
                for p in 0..<ldd where bad == nil {
                    var want: Float = 7  // the padding past `rows` is left alone
                    if p < rows {
                        var v = src[p * lds + c]
                        if let bias { v = v + bias[c] }
                        if let residual { v = v + residual[c * ldr + p] }
                        want = Self.activate(v, activation)
                    }
                    let got = dst[c * ldd + p]
                    if got.bitPattern != want.bitPattern && !(got.isNaN && want.isNaN) {
                        bad = "c\(c) p\(p): \(got) != \(want)"
                    }
                }
            }
            #expect(bad == nil, "rows \(rows) cols \(cols) \(activation): \(bad ?? "")")
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var batch: Int, cin: Int, cout: Int, image: [Int], bias: Bool, residual: Bool
        var activation: SGEMMEpilogue.Activation
        var testDescription: String {
            "n\(batch) \(cin)->\(cout) \(image) \(bias ? "bias" : "") \(residual ? "+res" : "") \(activation)"
        }
        var plane: Int { image.reduce(1, *) }
    }

    static let cases: [Case] = {
        var rng = SplitMix64(seed: 3)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        // Planes: 1 pixel, below/at/above MR (6 on AVX2, 8 on AVX-512), 7x7 = 49, 1-D and 3-D.
        let images: [[Int]] = [[1, 1], [1, 5], [2, 3], [1, 7], [3, 3], [2, 5], [4, 4], [3, 5], [5, 5], [7, 7], [6, 9],
                               [13], [50], [2, 2, 3], [3, 3, 3]]
        var out: [Case] = []
        for (i, image) in images.enumerated() {
            for j in 0..<4 {
                let residual = (i + j) % 3 == 0
                out.append(Case(batch: pick([1, 1, 2]), cin: pick([1, 2, 3, 8, 17, 40, 300]),
                                cout: pick([1, 7, 8, 15, 16, 17, 33, 48, 50]), image: image,
                                bias: j % 2 == 0, residual: residual,
                                activation: activations[(i + j) % activations.count]))
            }
        }
        return out
    }()

    /// `act(W x + b + residual)`, summed in Double.
    static func naive(_ c: Case, x: [Float], w: [Float], b: [Float]?, residual: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: c.batch * c.cout * c.plane)
        for n in 0..<c.batch {
            for o in 0..<c.cout {
                for p in 0..<c.plane {
                    var sum = 0.0
                    for i in 0..<c.cin { sum += Double(w[o * c.cin + i]) * Double(x[(n * c.cin + i) * c.plane + p]) }
                    let at = (n * c.cout + o) * c.plane + p
                    var v = Float(sum) + (b?[o] ?? 0)
                    if let residual { v += residual[at] }
                    y[at] = activate(v, c.activation)
                }
            }
        }
        return y
    }

    static func shape(_ c: Case) -> ConvShape3D {
        let ones = [Int](repeating: 1, count: c.image.count), zeros = [Int](repeating: 0, count: c.image.count)
        return ConvShape3D(batch: c.batch, inChannels: c.cin, outChannels: c.cout, groups: 1, image: c.image,
                           kernel: ones, output: c.image, stride: ones, dilation: ones, padding: zeros)
    }

    static func activation(_ a: SGEMMEpilogue.Activation) -> Activation? {
        switch a {
        case .none: return nil
        case .relu: return .relu
        case let .clamp(lo, hi): return .hardtanh(minValue: lo, maxValue: hi)
        case let .leakyReLU(slope): return .leakyReLU(negativeSlope: slope)
        }
    }

    static func run(_ conv: PixelMajorConv, _ s: ConvShape3D, x: [Float], residual: [Float]?) -> [Float] {
        var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outputPlane)
        var workspace = [Float](repeating: .nan, count: conv.workspaceFloats(s))
        residual.withOptionalPointer { r in
            workspace.withUnsafeMutableBufferPointer { ws in
                conv.run(s, x: x, residual: r, y: &y, workspace: ws.baseAddress!)
            }
        }
        return y
    }

    @Test(arguments: cases)
    func matchesNaiveAndChannelMajor(_ c: Case) throws {
        var rng = SplitMix64(seed: UInt64(c.cin * 1009 + c.cout * 31 + c.plane))
        let x = (0..<c.batch * c.cin * c.plane).map { _ in 2 * rng.nextUnitFloat() - 1 }
        let w = (0..<c.cout * c.cin).map { _ in 2 * rng.nextUnitFloat() - 1 }
        let b: [Float]? = c.bias ? (0..<c.cout).map { _ in rng.nextUnitFloat() - 0.5 } : nil
        let residual: [Float]? = c.residual ? (0..<c.batch * c.cout * c.plane).map { _ in rng.nextUnitFloat() - 0.5 } : nil
        let weight = Tensor(shape: [c.cout, c.cin] + [Int](repeating: 1, count: c.image.count), data: w)
        let bias = b.map { Tensor(shape: [c.cout], data: $0) }
        let act = Self.activation(c.activation)
        let e = c.residual ? Epilogue(residualInput: 1, postActivation: act) : Epilogue(preActivation: act)
        let s = Self.shape(c)
        let want = Self.naive(c, x: x, w: w, b: b, residual: residual)
        let tolerance = 1e-5 * Float(c.cin).squareRoot() * 4
        for isa in SGEMM.ISA.supported {
            let one = Self.run(PixelMajorConv(weight: weight, bias: bias, epilogue: e, threads: 1, isa: isa), s, x: x, residual: residual)
            let worst = zip(one, want).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= tolerance, "\(isa): max error \(worst)")
            // Threads split the pixels; the bits stay.
            for threads in [2, 3] {
                var conv = PixelMajorConv(weight: weight, bias: bias, epilogue: e, threads: threads, isa: isa)
                conv.minimumWorkPerThread = 0
                let same = Self.run(conv, s, x: x, residual: residual) == one
                #expect(same, "\(isa), \(threads) threads")
            }
            guard isa == .best else { continue }
            // Channel-major with the same kernels: the same sums in the same order.
            let a = ConvAttributes(spatialRank: c.image.count, inChannels: c.cin, outChannels: c.cout,
                                   kernelSize: [Int](repeating: 1, count: c.image.count))
            let gemm = GEMMConv(a, weight: weight, bias: bias, epilogue: e, threads: 1)
            var y = [Float](repeating: .nan, count: one.count)
            residual.withOptionalPointer { r in gemm.run(s, x: x, residual: r, y: &y, workspace: nil) }
            let same = y == one
            #expect(same, "\(isa): differs from GEMMConv")
        }
    }

    @Test func chosenForSmallPlanesOnly() {
        guard [SGEMM.ISA.avx2, .avx512].contains(.best) else { return }  // the cost model's tiles
        func prefers(_ cin: Int, _ cout: Int, _ hw: Int, groups: Int = 1, e: Epilogue = Epilogue()) -> Bool {
            let s = ConvShape3D(batch: 1, inChannels: cin, outChannels: cout, groups: groups, image: [hw, hw],
                                kernel: [1, 1], output: [hw, hw], stride: [1, 1], dilation: [1, 1], padding: [0, 0])
            return PixelMajorConv.prefers(s, epilogue: e)
        }
        // MobileNetV2's last layers on 7x7.
        #expect(prefers(320, 1280, 7) && prefers(960, 320, 7))
        #expect(prefers(320, 1280, 7, e: Epilogue(preActivation: .relu6)))
        // Planes of whole NR panels stay channel-major, as do grouped convs and store-less activations.
        #expect(!prefers(256, 64, 56) && !prefers(960, 320, 28))
        #expect(!prefers(320, 1280, 7, groups: 2))
        #expect(!prefers(320, 1280, 7, e: Epilogue(preActivation: .sigmoid)))
    }
}
