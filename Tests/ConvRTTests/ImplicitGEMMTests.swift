import CKernels
import Testing
@testable import ConvRT

/// The blocked implicit-GEMM convolution: the C im2col block gather against a naive one, the
/// column blocking's cover of the output, and whole convolutions against the reference
/// executor with slab budgets small enough to cut tiny images into many blocks (every block
/// and panel remainder), on 1, 2 and 3 threads with identical bits.
@Suite struct ImplicitGEMMTests {
    // MARK: - im2col blocks

    struct Geometry: CustomStringConvertible {
        var g: convrt_conv_geometry
        var description: String {
            "c\(g.channels) in\([g.in_d, g.in_h, g.in_w]) k\([g.k_d, g.k_h, g.k_w]) s\([g.stride_d, g.stride_h, g.stride_w]) d\([g.dilation_d, g.dilation_h, g.dilation_w]) p\([g.pad_d, g.pad_h, g.pad_w])"
        }
        var taps: Int { g.k_d * g.k_h * g.k_w }
        var columns: Int { g.out_d * g.out_h * g.out_w }

        /// Tap `r` of output pixel `n`, read naively (0 in the padding).
        func value(_ x: [Float], row r: Int, column n: Int) -> Float {
            let c = r / taps, tap = r % taps
            let (kd, kh, kw) = (tap / (g.k_h * g.k_w), tap / g.k_w % g.k_h, tap % g.k_w)
            let (od, oh, ow) = (n / (g.out_h * g.out_w), n / g.out_w % g.out_h, n % g.out_w)
            let id = od * g.stride_d - g.pad_d + kd * g.dilation_d
            let ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h
            let iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w
            guard (0..<g.in_d).contains(id), (0..<g.in_h).contains(ih), (0..<g.in_w).contains(iw) else { return 0 }
            return x[((c * g.in_d + id) * g.in_h + ih) * g.in_w + iw]
        }
    }

    static func randomGeometry(_ rng: inout SplitMix64) -> Geometry? {
        func pick(_ xs: [Int]) -> Int { xs[Int(rng.next() % UInt64(xs.count))] }
        let rank = pick([1, 2, 3])
        var dims: [(i: Int, k: Int, s: Int, d: Int, p: Int, o: Int)] = []
        for axis in 0..<3 {
            guard axis >= 3 - rank else { dims.append((1, 1, 1, 1, 0, 1)); continue }
            let k = pick([1, 2, 3, 5]), s = pick([1, 1, 2, 3]), d = pick([1, 1, 2]), p = pick([0, 1, 2])
            let i = pick(rank == 1 ? [3, 8, 17, 40] : rank == 2 ? [3, 6, 11] : [2, 4, 5])
            let o = ConvGeometry.convOutputLength(input: i, kernel: k, stride: s, dilation: d, padBegin: p, padEnd: p)
            guard o >= 1 else { return nil }
            dims.append((i, k, s, d, p, o))
        }
        let g = convrt_conv_geometry(
            channels: pick([1, 2, 3]), in_d: dims[0].i, in_h: dims[1].i, in_w: dims[2].i,
            out_d: dims[0].o, out_h: dims[1].o, out_w: dims[2].o, k_d: dims[0].k, k_h: dims[1].k, k_w: dims[2].k,
            stride_d: dims[0].s, stride_h: dims[1].s, stride_w: dims[2].s,
            dilation_d: dims[0].d, dilation_h: dims[1].d, dilation_w: dims[2].d,
            pad_d: dims[0].p, pad_h: dims[1].p, pad_w: dims[2].p)
        return Geometry(g: g)
    }

