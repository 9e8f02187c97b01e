import CKernels

/// A 3x3, stride-1, dilation-1 2-D convolution by Winograd F(4x4, 3x3) (Lavin & Gray 2015):
/// each 4x4 output tile is `A^T [U ⊙ V] A` with `V = B^T d B` (the 6x6 input patch) and
/// `U = G g G^T` (the 3x3 kernel), so the channel sums become 36 SGEMMs
/// `[Cout x Cin] x [Cin x tiles]`: 2.25 multiplies per output and channel pair instead of 9.
///
/// The weights are transformed in `Double` and packed once, when the plan is made. Tiles are
/// cut into blocks whose transformed input and products stay in cache; threads take whole
/// blocks, and every tile's result is computed the same way in any block, so the bits do not
/// depend on the thread count. Bias, a residual and activations are applied as each output
/// tile is stored (an activation the store has no vector form for runs as a second pass).
///
/// Tolerance: the transforms scale values by up to 10 (`B`) and 19 (`A`) per dimension before
/// cancelling them again, so rounding errors exceed a direct sum's. Against the `Double`
/// reference, ``tolerance(inChannels:)`` bounds the max abs error by
/// `5e-6 * sqrt(Cin / groups) * max(1, max |expected|)`. Measured: unit-range inputs with
/// Kaiming-uniform weights (PyTorch's default init) give max abs errors of 1.8e-6, 4.3e-6,
/// 7.2e-6 and 7.1e-6 for Cin 16, 64, 256 and 512 (outputs up to ~1.4), 14x inside PyTorch
/// parity's 1e-4 at Cin 512; the test grids (uniform weights, Cin 1-33) peak at a third of
/// the bound.
struct WinogradConv: @unchecked Sendable {
    /// The 36 packed `[Cout/g x Cin/g]` matrices of each group, index `g * 36 + position`.
    let positions: [PackedMatrixA]
    let bias: [Float]?
    let pre: convrt_winograd_activation
    let post: convrt_winograd_activation
    /// An activation with no store form, applied to the whole output afterwards.
    let trailing: Activation?
    let blocking: Blocking
    /// The transforms' instruction set (`.portable` forces the plain C path in tests).
    let transformISA: SGEMM.ISA?

    /// Max abs error allowed against the `Double` reference, relative to
    /// `max(1, max |expected|)`: `5e-6 * sqrt(Cin / groups)`.
    static func tolerance(inChannels: Int) -> Float {
        5e-6 * Float(max(inChannels, 1)).squareRoot()
    }

    /// Whether the geometry is one Winograd computes: 2-D, 3x3, stride 1, dilation 1.
    static func applies(_ a: ConvAttributes) -> Bool {
        !a.transposed && a.spatialRank == 2 && a.kernelSize == [3, 3] && a.stride == [1, 1]
            && a.dilation == [1, 1]
    }

    /// Whether it beats im2col + SGEMM (measured on AVX2, single thread, im2col excluded):
    /// - channels: the transforms cost `Cin + Cout` per tile, the products `Cin * Cout`; 16->16
    ///   and 8->8 lose, 32->32, 16->64 and 64->16 win (1.2-1.6x at 14x14 to 28x28);
    /// - tiles: the 36 SGEMMs need columns; a lone 8x8 image (4 tiles) loses 3x, while 8 of
    ///   them (32 tiles, blocks span images) win 1.8x;
    /// - ragged edges: tiles past the output are computed and thrown away; allow 60% extra.
    static func isProfitable(_ s: ConvShape3D) -> Bool {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        let tilesY = ceilDiv(s.output.h, 4), tilesX = ceilDiv(s.output.w, 4)
        let covered = Double(16 * tilesY * tilesX), needed = Double(s.output.h * s.output.w)
        return cinG >= 16 && coutG >= 16 && cinG + coutG >= 64
            && s.batch * tilesY * tilesX >= 16 && covered <= 1.6 * needed
    }

