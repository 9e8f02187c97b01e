import CKernels

/// A transposed convolution as one SGEMM plus a col2im per image, group and band of output
/// channels: `columns [band*k x inPlane] = Wᵀ [band*k x Cin/g] (packed once) x X [Cin/g x inPlane]`
/// (the input read in place), then every output value gathers the column entries that land
/// on it (`convrt_col2im`, no scatter, no accumulator pass) and gets bias, residual and
/// activation in the same store. The SGEMM splits its tiles over threads, col2im its output
/// channels (or row blocks of their planes); each output value is summed in one fixed order,
/// so the bits do not depend on the thread count.
struct ConvTransposeGEMM: @unchecked Sendable {
    /// Per group and band of output channels, `Wᵀ`: row `co*k + tap`, column `ci` (the weight
    /// is `(Cin, Cout/g, *k)`). Bands bound the columns workspace and keep it cache-sized.
    let bands: [[PackedMatrixA]]
    /// Output channels per band (the last band may have fewer).
    let bandChannels: Int
    let bias: [Float]?
    /// The epilogue `convrt_col2im` applies; when an activation has no C form, col2im stores
    /// `acc + bias` only and `swiftEpilogue` runs the whole epilogue on the stored plane.
    let cEpilogue: (pre: convrt_col2im_activation, post: convrt_col2im_activation, residual: Bool)
    let swiftEpilogue: Epilogue?
    let threads: Int

    /// Rows of `Wᵀ` per band: enough for the SGEMM to run at speed (and to amortise packing
    /// the input once per band), few enough that the columns stay near the caches (measured
    /// on ct2d: 256-512 rows level with or ~3% faster than one band).
    static let bandRows = 512

    init(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int,
         bandRows: Int = ConvTransposeGEMM.bandRows) {
        let cin = weight.shape.first ?? 0
        let cinG = cin / max(a.groups, 1)
        let rows = cin == 0 ? 0 : weight.count / cin  // Cout/g * kernel volume
        let coutG = weight.shape.count > 1 ? weight.shape[1] : 0
        let kernelVolume = coutG == 0 ? 1 : rows / coutG
        let bandChannels = max(1, min(coutG, bandRows / max(kernelVolume, 1)))
        self.bandChannels = bandChannels
        bands = weight.data.withUnsafeBufferPointer { w in
            (0..<a.groups).map { g in
                stride(from: 0, to: coutG, by: bandChannels).map { first in
                    // Transpose the band's [Cin/g x channels*k] block into [channels*k x Cin/g].
                    let bandRows = (min(coutG, first + bandChannels) - first) * kernelVolume
                    var t = [Float](repeating: 0, count: bandRows * cinG)
                    for c in 0..<cinG {
                        let src = (g * cinG + c) * rows + first * kernelVolume
                        for r in 0..<bandRows { t[r * cinG + c] = w[src + r] }
                    }
                    return PackedMatrixA(rows: bandRows, columns: cinG, array: t)
                }
            }
        }
        self.bias = bias?.data
        // An activation with no C form sends the whole epilogue to Swift.
        func mapped(_ a: Activation?) -> convrt_col2im_activation? { a.map(Self.cActivation) ?? Self.none }
        if let pre = mapped(e.preActivation), let post = mapped(e.postActivation) {
            cEpilogue = (pre, post, e.residualInput != nil)
            swiftEpilogue = nil
        } else {
            cEpilogue = (Self.none, Self.none, false)
            swiftEpilogue = e
        }
        self.threads = threads
    }

    private static let none = convrt_col2im_activation(kind: Int32(CONVRT_ACT_NONE.rawValue), lo: 0, hi: 0, slope: 0)

    /// The C form of an activation, or nil when it has none.
    static func cActivation(_ a: Activation) -> convrt_col2im_activation? {
        func make(_ kind: convrt_activation, lo: Float = 0, hi: Float = 0, slope: Float = 0) -> convrt_col2im_activation {
            convrt_col2im_activation(kind: Int32(kind.rawValue), lo: lo, hi: hi, slope: slope)
        }
        switch a {
        case .relu: return make(CONVRT_ACT_RELU)
        case .relu6: return make(CONVRT_ACT_CLAMP, lo: 0, hi: 6)
        case .hardtanh(let lo, let hi): return make(CONVRT_ACT_CLAMP, lo: lo, hi: hi)
        case .leakyReLU(let slope): return make(CONVRT_ACT_LEAKY_RELU, slope: slope)
        default: return nil
        }
    }

