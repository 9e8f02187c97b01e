import CKernels

/// Depthwise convolutions (one input channel per group, any channel multiplier) and grouped
/// convolutions with few channels per group, run directly by the vector kernels of
/// `convrt_direct.h`: each item (image, group, band of output rows) copies the rows it reads
/// into a zero-padded scratch band, then accumulates tiles of up to 4 output channels x a
/// row of vectors over every (input channel, tap). No im2col; 1-D, 2-D and 3-D alike.
///
/// Bias, ReLU/clamp/LeakyReLU and the residual are applied in the kernel's store; other
/// activations run right after each item, while its output is still in cache.
struct DepthwiseConv: @unchecked Sendable {
    /// Weights in the kernel's tile order, packed once when the plan is made.
    let packedWeights: [Float]
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

    init(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int, isa: SGEMM.ISA = .best) {
        let groups = max(a.groups, 1), outPerGroup = a.outChannels / groups, taps = a.kernelSize.reduce(1, *)
        let inPerGroup = weight.count / max(a.outChannels * taps, 1)
        (self.groups, self.outPerGroup, self.taps, self.inPerGroup) = (groups, outPerGroup, taps, inPerGroup)
        var packed = [Float](repeating: 0, count: weight.count)
        weight.data.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { p in
                guard let w = w.baseAddress, let p = p.baseAddress else { return }
                convrt_dwconv_pack_weights(groups, inPerGroup, outPerGroup, taps, w, p)
            }
        }
        packedWeights = packed
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
        guard let square = squareKernel, let suffix = name.split(separator: "_").last else { return name }
        return "dwconv\(square.k)x\(square.k)s\(square.stride)_\(suffix)"
    }
    /// Kernel size and stride of the compiled-geometry kernel this conv runs, if any (the
    /// same test as the C driver's `square_kernel`).
    let squareKernel: (k: Int, stride: Int)?

    /// How the kernels cut up this shape; nil only for an empty problem.
    func plan(_ s: ConvShape3D) -> convrt_dwconv_plan? {
        var shape = convrt_dwconv_shape()
        (shape.batch, shape.groups, shape.cin_g, shape.cout_g) = (s.batch, groups, inPerGroup, outPerGroup)
        shape.in = (s.image.d, s.image.h, s.image.w)
        shape.out = (s.output.d, s.output.h, s.output.w)
        shape.kernel = (s.kernel.d, s.kernel.h, s.kernel.w)
        shape.stride = (s.stride.d, s.stride.h, s.stride.w)
        shape.dilation = (s.dilation.d, s.dilation.h, s.dilation.w)
        shape.pad = (s.padding.d, s.padding.h, s.padding.w)
        var plan = convrt_dwconv_plan()
        return convrt_dwconv_plan_make(isa.cValue, &shape, threads, &plan) == 0 ? plan : nil
    }

    /// Scratch floats `run` needs: one band per thread.
    func scratchFloats(_ s: ConvShape3D) -> Int {
        plan(s).map { $0.scratch_floats * min(threads, $0.items) } ?? 0
    }

    /// `y = epilogue(conv(x))`; `scratch` holds `scratchFloats(s)` floats.
    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        // Empty problems never reach a kernel (the executor skips empty outputs).
        guard let plan = plan(s) else { return }
        let items = plan.items, workers = min(threads, items)
        // Each worker prepares its scratch on its first item (items are claimed dynamically,
        // so a worker that starts late simply takes fewer).
        var prepared = [Bool](repeating: false, count: workers)
        packedWeights.withUnsafeBufferPointer { w in
            bias.withOptionalPointer { b in
                let e = convrt_dwconv_epilogue(bias: b, residual: kernelAddsResidual ? residual : nil, pre: pre, post: post)
                withUnsafePointer(to: plan) { p in
                    withUnsafePointer(to: e) { e in
                        prepared.withUnsafeMutableBufferPointer { prepared in
                            ThreadPool.parallelFor(items, threads: workers) { item, worker in
                                let mine = scratch + worker * plan.scratch_floats
                                if !prepared[worker] {
                                    convrt_dwconv_prepare(p, mine)
                                    prepared[worker] = true
                                }
                                convrt_dwconv_run(p, w.baseAddress!, x, y, e, item, item + 1, mine)
                                if let trailing { finish(trailing, plan: p, item: item, residual: residual, y: y) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Applies the epilogue's remainder to what `item` wrote.
    private func finish(_ t: (pre: Activation?, residual: Bool, post: Activation?), plan: UnsafePointer<convrt_dwconv_plan>,
                        item: Int, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        var offset = 0, length = 0
        convrt_dwconv_item_output(plan, item, &offset, &length)
        let outPlane = plan.pointee.s.out.0 * plan.pointee.s.out.1 * plan.pointee.s.out.2
        for channel in 0..<outPerGroup {
            let at = offset + channel * outPlane
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
