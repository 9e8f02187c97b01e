import CKernels

/// Depthwise convolutions (one input channel per group, any channel multiplier) and grouped
/// convolutions with few channels per group, run directly by the vector kernels of
/// `convrt_direct.h`: each item (image, group, band of output rows) copies the rows it reads
/// into a zero-padded scratch band, then accumulates tiles of up to 4 output channels x a
/// row of vectors over every (input channel, tap). No im2col; 1-D, 2-D and 3-D alike.
///
/// Depthwise 1-D/2-D convs with one output channel per group run instead, where the planes
/// are small, the flat-plane kernel (`convrt_dwflat_*`: stride 1, "same" output; vectors along
/// the flattened plane) or the channel-blocked kernel (`convrt_dwcb_*`: vectors across
/// channels), so a 7x7 plane fills every lane (see `Kernel.preferred`).
///
/// Bias, ReLU/clamp/LeakyReLU and the residual are applied in the kernel's store; other
/// activations run right after each item, while its output is still in cache.
struct DepthwiseConv: @unchecked Sendable {
    /// Which of the three C kernels runs.
    enum Kernel: Equatable, Sendable {
        /// Tiles of up to 4 channels x a row of vectors over zero-padded row bands: any geometry.
        case rowBands
        /// Vectors across `width` channels, the planes transposed in and out.
        case channelBlocks(width: Int)
        /// Vectors along the flattened plane: stride-1 "same" convs.
        case flatPlane

        /// The kernel for a depthwise conv with one output channel per group, measured on AVX2
        /// (MobileNetV2's 3x3 layers with ReLU6, one thread): where it applies, the flat plane
        /// beats the channel blocks up to 28 wide (960x7x7 0.067 vs 0.103 ms, 192x28x28 0.14 vs
        /// 0.21 ms) but loses to the row bands from 56 (144x56x56 0.63 vs 0.52 ms, 32x112x112 0.60
        /// vs 0.44 ms); the channel blocks beat the row bands up to 28 wide (2-3x at 7x7 and
        /// 14x14) and are about level at 56.
        static func preferred(_ s: ConvShape3D, flatPlaneApplies: Bool, blockWidth: Int) -> Kernel {
            if flatPlaneApplies && s.output.w <= 32 { return .flatPlane }
            if blockWidth > 0 && s.output.w <= 32 { return .channelBlocks(width: blockWidth) }
            return .rowBands
        }

        /// This kernel where it can run (the channel blocks at the ISA's `blockWidth`), else the row bands.
        func usable(flatPlaneApplies: Bool, blockWidth: Int) -> Kernel {
            switch self {
            case .flatPlane: return flatPlaneApplies ? .flatPlane : .rowBands
            case .channelBlocks: return blockWidth > 0 ? .channelBlocks(width: blockWidth) : .rowBands
            case .rowBands: return .rowBands
            }
        }
    }

    /// Weights in the kernel's order (tiles, channel blocks, or PyTorch's for the flat plane),
    /// packed once when the plan is made.
    let packedWeights: [Float]
    let kernel: Kernel
    let bias: [Float]?
    let groups: Int, inPerGroup: Int, outPerGroup: Int, taps: Int
    /// The part of the epilogue the kernel applies.
    let pre: convrt_dwconv_activation, post: convrt_dwconv_activation, kernelAddsResidual: Bool
    /// The part left to Swift: `post(pre(y) + residual)` over each item's output.
    let trailing: (pre: Activation?, residual: Bool, post: Activation?)?
    let isa: SGEMM.ISA
    let threads: Int

    /// Whether the direct kernels should run this conv: every depthwise conv (one input channel
    /// per group, any multiplier) and grouped convs with narrow groups. Measured on AVX2 (56x56,
    /// 3x3, one thread), the direct kernel beat im2col + SGEMM at every group width up to 32 in /
    /// 32 out (4x at 4/4, 2x at 16/16, about level at 64/64); dense convs (one group) stay with
    /// SGEMM, whose tiles they fill.
    static func prefers(_ a: ConvAttributes) -> Bool {
        guard !a.transposed, let cin = a.inChannels, a.groups >= 1 else { return false }
        let inPerGroup = cin / a.groups, outPerGroup = a.outChannels / a.groups
        guard inPerGroup >= 1, outPerGroup >= 1 else { return false }
        return inPerGroup == 1 || (a.groups > 1 && inPerGroup * outPerGroup <= 256)
    }

