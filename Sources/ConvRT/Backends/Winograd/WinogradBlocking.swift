import CKernels

extension WinogradConv {
    /// How the batch's 4x4 output tiles are cut into blocks and blocks shared by threads.
    ///
    /// Tiles are numbered row-major image by image, and a block is a run of them (so small
    /// images share blocks). A block's transformed input `[Cin][36][tiles]` and products
    /// `[Cout][36][tiles]` should stay near the core (L2, else L3) while it runs, yet hold
    /// enough tiles for the SGEMM's 16-column panels. Worker `w` runs blocks `w, w + workers,
    /// ...`, so the block size is picked to even out the workers' loads.
    struct Blocking {
        var tilesX: Int, tiles: Int
        var blockTiles: Int, blocks: Int
        var workers: Int
        /// Workspace floats one worker uses, rounded to whole cache lines.
        var perWorkerFloats: Int
        /// The geometry part of the C kernel's arguments (pointers filled in per run).
        var config: convrt_winograd_f43

        init(_ s: ConvShape3D, threads: Int, blockTiles forced: Int? = nil) {
            tilesX = ceilDiv(s.output.w, 4)
            tiles = tilesX * ceilDiv(s.output.h, 4)
            let largest = Self.largestBlock(inChannels: s.inChannels, outChannels: s.outChannels)
            let all = s.batch * tiles
            blockTiles = forced.map { max(1, $0) }
                ?? Self.bestBlock(tiles: all, largest: largest, panel: SGEMM.ISA.best.tile.columns, threads: threads)
            blocks = ceilDiv(all, blockTiles)
            workers = max(1, min(threads, blocks))
            config = convrt_winograd_f43()
            config.batch = s.batch
            config.in_channels = s.inChannels
            config.out_channels = s.outChannels
            config.groups = s.groups
            (config.in_h, config.in_w) = (s.image.h, s.image.w)
            (config.out_h, config.out_w) = (s.output.h, s.output.w)
            (config.pad_top, config.pad_left) = (s.padding.h, s.padding.w)
            (config.tiles_x, config.tiles) = (tilesX, tiles)
            config.max_block = blockTiles
            perWorkerFloats = (convrt_winograd_f43_workspace(&config) + 15) / 16 * 16
        }

        /// Most tiles per block: V and M of one block within ~1.5 MB (L2 plus a share of L3),
        /// but at least 64 tiles, since every block streams all of U (`36 * Cin * Cout` floats):
        /// at 256 and 512 channels blocks of 64 beat 16 by 7% and 18% (measured), and 128 ones
        /// fall out of L3. At most 128.
        static func largestBlock(inChannels: Int, outChannels: Int) -> Int {
            let bytesPerTile = 36 * 4 * max(inChannels + outChannels, 1)
            return min(128, max(64, 1_536 * 1024 / bytesPerTile / 16 * 16))
        }

        /// The block size, a multiple of 8 tiles up to `largest`, whose busiest worker has the
        /// least work; a block costs its tiles rounded up to whole SGEMM panels (`panel`
        /// columns) plus a fixed 8 for streaming U and the calls. Ties go to the larger block.
        static func bestBlock(tiles: Int, largest: Int, panel: Int, threads: Int) -> Int {
            let panel = max(panel, 1)
            let top = max(8, min(largest, (tiles + 7) / 8 * 8))  // 8 also when there are no tiles
            var best = top, bestCost = Int.max
            for size in stride(from: top, through: 8, by: -8) {
                let blocks = ceilDiv(tiles, size)
                let workers = max(1, min(threads, blocks))
                var load = [Int](repeating: 0, count: workers)
                for block in 0..<blocks {
                    let count = min(size, tiles - block * size)
                    load[block % workers] += (count + panel - 1) / panel * panel + 8
                }
                let cost = load.max() ?? 0
                if cost < bestCost { (best, bestCost) = (size, cost) }
            }
            return best
        }
    }
}