    @Test func im2colBlocksMatchNaiveGather() {
        var rng = SplitMix64(seed: 5)
        var checked = 0
        while checked < 300 {
            guard let geo = Self.randomGeometry(&rng) else { continue }
            checked += 1
            let g = geo.g, k = g.channels * geo.taps, n = geo.columns
            let x = (0..<g.channels * g.in_d * g.in_h * g.in_w).map { _ in Float(rng.next() % 1000) + 1 }
            let n0 = Int(rng.next() % UInt64(n)), count = 1 + Int(rng.next() % UInt64(n - n0))
            let ldd = count + Int(rng.next() % 4)
            // All rows, or a random range of them (a K block: may start and end mid-channel).
            let row0 = checked % 2 == 0 ? 0 : Int(rng.next() % UInt64(k))
            let rows = checked % 2 == 0 ? k : 1 + Int(rng.next() % UInt64(k - row0))
            var slab = [Float](repeating: -1, count: rows * ldd)
            withUnsafePointer(to: g) { gp in convrt_im2col_block(gp, x, n0, count, row0, rows, &slab, ldd) }
            var bad: String?
            for r in 0..<rows where bad == nil {
                for t in 0..<ldd {
                    let want = t < count ? geo.value(x, row: row0 + r, column: n0 + t) : -1  // -1: left untouched
                    if slab[r * ldd + t] != want { bad = "row \(row0 + r) col \(t): \(slab[r * ldd + t]) != \(want)"; break }
                }
            }
            #expect(bad == nil, "\(geo) n0 \(n0) count \(count) rows \(row0)..<\(row0 + rows) ldd \(ldd): \(bad ?? "")")
        }
    }

    // MARK: - Column blocking

    @Test(arguments: [1, 2, 3])
    func blockingCoversEveryColumnOnce(threads: Int) {
        let tile = SGEMM.ISA.best.tile
        let grid = [1, 15, 16, 17, 100, 196, 3136].flatMap { n in
            [2, 27, 576].flatMap { k in [0, 1, 3].flatMap { b in [1, 4000, ColumnBlocking.slabBudget].map { (n, k, b, $0) } } }
        }
        for (columns, k, batch, budget) in grid {
            let s = ConvShape3D(batch: batch, inChannels: k, outChannels: 13, groups: 1, image: [columns], kernel: [1],
                                output: [columns], stride: [1], dilation: [1], padding: [0])
            let b = ColumnBlocking(s, threads: threads, tile: tile, kc: 256, budget: budget)
            var next = 0
            for i in 0..<b.blocks {
                let (start, count) = b.block(i)
                #expect(start == next && count >= 1 && count <= b.slabStride && start % tile.columns == 0)
                next = start + count
            }
            #expect(next == columns, "\(columns) columns, \(b.blocks) blocks")
            #expect((b.slabStride / tile.columns) % 2 == 1 && b.slabStride % tile.columns == 0)
            #expect(b.slabCount >= (b.shared ? b.items : threads))
            #expect(b.rowParts >= 1 && (b.rowParts == 1 || b.shared))
        }
    }

    // MARK: - Whole convolutions

    struct Case: CustomTestStringConvertible, Sendable {
        var rank: Int, batch: Int, cin: Int, cout: Int, size: Int, k: Int, stride: Int, dilation: Int
        var groups: Int, padding: Int, mode: ConvAttributes.PaddingMode, activation: Activation?, residual: Bool
        var testDescription: String {
            "\(rank)d n\(batch) \(cin)->\(cout) s\(size) k\(k) st\(stride) d\(dilation) g\(groups) p\(padding) \(mode) \(activation.map { "\($0)" } ?? "-")\(residual ? " +res" : "")"
        }
    }

    static let cases: [Case] = {
        var rng = SplitMix64(seed: 77)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        return (0..<48).map { i in
            let rank = [1, 2, 2, 3][i % 4]
            let groups = pick([1, 1, 2, 3])
            let cin = groups * pick([2, 3, 5]), cout = groups * pick([1, 5, 7, 13])
            let stride = pick([1, 1, 2, 3]), dilation = pick([1, 1, 2])
            let mode = pick([ConvAttributes.PaddingMode.zeros, .zeros, .zeros, .reflect, .circular])
            let padding = mode == .zeros ? pick([0, 1, 2]) : pick([0, 1])
            // Never the direct 1x1 path (stride 1, unpadded): it reads the input in place, no im2col.
            let k = stride == 1 && padding == 0 ? pick([2, 3]) : pick(rank == 3 ? [1, 2, 3] : [1, 2, 3, 5])
            let size = pick(rank == 3 ? [4, 6] : rank == 2 ? [5, 9, 12] : [20, 45, 70]) + (k - 1) * dilation
            return Case(rank: rank, batch: pick([1, 1, 2]), cin: cin, cout: cout, size: size, k: k,
                        stride: stride, dilation: dilation, groups: groups, padding: padding, mode: mode,
                        activation: pick([nil, .relu, .relu6, .leakyReLU(negativeSlope: 0.1), .sigmoid]),
                        residual: stride == 1 && cin == cout && k % 2 == 1 && padding * 2 == (k - 1) * dilation)
        }
    }()