    /// `shape` (the step's, when known) picks the kernel for depthwise 1-D/2-D convs with one
    /// output channel per group (`Kernel.preferred`); `kernel` forces a choice (tests), and
    /// falls back to the row bands where the forced kernel does not apply.
    init(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int, isa: SGEMM.ISA = .best,
         shape: ConvShape3D? = nil, kernel forced: Kernel? = nil) {
        let groups = max(a.groups, 1), outPerGroup = a.outChannels / groups, taps = a.kernelSize.reduce(1, *)
        let inPerGroup = weight.count / max(a.outChannels * taps, 1)
        (self.groups, self.outPerGroup, self.taps, self.inPerGroup) = (groups, outPerGroup, taps, inPerGroup)
        let width = convrt_dwcb_width(isa.cValue)
        let eligible = inPerGroup == 1 && outPerGroup == 1 && a.kernelSize.count <= 2
        let flatApplies = eligible && shape.map { Self.flatPlanePlan($0, groups: groups, isa: isa) != nil } ?? false
        let wanted = forced ?? shape.map { Kernel.preferred($0, flatPlaneApplies: flatApplies, blockWidth: width) } ?? .rowBands
        kernel = eligible ? wanted.usable(flatPlaneApplies: flatApplies, blockWidth: width) : .rowBands
        packedWeights = Self.pack(weight, groups: groups, inPerGroup: inPerGroup, outPerGroup: outPerGroup, taps: taps,
                                  kernel: kernel)
        self.bias = bias?.data
        let none = Self.kernelActivation(nil)!
        if let p = e.preActivation, Self.kernelActivation(p) == nil {
            (pre, post, kernelAddsResidual) = (none, none, false)
            trailing = (p, e.residualInput != nil, e.postActivation)
        } else if let q = e.postActivation, Self.kernelActivation(q) == nil {
            (pre, post, kernelAddsResidual) = (Self.kernelActivation(e.preActivation)!, none, e.residualInput != nil)
            trailing = (nil, false, q)
        } else {
            pre = Self.kernelActivation(e.preActivation)!
            post = Self.kernelActivation(e.postActivation)!
            kernelAddsResidual = e.residualInput != nil
            trailing = nil
        }
        self.isa = isa
        let k = [Int](repeating: 1, count: max(0, 3 - a.kernelSize.count)) + a.kernelSize
        let last = a.kernelSize.count - 1
        if inPerGroup == 1, k.count == 3, k[0] == 1, k[1] == k[2], [3, 5, 7].contains(k[2]), last >= 0,
           a.stride[last] <= 2, a.dilation[last] == 1 {
            squareKernel = (k[2], a.stride[last])
        } else {
            squareKernel = nil
        }
        self.threads = max(threads, 1)
    }

