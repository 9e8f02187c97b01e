/// How an implicit-GEMM convolution cuts its work: each image-group's output pixels (the
/// im2col matrix's columns) into blocks, and K into the SGEMM's K blocks, so that one
/// `kc x width` slab of im2col rows stays in L2 while the SGEMM consumes it; and, when there
/// are too few blocks to keep every thread busy, each block's output channels into row parts.
///
/// Nothing here changes the arithmetic (K blocks are the SGEMM's own, summed in order by one
/// thread, and an output element's sum runs the same instructions in any block or part), so
/// results are identical for any cut.
struct ColumnBlocking: Equatable {
    /// im2col rows: input channels per group x kernel volume.
    let k: Int
    /// The SGEMM's K block length (the last block may be shorter) and block count.
    let kc: Int, kBlocks: Int
    /// Output pixels per image-group (columns).
    let columns: Int
    /// Blocks per image-group.
    let blocks: Int
    /// Image-groups (batch x groups).
    let imageGroups: Int
    /// Row stride of a slab: the widest block, rounded to an odd number of NR panels so a
    /// micro-panel's rows spread over every L1 set instead of a few.
    let slabStride: Int
    /// Parts each block's rows (output channels) are split into; > 1 only when `shared`.
    let rowParts: Int
    /// Too few panels to share out by blocks: the blocks' whole (all K) slabs are gathered
    /// first, threads sharing the K blocks, then threads share each slab's output rows. Otherwise a thread takes a block
    /// and, K block by K block, gathers its rows into the thread's slab and multiplies them.
    let shared: Bool
    /// Floats of one slab: `kc` rows, or all K rows when `shared`, of `slabStride`.
    let slabFloats: Int
    /// Slabs the workspace holds at once.
    let slabCount: Int
    private let panels: Int, panelWidth: Int

    /// Work items: every (image-group, block).
    var items: Int { imageGroups * blocks }

    /// im2col slab budget in floats (~192 KiB: room in a 512 KiB-1 MiB L2 for the packed
    /// weights' K block and the output tile).
    static let slabBudget = 48 * 1024
    /// The most floats shared slabs may take together (past it, threads take whole blocks).
    static let sharedLimit = 4 << 20

    /// - Parameters:
    ///   - tile: the micro-kernel's (MR, NR).
    ///   - kc: the SGEMM's K block length for this K.
    init(_ s: ConvShape3D, threads: Int, tile: (rows: Int, columns: Int), kc: Int, budget: Int = slabBudget) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        k = cinG * s.kernelVolume
        self.kc = max(1, min(kc, k))
        kBlocks = max(1, (k + self.kc - 1) / self.kc)
        columns = s.outputPlane
        imageGroups = s.batch * s.groups
        panelWidth = tile.columns
        panels = max(1, (columns + panelWidth - 1) / panelWidth)
        var perBlock = max(1, min(panels, budget / max(self.kc * panelWidth, 1)))
        if perBlock > 1, perBlock % 2 == 0 { perBlock -= 1 }
        var blocks = (panels + perBlock - 1) / perBlock
        // Whole rounds of items per thread, when that takes no more than the panels there are.
        while threads > 1, (imageGroups * blocks) % threads != 0, imageGroups * blocks < 8 * threads, blocks < panels {
            blocks += 1
        }
        self.blocks = blocks
        let widest = (panels + blocks - 1) / blocks
        slabStride = (widest % 2 == 0 ? widest + 1 : widest) * panelWidth
        let rowPanels = (coutG + tile.rows - 1) / tile.rows
        let items = imageGroups * blocks
        // Threads taking whole blocks leave some idle when the panels do not share out well
        // (3 panels on 2 threads: 75% busy; 49 columns = 3 panels + 1 column on 2 threads:
        // 77%, the ragged panel counted by its width); then they share output rows instead.
        let allPanels = imageGroups * panels, perThread = (allPanels + threads - 1) / threads
        let ragged = columns % panelWidth == 0 ? 0 : Double(panelWidth - columns % panelWidth) / Double(panelWidth)
        let busy = (Double(allPanels) - Double(imageGroups) * ragged) / Double(max(threads * perThread, 1))
        shared = threads > 1 && items > 0 && busy < 0.85 && rowPanels >= 2 && items * k * slabStride <= Self.sharedLimit
        rowParts = shared ? min(rowPanels, (4 * threads + items - 1) / items) : 1
        slabFloats = (shared ? k : self.kc) * slabStride
        slabCount = shared ? items : threads
    }

    /// The first column of block `b` and its width: panels are dealt out evenly, so widths
    /// differ by at most one panel, and only the last block has a ragged panel.
    func block(_ b: Int) -> (start: Int, count: Int) {
        let first = b * panels / blocks, end = (b + 1) * panels / blocks
        let start = first * panelWidth
        return (start, min(columns, end * panelWidth) - start)
    }

    /// The im2col rows of K block `kb`.
    func rows(ofKBlock kb: Int) -> Range<Int> { min(k, kb * kc)..<min(k, (kb + 1) * kc) }
}