    func graph(_ c: Case) -> Graph {
        var b = GraphBuilder(seed: UInt64(c.cin * 31 + c.cout))
        let x = b.input("x", [c.batch, c.cin] + [Int](repeating: c.size, count: c.rank))
        b.conv("conv", x, in: c.cin, out: c.cout, k: c.k, stride: c.stride, padding: c.padding, groups: c.groups, rank: c.rank)
        if case .conv(var a) = b.nodes[0].op {
            a.dilation = [Int](repeating: c.dilation, count: c.rank)
            a.paddingMode = c.mode
            b.nodes[0].op = .conv(a)
        }
        var last = "conv"
        if c.residual { last = b.op("sum", .add, last, x) }
        if let act = c.activation { last = b.op("act", .activation(act), last) }
        return b.graph(outputs: [last])
    }

    /// Runs the graph's conv step on the implicit GEMM with an im2col slab budget of `budget` floats.
    func run(_ g: Graph, _ x: Tensor, threads: Int, budget: Int) throws -> (Tensor, ColumnBlocking?) {
        var p = try Planner.plan(g, inputShapes: ["x": x.shape], options: PlanOptions(verify: true, threads: threads))
        // Other backends (Winograd, the direct grouped kernels) may win this shape: force the GEMM.
        guard case .conv(let attributes, let weight, let bias, let epilogue) = p.steps[0].kernel, GEMMConv.supports(epilogue)
        else { return (Tensor(shape: [], data: [0]), nil) }
        var gemm = GEMMConv(attributes, weight: weight, bias: bias, epilogue: epilogue, threads: threads)
        gemm.slabBudget = budget
        p.steps[0].convAlgorithm = .gemm(gemm)
        p.memory = MemoryPlanner.plan(p.steps, shapes: p.shapes, inputs: p.inputs, outputs: p.outputs, reuse: true)
        guard case .conv(let a, _, _, _) = p.steps[0].kernel else { return (Tensor(shape: [], data: [0]), nil) }
        let shape = PlanExecutor.convShape(a, inShape: x.shape, outShape: p.shapes[p.steps[0].output] ?? [])
        return (try PlanExecutor.run(p, inputs: ["x": x])[g.outputs[0]]!, gemm.blocking(shape))
    }

    @Test(arguments: cases)
    func matchesReferenceOnAnyBlockingAndThreads(_ c: Case) throws {
        let g = graph(c)
        let shape = g.inputs[0].shape.concrete!
        var rng = SplitMix64(seed: 3)
        let x = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
        let expected = try ReferenceExecutor.run(g, inputs: ["x": x])[g.outputs[0]]!
        let kVolume = (0..<c.rank).reduce(1) { v, _ in v * c.k }, nr = SGEMM.ISA.best.tile.columns
        var first: Tensor?
        // One, two and three panels per block, and the default budget (one block: shared slabs).
        for panels in [1, 2, 3, 1000] {
            for threads in [1, 2, 3] {
                let (y, blocking) = try run(g, x, threads: threads, budget: panels * nr * (c.cin / c.groups) * kVolume)
                #expect(blocking != nil, "not on the implicit GEMM")
                if let first {
                    #expect(y == first, "\(panels) panels per block, \(threads) threads: bits differ")
                } else {
                    expectClose(y, expected, "\(c.testDescription)")
                    first = y
                }
            }
        }
    }

    /// The shared-slab path (few blocks, rows split between threads) is taken, with row parts.
    @Test func fewBlocksShareSlabsAcrossThreads() throws {
        let c = Case(rank: 2, batch: 1, cin: 4, cout: 40, size: 6, k: 3, stride: 1, dilation: 1, groups: 1, padding: 1,
                     mode: .zeros, activation: .sigmoid, residual: false)
        let g = graph(c)
        let x = Tensor(shape: [1, 4, 6, 6], data: (0..<144).map { Float($0 % 7) - 3 })
        let expected = try ReferenceExecutor.run(g, inputs: ["x": x])[g.outputs[0]]!
        let (one, _) = try run(g, x, threads: 1, budget: ColumnBlocking.slabBudget)
        let (two, blocking) = try run(g, x, threads: 2, budget: ColumnBlocking.slabBudget)
        #expect(blocking?.shared == true && (blocking?.rowParts ?? 0) > 1)
        expectClose(one, expected, "shared slabs")
        #expect(one == two)
    }
}