    /// - Parameters:
    ///   - blockTiles: forces the tiles per block (tests); by default it is fitted to the caches.
    ///   - transformISA: forces the transforms' path (tests); by default the best one.
    init?(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, shape s: ConvShape3D,
          threads: Int, blockTiles: Int? = nil, transformISA: SGEMM.ISA? = nil) {
        guard s.inChannels / s.groups > 0, s.outChannels / s.groups > 0,
              let (pre, post, trailing) = Self.split(e) else { return nil }
        (self.pre, self.post, self.trailing) = (pre, post, trailing)
        self.bias = bias?.data
        self.transformISA = transformISA
        positions = WinogradWeights.transform(weight, groups: s.groups)
        blocking = Blocking(s, threads: threads, blockTiles: blockTiles)
    }

    /// The kernel's two activations and a trailing one, or `nil` when unsupported.
    static func split(_ e: Epilogue) -> (convrt_winograd_activation, convrt_winograd_activation, Activation?)? {
        let none = convrt_winograd_activation()
        func mapped(_ a: Activation?) -> convrt_winograd_activation? {
            guard let a else { return none }
            return GEMMConv.storeActivation(for: a).map(Self.cActivation)
        }
        if e.residualInput == nil && e.postActivation == nil {
            if let pre = mapped(e.preActivation) { return (pre, none, nil) }
            return (none, none, e.preActivation)
        }
        guard let pre = mapped(e.preActivation) else { return nil }
        if let post = mapped(e.postActivation) { return (pre, post, nil) }
        return (pre, none, e.postActivation)
    }

    static func cActivation(_ a: SGEMMEpilogue.Activation) -> convrt_winograd_activation {
        var c = convrt_winograd_activation()
        switch a {
        case .none: c.kind = Int32(CONVRT_ACT_NONE.rawValue)
        case .relu: c.kind = Int32(CONVRT_ACT_RELU.rawValue)
        case let .clamp(lo, hi): (c.kind, c.lo, c.hi) = (Int32(CONVRT_ACT_CLAMP.rawValue), lo, hi)
        case let .leakyReLU(slope): (c.kind, c.slope) = (Int32(CONVRT_ACT_LEAKY_RELU.rawValue), slope)
        }
        return c
    }

    /// Workspace floats for `run`: one block's V and M per thread, plus room to align.
    var workspaceFloats: Int { blocking.workers * blocking.perWorkerFloats + 16 }

    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let b = blocking
        let aligned = UnsafeMutablePointer<Float>(
            bitPattern: (UInt(bitPattern: workspace) + 63) & ~UInt(63))!
        let pointers = positions.map { Optional($0.baseAddress) }
        pointers.withUnsafeBufferPointer { u in
            bias.withOptionalPointer { biasPointer in
                var config = b.config
                config.u = u.baseAddress
                config.bias = biasPointer
                config.gemm_isa = Int32(bitPattern: positions.first?.isa.cValue.rawValue ?? 0)
                config.transform_isa = Int32(bitPattern: transformISA?.cValue.rawValue ?? 0)
                config.pre = pre
                config.post = post
                let job = BlockJob(config: config, x: x, residual: residual, y: y, workspace: aligned)
                ThreadPool.parallelFor(b.workers, threads: b.workers) { worker in
                    for block in stride(from: worker, to: b.blocks, by: b.workers) {
                        job.run(block: block, blocking: b, worker: worker)
                    }
                }
            }
        }
        if let trailing {
            DirectElementwise.activation(trailing, y, count: s.batch * s.outChannels * s.outputPlane, out: y)
        }
    }
}

/// One run's arguments, shared read-only by the worker threads.
private struct BlockJob: @unchecked Sendable {
    var config: convrt_winograd_f43
    let x: UnsafePointer<Float>
    let residual: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let workspace: UnsafeMutablePointer<Float>

    func run(block: Int, blocking b: WinogradConv.Blocking, worker: Int) {
        var config = self.config
        let failed = convrt_winograd_f43_block(&config, x, residual, y, block * b.blockTiles, b.blockTiles,
                                               workspace + worker * b.perWorkerFloats)
        // The only failure left at run time is the SGEMM's packing buffer (a few hundred KB).
        if failed != 0 { fatalError("Winograd: out of memory for the SGEMM packing buffer") }
    }
}
