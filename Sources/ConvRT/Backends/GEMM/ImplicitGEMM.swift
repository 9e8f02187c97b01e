import CKernels

/// One run of a blocked implicit-GEMM convolution: per (image, group, column block), K block
/// by K block, the block's `kc x width` im2col rows are gathered (C, `convrt_im2col_block`)
/// into a cache-sized slab and multiplied by the packed weights' K block into the output
/// columns it covers; the SGEMM store of the last K block applies bias, residual and
/// activation. The whole im2col matrix never exists.
///
/// Threads take whole items (a thread gathers into its own slab, then multiplies it), or,
/// with too few items to share (``ColumnBlocking/shared``), the items' whole slabs are
/// gathered first (threads sharing the K blocks) and threads then share each slab's output
/// rows. Either way one thread sums each output's K blocks in order, so the bits do not
/// depend on the thread count.
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
                let slab = slab(worker)
                let plan = plan(item, parts: 1)
                for kb in 0..<b.kBlocks {
                    gather(item, rows: b.rows(ofKBlock: kb), into: slab)
                    multiply(item, plan: plan, slab: slab, units: 0..<plan.units, kBlock: kb)
                }
                applyTrailing(item)
            }
            return
        }
        ThreadPool.parallelFor(b.items * b.kBlocks, threads: threads) { i, _ in
            let (item, kb) = i.quotientAndRemainder(dividingBy: b.kBlocks)
            let rows = b.rows(ofKBlock: kb)
            gather(item, rows: rows, into: slab(item) + rows.lowerBound * b.slabStride)
        }
        ThreadPool.parallelFor(b.items * b.rowParts, threads: threads) { i, _ in
            let (item, part) = i.quotientAndRemainder(dividingBy: b.rowParts)
            var plan = plan(item, parts: b.rowParts)
            var begin = 0, end = 0
            convrt_sgemm_plan_partition(&plan, part, b.rowParts, &begin, &end)
            multiply(item, plan: plan, slab: slab(item), units: begin..<end, kBlock: nil)
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

    /// Gathers rows `rows` of item `item`'s im2col block into `slab` (row stride `slabStride`).
    private func gather(_ item: Int, rows: Range<Int>, into slab: UnsafeMutablePointer<Float>) {
        let at = locate(item), cinG = shape.inChannels / shape.groups
        let xGroup = x + (at.image * shape.inChannels + at.group * cinG) * shape.imagePlane
        withUnsafePointer(to: geometry) { g in
            convrt_im2col_block(g, xGroup, at.start, at.count, rows.lowerBound, rows.count, slab, blocking.slabStride)
        }
    }

    /// The SGEMM plan of item `item`'s product, its units cut for `parts` threads.
    private func plan(_ item: Int, parts: Int) -> convrt_sgemm_plan {
        let at = locate(item), weights = conv.groupWeights[at.group]
        var plan = convrt_sgemm_plan()
        guard convrt_sgemm_plan_make(weights.isa.cValue, weights.rows, at.count, weights.columns, parts, &plan) == 0 else {
            preconditionFailure("GEMMConv: \(weights.isa) unsupported on this CPU")
        }
        return plan
    }

    /// Units `units` of item `item`'s product: all K blocks from a whole slab (`kBlock` nil),
    /// or only K block `kBlock`, whose rows `slab` holds.
    private func multiply(_ item: Int, plan: convrt_sgemm_plan, slab: UnsafeMutablePointer<Float>,
                          units: Range<Int>, kBlock: Int?) {
        let at = locate(item), weights = conv.groupWeights[at.group]
        var plan = plan
        var epilogue = conv.epilogue(output, group: at.group, offset: at.offset + at.start, ldr: shape.outputPlane).cValue
        let c = output.y + at.offset + at.start, ldc = shape.outputPlane, ldb = blocking.slabStride
        let failed = if let kb = kBlock {
            convrt_sgemm_compute_kblock(&plan, weights.baseAddress, slab, ldb, c, ldc, &epilogue,
                                        units.lowerBound, units.upperBound, kb)
        } else {
            convrt_sgemm_compute(&plan, weights.baseAddress, slab, ldb, c, ldc, &epilogue, units.lowerBound, units.upperBound)
        }
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