    private static func pack(_ weight: Tensor, groups: Int, inPerGroup: Int, outPerGroup: Int, taps: Int,
                             kernel: Kernel) -> [Float] {
        if kernel == .flatPlane { return weight.data }
        var count = weight.count
        if case .channelBlocks(let width) = kernel { count = (groups + width - 1) / width * width * taps }
        var packed = [Float](repeating: 0, count: count)
        weight.data.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { p in
                guard let w = w.baseAddress, let p = p.baseAddress else { return }
                if case .channelBlocks(let width) = kernel {
                    convrt_dwcb_pack_weights(width, groups, taps, w, p)
                } else {
                    convrt_dwconv_pack_weights(groups, inPerGroup, outPerGroup, taps, w, p)
                }
            }
        }
        return packed
    }

    /// The kernel's form of an activation (none for nil), or nil when it has none.
    static func kernelActivation(_ a: Activation?) -> convrt_dwconv_activation? {
        func make(_ kind: convrt_activation, lo: Float = 0, hi: Float = 0, slope: Float = 0) -> convrt_dwconv_activation {
            convrt_dwconv_activation(kind: Int32(kind.rawValue), lo: lo, hi: hi, slope: slope)
        }
        switch a {
        case nil: return make(CONVRT_ACT_NONE)
        case .relu?: return make(CONVRT_ACT_RELU)
        case .relu6?: return make(CONVRT_ACT_CLAMP, lo: 0, hi: 6)
        case .hardtanh(let lo, let hi)?: return make(CONVRT_ACT_CLAMP, lo: lo, hi: hi)
        case .leakyReLU(let slope)?: return make(CONVRT_ACT_LEAKY_RELU, slope: slope)
        default: return nil
        }
    }

    /// The kernel's name for `convrt inspect`: `dwconv3x3s1_avx2` for the compiled-geometry
    /// depthwise kernels (2-D K x K, K = 3, 5, 7, stride_w 1 or 2, dilation_w 1), else
    /// `dwconv_avx2` (tiles of up to 4 channels x a row of vectors, any geometry).
    var kernelName: String {
        let name = String(cString: convrt_dwconv_kernel_name(isa.cValue))
        switch kernel {
        case .channelBlocks: return name.replacingOccurrences(of: "dwconv_", with: "dwconv_cb_")
        case .flatPlane: return name.replacingOccurrences(of: "dwconv_", with: "dwconv_flat_")
        case .rowBands: break
        }
        guard let square = squareKernel, let suffix = name.split(separator: "_").last else { return name }
        return "dwconv\(square.k)x\(square.k)s\(square.stride)_\(suffix)"
    }
    /// Kernel size and stride of the compiled-geometry kernel this conv runs, if any (the
    /// same test as the C driver's `square_kernel`).
    let squareKernel: (k: Int, stride: Int)?

    /// How the row-band kernels cut up this shape; nil only for an empty problem.
    func plan(_ s: ConvShape3D) -> convrt_dwconv_plan? {
        var shape = cShape(s)
        var plan = convrt_dwconv_plan()
        return convrt_dwconv_plan_make(isa.cValue, &shape, threads, &plan) == 0 ? plan : nil
    }

    /// The channel-blocked kernel's plan; nil for an empty problem.
    func channelBlockPlan(_ s: ConvShape3D) -> convrt_dwcb_plan? {
        var shape = cShape(s)
        var plan = convrt_dwcb_plan()
        return convrt_dwcb_plan_make(isa.cValue, &shape, &plan) == 0 ? plan : nil
    }

    /// The flat-plane kernel's plan; nil where it does not apply.
    func flatPlanePlan(_ s: ConvShape3D) -> convrt_dwflat_plan? {
        Self.flatPlanePlan(s, groups: groups, isa: isa)
    }

    private static func flatPlanePlan(_ s: ConvShape3D, groups: Int, isa: SGEMM.ISA) -> convrt_dwflat_plan? {
        var shape = cShape(s, groups: groups, inPerGroup: 1, outPerGroup: 1)
        var plan = convrt_dwflat_plan()
        return convrt_dwflat_plan_make(isa.cValue, &shape, &plan) == 0 ? plan : nil
    }

    private func cShape(_ s: ConvShape3D) -> convrt_dwconv_shape {
        Self.cShape(s, groups: groups, inPerGroup: inPerGroup, outPerGroup: outPerGroup)
    }

    private static func cShape(_ s: ConvShape3D, groups: Int, inPerGroup: Int, outPerGroup: Int) -> convrt_dwconv_shape {
        var shape = convrt_dwconv_shape()
        (shape.batch, shape.groups, shape.cin_g, shape.cout_g) = (s.batch, groups, inPerGroup, outPerGroup)
        shape.in = (s.image.d, s.image.h, s.image.w)
        shape.out = (s.output.d, s.output.h, s.output.w)
        shape.kernel = (s.kernel.d, s.kernel.h, s.kernel.w)
        shape.stride = (s.stride.d, s.stride.h, s.stride.w)
        shape.dilation = (s.dilation.d, s.dilation.h, s.dilation.w)
        shape.pad = (s.padding.d, s.padding.h, s.padding.w)
        return shape
    }

    /// Scratch floats `run` needs: one band per thread.
    func scratchFloats(_ s: ConvShape3D) -> Int {
        switch kernel {
        case .channelBlocks: return channelBlockPlan(s).map { $0.scratch_floats * min(threads, $0.items) } ?? 0
        case .flatPlane: return flatPlanePlan(s).map { $0.scratch_floats * min(threads, $0.items) } ?? 0
        case .rowBands: return plan(s).map { $0.scratch_floats * min(threads, $0.items) } ?? 0
        }
    }

    /// `y = epilogue(conv(x))`; `scratch` holds `scratchFloats(s)` floats.
    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        switch kernel {
        case .channelBlocks(let width):
            runChannelBlocks(s, width: width, x: x, residual: residual, y: y, scratch: scratch)
            return
        case .flatPlane:
            runFlatPlane(s, x: x, residual: residual, y: y, scratch: scratch)
            return
        case .rowBands: break
        }
        // Empty problems never reach a kernel (the executor skips empty outputs).
        guard let plan = plan(s) else { return }
        withUnsafePointer(to: plan) { p in
            forEachItem(plan.items, scratchFloats: plan.scratch_floats, scratch: scratch, residual: residual,
                        prepare: { convrt_dwconv_prepare(p, $0) }) { item, w, e, mine in
                convrt_dwconv_run(p, w, x, y, e, item, item + 1, mine)
                if let trailing {
                    var offset = 0, length = 0
                    convrt_dwconv_item_output(p, item, &offset, &length)
                    finish(trailing, offset: offset, channels: outPerGroup, length: length,
                           plane: s.output.d * s.output.h * s.output.w, residual: residual, y: y)
                }
            }
        }
    }

    /// The channel-blocked kernel: items are (image, block of channels).
    private func runChannelBlocks(_ s: ConvShape3D, width: Int, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                                  y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        guard let plan = channelBlockPlan(s) else { return }
        runChannelRuns(plan, items: plan.items, blocks: plan.blocks, perItem: width, plane: s.output.h * s.output.w,
                       scratchFloats: plan.scratch_floats, scratch: scratch, residual: residual, y: y,
                       prepare: convrt_dwcb_prepare) { p, item, w, e, mine in
            convrt_dwcb_run(p, w, x, y, e, item, item + 1, mine)
        }
    }

    /// The flat-plane kernel: items are (image, run of whole channels).
    private func runFlatPlane(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                              y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        guard let plan = flatPlanePlan(s) else { return }
        runChannelRuns(plan, items: plan.items, blocks: plan.blocks, perItem: plan.channels_per_item, plane: plan.plane,
                       scratchFloats: plan.scratch_floats, scratch: scratch, residual: residual, y: y,
                       prepare: convrt_dwflat_prepare) { p, item, w, e, mine in
            convrt_dwflat_run(p, w, x, y, e, item, item + 1, mine)
        }
    }

    /// A kernel whose items are (image, run of `perItem` whole channels), item = image * blocks + run:
    /// each item through `run`, then the epilogue's remainder over its channels.
    private func runChannelRuns<Plan>(
        _ plan: Plan, items: Int, blocks: Int, perItem: Int, plane: Int, scratchFloats: Int,
        scratch: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        prepare: (UnsafePointer<Plan>, UnsafeMutablePointer<Float>) -> Void,
        run: (_ plan: UnsafePointer<Plan>, _ item: Int, _ weights: UnsafePointer<Float>,
              _ epilogue: UnsafePointer<convrt_dwconv_epilogue>, _ scratch: UnsafeMutablePointer<Float>) -> Int32
    ) {
        withUnsafePointer(to: plan) { p in
            forEachItem(items, scratchFloats: scratchFloats, scratch: scratch, residual: residual,
                        prepare: { prepare(p, $0) }) { item, w, e, mine in
                _ = run(p, item, w, e, mine)
                guard let trailing else { return }
                let first = item % blocks * perItem
                finish(trailing, offset: (item / blocks * groups + first) * plane, channels: min(perItem, groups - first),
                       length: plane, plane: plane, residual: residual, y: y)
            }
        }
    }

    /// Runs `items` on the pool, claimed dynamically, with the packed weights and the kernel's
    /// epilogue. Each worker prepares its slice of `scratch` (`scratchFloats` floats) on its
    /// first item, so a worker that starts late simply takes fewer.
    private func forEachItem(_ items: Int, scratchFloats: Int, scratch: UnsafeMutablePointer<Float>,
                             residual: UnsafePointer<Float>?, prepare: (UnsafeMutablePointer<Float>) -> Void,
                             run: (_ item: Int, _ weights: UnsafePointer<Float>,
                                   _ epilogue: UnsafePointer<convrt_dwconv_epilogue>, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        let workers = min(threads, items)
        var prepared = [Bool](repeating: false, count: workers)
        packedWeights.withUnsafeBufferPointer { w in
            bias.withOptionalPointer { b in
                let e = convrt_dwconv_epilogue(bias: b, residual: kernelAddsResidual ? residual : nil, pre: pre, post: post)
                withUnsafePointer(to: e) { e in
                    prepared.withUnsafeMutableBufferPointer { prepared in
                        ThreadPool.parallelFor(items, threads: workers) { item, worker in
                            let mine = scratch + worker * scratchFloats
                            if !prepared[worker] {
                                prepare(mine)
                                prepared[worker] = true
                            }
                            run(item, w.baseAddress!, e, mine)
                        }
                    }
                }
            }
        }
    }

    /// Applies the epilogue's remainder to what an item wrote: `length` floats from `offset`
    /// on, in each of `channels` consecutive planes of `plane` floats.
    private func finish(_ t: (pre: Activation?, residual: Bool, post: Activation?), offset: Int, channels: Int,
                        length: Int, plane: Int, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        for channel in 0..<channels {
            let at = offset + channel * plane
            let out = y + at, r = t.residual ? residual.map { $0 + at } : nil
            for i in 0..<length {
                var v = out[i]
                if let p = t.pre { v = p.apply(v) }
                if let r { v += r[i] }
                if let q = t.post { v = q.apply(v) }
                out[i] = v
            }
        }
    }
}
