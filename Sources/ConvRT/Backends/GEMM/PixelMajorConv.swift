import CKernels

/// A 1x1, stride-1, unpadded, ungrouped convolution on a small image plane, run pixel-major:
/// `[pixels x Cin] (the input plane, transposed while it is packed) x [Cin x Cout] (W^T,
/// packed once) -> [pixels x Cout]`, then stored into the NCHW output, transposed, with the
/// bias, residual and activation.
///
/// Why: ``GEMMConv`` puts the pixels on the micro-kernel's wide NR side. A 7x7 plane is
/// 49 = 3 x 16 + 1 columns on AVX2, and the 1-column tail tile costs about two thirds of a
/// full one (its few accumulators wait on FMA latency, not throughput): MobileNetV2's last
/// 1x1 layers lost ~20% there. Pixel-major puts the pixels on the MR side (49 = 8 x 6 + 1
/// rows) and the channels, usually multiples of 16, on NR. The K blocks and the order of
/// every sum are the same as ``GEMMConv``'s, so the bits are too.
struct PixelMajorConv: @unchecked Sendable {
    let inChannels: Int
    let outChannels: Int
    /// `W^T` (`[Cin x Cout]`), packed as the SGEMM's B.
    let weights: PackedMatrixB
    let bias: [Float]?
    let activation: SGEMMEpilogue.Activation
    let threads: Int
    /// FLOPs each thread must get before another is woken (tests pass 0 to split tiny convs).
    var minimumWorkPerThread = 1e6

    /// Whether a conv of this shape and epilogue can run pixel-major, and is estimated to
    /// run faster that way than channel-major on `isa`'s micro-kernel (see ``estimatedCost``).
    static func prefers(_ s: ConvShape3D, epilogue e: Epilogue, isa: SGEMM.ISA = .best) -> Bool {
        guard s.groups == 1, GEMMConv.readsInputDirectly(s), GEMMConv.supports(e),
              storeActivation(e) != nil, s.inChannels > 0, s.outChannels > 0, s.outputPlane > 0
        else { return false }
        let tile = isa.tile, width = isa.vectorWidth
        let k = Double(s.inChannels), pixels = Double(s.outputPlane), cout = Double(s.outChannels)
        let channelMajor = estimatedCost(rows: s.outChannels, columns: s.outputPlane, tile: tile, width: width) * k
        // Packing the plane (a copy) and the transposing store (~0.75 FMA slots per element).
        let pixelMajor = estimatedCost(rows: s.outputPlane, columns: s.outChannels, tile: tile, width: width) * k
            + 0.25 * pixels * k + 0.75 * pixels * cout
        return pixelMajor < 0.92 * channelMajor
    }

    /// Vector-FMA issue slots per K step of a `rows x columns` SGEMM: each micro-tile of
    /// `r` rows and `v` vectors costs `r * v` slots, but no less than 8 (two FMA pipes with a
    /// 4-cycle latency need 8 independent accumulators to stay busy).
    static func estimatedCost(rows: Int, columns: Int, tile: (rows: Int, columns: Int), width: Int) -> Double {
        let rowTiles = [(rows / tile.rows, tile.rows), (1, rows % tile.rows)].filter { $0.0 > 0 && $0.1 > 0 }
        let fullVectors = tile.columns / width, tailVectors = (columns % tile.columns + width - 1) / width
        let columnTiles = [(columns / tile.columns, fullVectors), (1, tailVectors)].filter { $0.0 > 0 && $0.1 > 0 }
        var cost = 0.0
        for (rowCount, r) in rowTiles {
            for (columnCount, v) in columnTiles {
                cost += Double(rowCount * columnCount) * Double(max(r * v, 8))
            }
        }
        return cost
    }

    /// The store activation for this epilogue, `nil` when it has none the store applies.
    private static func storeActivation(_ e: Epilogue) -> SGEMMEpilogue.Activation? {
        guard let a = e.residualInput == nil ? e.preActivation : e.postActivation else { return SGEMMEpilogue.Activation.none }
        return GEMMConv.storeActivation(for: a)
    }