    /// Row stride of the columns matrix: the input plane rounded up to 16 floats (64-byte
    /// rows), plus 16 when that is a multiple of 1024 (4 KiB strides alias in the L1).
    static func columnsStride(_ s: ConvShape3D) -> Int {
        let rounded = max(16, (s.imagePlane + 15) / 16 * 16)
        return rounded % 1024 == 0 ? rounded + 16 : rounded
    }

    /// Floats of workspace: the columns of one band.
    func workspaceFloats(_ s: ConvShape3D) -> Int {
        bandChannels * s.kernelVolume * Self.columnsStride(s)
    }

    /// The col2im window: the input is the grid, the output the image.
    static func window(_ s: ConvShape3D) -> convrt_window3d {
        convrt_window3d(grid: (s.image.d, s.image.h, s.image.w), image: (s.output.d, s.output.h, s.output.w),
                        kernel: (s.kernel.d, s.kernel.h, s.kernel.w), stride: (s.stride.d, s.stride.h, s.stride.w),
                        dilation: (s.dilation.d, s.dilation.h, s.dilation.w), pad: (s.padding.d, s.padding.h, s.padding.w))
    }

    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, columns: UnsafeMutablePointer<Float>) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        let ld = Self.columnsStride(s), kernelVolume = s.kernelVolume
        for image in 0..<s.batch {
            for g in 0..<s.groups {
                let xGroup = x + (image * s.inChannels + g * cinG) * s.imagePlane
                for (b, packed) in bands[g].enumerated() {
                    let first = b * bandChannels, channels = min(coutG - first, bandChannels)
                    if s.imagePlane > 0 {
                        SGEMM.multiply(packedA: packed, b: xGroup, ldb: s.imagePlane, c: columns, ldc: ld,
                                       m: channels * kernelVolume, n: s.imagePlane, k: cinG, threads: threads)
                    }
                    gather(s, columns: columns, ld: ld, firstPlane: image * s.outChannels + g * coutG + first,
                           channels: channels, firstBias: g * coutG + first, residual: residual, y: y)
                }
            }
        }
    }

    /// col2im of `channels` output planes starting at plane `firstPlane`, split over threads
    /// by whole planes, or by row blocks when there are too few planes to go round.
    private func gather(_ s: ConvShape3D, columns: UnsafeMutablePointer<Float>, ld: Int, firstPlane: Int,
                        channels: Int, firstBias: Int, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        var window = Self.window(s)
        let rows = s.output.d * s.output.h
        let blocksPerPlane = max(1, min(rows, (4 * threads + channels - 1) / max(channels, 1)))
        let rowsPerBlock = (rows + blocksPerPlane - 1) / blocksPerPlane
        let workspaceBytes = convrt_col2im_workspace_bytes(&window)
        let columnsOfChannel = s.kernelVolume * ld
        ThreadPool.parallelFor(channels * blocksPerPlane, threads: threads) { item in
            let (c, block) = item.quotientAndRemainder(dividingBy: blocksPerPlane)
            let plane = (firstPlane + c) * s.outputPlane
            let rowBegin = block * rowsPerBlock, rowEnd = min(rows, rowBegin + rowsPerBlock)
            guard rowBegin < rowEnd else { return }
            var e = convrt_col2im_epilogue(bias: bias?[firstBias + c] ?? 0, residual: nil,
                                           pre: cEpilogue.pre, post: cEpilogue.post)
            if cEpilogue.residual { e.residual = residual.map { $0 + plane } }
            var w = window
            withUnsafeTemporaryAllocation(byteCount: workspaceBytes, alignment: 64) { workspace in
                convrt_col2im(&w, columns + c * columnsOfChannel, ld, y + plane, rowBegin, rowEnd, &e, workspace.baseAddress!)
            }
            if let swiftEpilogue {
                let first = plane + rowBegin * s.output.w, count = (rowEnd - rowBegin) * s.output.w
                Self.applyEpilogue(swiftEpilogue, to: y + first, residual: residual.map { $0 + first }, count: count)
            }
        }
    }

    /// `y = post(pre(y) + residual)` in place, for activations the C store cannot apply.
    static func applyEpilogue(_ e: Epilogue, to y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, count: Int) {
        for i in 0..<count {
            var v = y[i]
            if let pre = e.preActivation { v = pre.apply(v) }
            if let residual { v += residual[i] }
            if let post = e.postActivation { v = post.apply(v) }
            y[i] = v
        }
    }
}
