import CKernels

/// One run of a blocked implicit-GEMM convolution: per (image, group, column block), the
/// block's `K x width` im2col slab is gathered (C, `convrt_im2col_block`) into a cache-sized
/// buffer and multiplied by the packed weights into the output columns it covers, the SGEMM
/// store applying bias, residual and activation. The whole im2col matrix never exists.
///
/// Threads take whole items (a thread gathers into its own slab, then multiplies it), or,
/// with too few items to share (``ColumnBlocking/shared``), all slabs are gathered first and
/// threads then share each slab's output rows. Either way no thread splits K, so the bits do
/// not depend on the thread count.
struct ImplicitGEMM {
    let conv: GEMMConv
    let shape: ConvShape3D
    let blocking: ColumnBlocking
    let x: UnsafePointer<Float>
    let output: GEMMConvOutput
    /// `blocking.slabCount` slabs, 64-byte aligned.
    let slabs: UnsafeMutablePointer<Float>
    private let geometry: convrt_conv_geometry

    init(conv: GEMMConv, shape s: ConvShape3D, blocking: ColumnBlocking, x: UnsafePointer<Float>,
         output: GEMMConvOutput, slabs: UnsafeMutablePointer<Float>) {
        (self.conv, shape, self.blocking, self.x, self.output, self.slabs) = (conv, s, blocking, x, output, slabs)
        geometry = convrt_conv_geometry(
            channels: s.inChannels / s.groups, in_d: s.image.d, in_h: s.image.h, in_w: s.image.w,
            out_d: s.output.d, out_h: s.output.h, out_w: s.output.w,
            k_d: s.kernel.d, k_h: s.kernel.h, k_w: s.kernel.w,
            stride_d: s.stride.d, stride_h: s.stride.h, stride_w: s.stride.w,
            dilation_d: s.dilation.d, dilation_h: s.dilation.h, dilation_w: s.dilation.w,
            pad_d: s.padding.d, pad_h: s.padding.h, pad_w: s.padding.w)
    }

    func run() {
        let b = blocking, threads = conv.threads
        guard b.shared else {
            ThreadPool.parallelFor(b.items, threads: threads) { item, worker in
                gather(item, into: slab(worker))
                multiply(item, slab: slab(worker), part: 0)
                applyTrailing(item)
            }
            return
        }
        ThreadPool.parallelFor(b.items, threads: threads) { item, _ in gather(item, into: slab(item)) }
        ThreadPool.parallelFor(b.items * b.rowParts, threads: threads) { item, _ in
            multiply(item / b.rowParts, slab: slab(item / b.rowParts), part: item % b.rowParts)
        }
        if conv.trailing != nil { ThreadPool.parallelFor(b.items, threads: threads) { applyTrailing($0) } }
    }

    private func slab(_ index: Int) -> UnsafeMutablePointer<Float> { slabs + index * blocking.slabFloats }

    /// Item `item`'s group, its first output element (channel 0 of the group, column 0) and
    /// its block's columns.
    private func locate(_ item: Int) -> (group: Int, image: Int, offset: Int, start: Int, count: Int) {
        let (imageGroup, block) = item.quotientAndRemainder(dividingBy: blocking.blocks)
        let (image, group) = imageGroup.quotientAndRemainder(dividingBy: shape.groups)
        let coutG = shape.outChannels / shape.groups
        let (start, count) = blocking.block(block)
        return (group, image, (image * shape.outChannels + group * coutG) * shape.outputPlane, start, count)
    }

    private func gather(_ item: Int, into slab: UnsafeMutablePointer<Float>) {
        let at = locate(item), cinG = shape.inChannels / shape.groups
        let xGroup = x + (at.image * shape.inChannels + at.group * cinG) * shape.imagePlane
        withUnsafePointer(to: geometry) { g in
            convrt_im2col_block(g, xGroup, at.start, at.count, slab, blocking.slabStride)
        }
    }

    /// Part `part` of `blocking.rowParts` of the product of item `item`'s slab.
    private func multiply(_ item: Int, slab: UnsafeMutablePointer<Float>, part: Int) {
        let at = locate(item), weights = conv.groupWeights[at.group]
        var plan = convrt_sgemm_plan()
        guard convrt_sgemm_plan_make(weights.isa.cValue, weights.rows, at.count, weights.columns,
                                     blocking.rowParts, &plan) == 0 else {
            preconditionFailure("GEMMConv: \(weights.isa) unsupported on this CPU")
        }
        var begin = 0, end = 0
        convrt_sgemm_plan_partition(&plan, part, blocking.rowParts, &begin, &end)
        var epilogue = conv.epilogue(output, group: at.group, offset: at.offset + at.start, ldr: shape.outputPlane).cValue
        let failed = convrt_sgemm_compute(&plan, weights.baseAddress, slab, blocking.slabStride,
                                          output.y + at.offset + at.start, shape.outputPlane, &epilogue, begin, end)
        // Only a ragged last panel is packed, into a small per-thread buffer: failing is out of memory.
        if failed != 0 { fatalError("GEMMConv: out of memory for the B packing buffer") }
    }

    /// The activation the SGEMM store cannot apply, on item `item`'s output block.
    private func applyTrailing(_ item: Int) {
        guard let trailing = conv.trailing else { return }
        let at = locate(item)
        for row in 0..<conv.groupWeights[at.group].rows {
            let p = output.y + at.offset + row * shape.outputPlane + at.start
            DirectElementwise.activation(trailing, p, count: at.count, out: p)
        }
    }
}