    init(weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int, isa: SGEMM.ISA = .best) {
        let cout = weight.shape[0], cin = weight.count / max(cout, 1)
        inChannels = cin
        outChannels = cout
        var transposed = [Float](repeating: 0, count: cin * cout)
        for o in 0..<cout {
            for i in 0..<cin { transposed[i * cout + o] = weight.data[o * cin + i] }
        }
        weights = PackedMatrixB(rows: cin, columns: cout, array: transposed, isa: isa)
        self.bias = bias?.data
        activation = Self.storeActivation(e) ?? .none
        self.threads = threads
    }

    private var mr: Int { weights.isa.tile.rows }

    /// Floats of workspace `run` needs: the packed plane, the `[pixels x Cout]` product, and
    /// 16 to align them to a cache line.
    func workspaceFloats(_ s: ConvShape3D) -> Int {
        packedPlaneFloats(s) + s.outputPlane * outChannels + 16
    }

    private func packedPlaneFloats(_ s: ConvShape3D) -> Int {
        (s.outputPlane + mr - 1) / mr * mr * inChannels
    }

    /// Runs the convolution; `workspace` holds ``workspaceFloats(_:)`` floats.
    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let plane = s.outputPlane
        let packed = UnsafeMutableRawPointer(workspace).alignedUp(toMultipleOf: 64).assumingMemoryBound(to: Float.self)
        let product = packed + packedPlaneFloats(s)
        let panels = (plane + mr - 1) / mr
        // Threads split the pixels (whole MR panels): each packs, multiplies and stores its own
        // rows with no hand-off. Each needs enough work to pay for waking it.
        let work = 2 * Double(plane) * Double(inChannels) * Double(outChannels)
        let parts = max(1, min(threads, panels, minimumWorkPerThread > 0 ? Int(work / minimumWorkPerThread) : threads))
        bias.withOptionalPointer { biasPointer in
            for image in 0..<s.batch {
                let job = Job(conv: self, plane: plane, packed: packed, product: product,
                              x: x + image * inChannels * plane, y: y + image * outChannels * plane,
                              residual: residual.map { $0 + image * outChannels * plane }, bias: biasPointer)
                if parts == 1 {
                    job.run(panels: 0..<panels)
                } else {
                    ThreadPool.parallelFor(parts, threads: parts) { part in
                        job.run(panels: (part * panels / parts)..<((part + 1) * panels / parts))
                    }
                }
            }
        }
    }

    /// One image's pointers, shared read-only by the threads.
    private struct Job: @unchecked Sendable {
        let conv: PixelMajorConv
        let plane: Int
        let packed: UnsafeMutablePointer<Float>
        let product: UnsafeMutablePointer<Float>
        let x: UnsafePointer<Float>
        let y: UnsafeMutablePointer<Float>
        let residual: UnsafePointer<Float>?
        let bias: UnsafePointer<Float>?

        /// Pixels of the MR-row panels `panels`: pack, multiply, store.
        func run(panels: Range<Int>) {
            let mr = conv.mr, cin = conv.inChannels, cout = conv.outChannels
            let r0 = panels.lowerBound * mr, rows = min(panels.upperBound * mr, plane) - r0
            guard rows > 0 else { return }
            let isa = conv.weights.isa.cValue
            let a = packed + r0 * cin, c = product + r0 * cout
            convrt_sgemm_pack_a_transposed(isa, rows, cin, x + r0, plane, a)
            var plan = convrt_sgemm_plan()
            guard convrt_sgemm_plan_make(isa, rows, cout, cin, 1, &plan) == 0 else {
                preconditionFailure("PixelMajorConv: \(conv.weights.isa) unsupported on this CPU")
            }
            var none = SGEMMEpilogue().cValue
            _ = convrt_sgemm_compute_packed_b(&plan, a, conv.weights.baseAddress, c, cout, &none, 0, plan.units)
            var store = SGEMMEpilogue(bias: bias, residual: residual.map { $0 + r0 }, residualStride: plane,
                                      activation: conv.activation).cValue
            convrt_transpose_store(c, cout, rows, cout, y + r0, plane, &store)
        }
    }
}
