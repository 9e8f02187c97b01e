/// How an implicit-GEMM convolution cuts its work: each image-group's output pixels (the
/// im2col matrix's columns) into blocks whose `K x width` im2col slab stays in L2 while the
/// SGEMM consumes it, and, when there are too few blocks to keep every thread busy, each
/// block's output channels into row parts.
///
/// Nothing here changes the arithmetic (K is never split, and an output element's sum runs
/// the same instructions in any block or part), so results are identical for any cut.
struct ColumnBlocking: Equatable {
    /// im2col rows: input channels per group x kernel volume.
    let k: Int
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
    /// Few blocks: all slabs are gathered first (in parallel), then threads share each slab's
    /// rows; otherwise a thread gathers a block into its own slab and multiplies it at once.
    let shared: Bool
    private let panels: Int, panelWidth: Int

    /// Floats of one slab (K rows x `slabStride`).
    var slabFloats: Int { k * slabStride }
    /// Slabs the workspace holds at once.
    let slabCount: Int
    /// Work items of the (first) parallel loop: every (image-group, block).
    var items: Int { imageGroups * blocks }

    /// im2col slab budget in floats (~192 KiB: room in a 512 KiB-1 MiB L2 for the packed
    /// weights' K block and the output tile).
    static let slabBudget = 48 * 1024

    /// - Parameters:
    ///   - tile: the micro-kernel's (MR, NR).
    init(_ s: ConvShape3D, threads: Int, tile: (rows: Int, columns: Int), budget: Int = slabBudget) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        k = cinG * s.kernelVolume
        columns = s.outputPlane
        imageGroups = s.batch * s.groups
        panelWidth = tile.columns
        panels = max(1, (columns + panelWidth - 1) / panelWidth)
        var perBlock = max(1, min(panels, budget / max(k * panelWidth, 1)))
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
        shared = threads > 1 && imageGroups * blocks < 4 * threads && rowPanels >= 2
        rowParts = shared ? min(rowPanels, (4 * threads + imageGroups * blocks - 1) / (imageGroups * blocks)) : 1
        slabCount = shared ? max(threads, imageGroups * blocks) : threads
    }

    /// The first column of block `b` and its width: panels are dealt out evenly, so widths
    /// differ by at most one panel, and only the last block has a ragged panel.
    func block(_ b: Int) -> (start: Int, count: Int) {
        let first = b * panels / blocks, end = (b + 1) * panels / blocks
        let start = first * panelWidth
        return (start, min(columns, end * panelWidth) - start)
    }
}
