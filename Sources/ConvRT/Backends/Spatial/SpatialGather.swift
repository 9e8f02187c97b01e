/// Planned padding and nearest resizing: both copy input elements chosen by one index map per
/// dim (`-1` = the fill value), so one row-wise gather serves them.
enum SpatialGather {
    /// Per output dim, the source index (or -1) of each output index: identity for the leading dims.
    static func padMaps(_ p: PadAttributes, inShape: [Int]) -> [[Int]] {
        let lead = inShape.count - p.begin.count
        return inShape.indices.map { d in
            guard d >= lead else { return Array(0..<inShape[d]) }
            let i = d - lead
            return (0..<max(inShape[d] + p.begin[i] + p.end[i], 0)).map {
                PadShapeFunction.sourceIndex($0, size: inShape[d], begin: p.begin[i], end: p.end[i], mode: p.mode)
            }
        }
    }

    static func nearestMaps(_ a: ResizeAttributes, inShape: [Int], outShape: [Int]) -> [[Int]] {
        inShape.indices.map { d in
            d < 2 ? Array(0..<inShape[d])
                  : ResizeGeometry.nearestIndices(a, dim: d - 2, inSize: inShape[d], outSize: outShape[d])
        }
    }

    /// `out[i0, ..., ik] = x[maps[0][i0], ..., maps[k][ik]]`, or `fill` where an entry is -1.
    /// Rows of the last dim are copied in runs where the map is contiguous, gathered otherwise.
    static func gather(_ x: UnsafePointer<Float>, inShape: [Int], maps: [[Int]], fill: Float,
                       out: UnsafeMutablePointer<Float>, threads: Int) {
        let rank = inShape.count
        guard rank > 0 else {
            out[0] = x[0]
            return
        }
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * inShape[d + 1] }
        let outShape = maps.map(\.count)
        let width = outShape[rank - 1]
        let runs = Run.split(maps[rank - 1])
        let contiguous = runs.count * 4 <= width
        let lastMap = maps[rank - 1]
        let rows = outShape.dropLast().reduce(1, *)
        SpatialLayerKernel.forEachRowChunk(rows, threads: threads) { chunk in
            lastMap.withUnsafeBufferPointer { lastMap in
                // Consecutive rows often read the same input row (nearest upsampling, replicate
                // padding): those copy the previous output row instead of gathering again.
                var previous: (offset: Int?, row: UnsafeMutablePointer<Float>)?
                for row in chunk {
                    let dst = out + row * width
                    let offset = sourceOffset(row: row, outShape: outShape, maps: maps, strides: strides)
                    if let previous, previous.offset == offset {
                        dst.update(from: previous.row, count: width)
                        continue
                    }
                    previous = (offset, dst)
                    guard let offset else {
                        dst.update(repeating: fill, count: width)
                        continue
                    }
                    let src = x + offset
                    if contiguous {
                        for run in runs {
                            if run.source < 0 {
                                (dst + run.start).update(repeating: fill, count: run.count)
                            } else {
                                (dst + run.start).update(from: src + run.source, count: run.count)
                            }
                        }
                    } else {
                        for c in 0..<width {
                            let s = lastMap[c]
                            dst[c] = s < 0 ? fill : src[s]
                        }
                    }
                }
            }
        }
    }

    /// The input offset of output row `row` (all dims but the last), or nil if it is all fill.
    private static func sourceOffset(row: Int, outShape: [Int], maps: [[Int]], strides: [Int]) -> Int? {
        var rest = row, offset = 0
        for d in stride(from: outShape.count - 2, through: 0, by: -1) {
            let (q, i) = rest.quotientAndRemainder(dividingBy: outShape[d])
            rest = q
            let s = maps[d][i]
            if s < 0 { return nil }
            offset += s * strides[d]
        }
        return offset
    }

    /// A stretch of output columns reading consecutive input columns from `source` (-1: fill).
    struct Run: Equatable {
        var start: Int
        var count: Int
        var source: Int

        static func split(_ map: [Int]) -> [Run] {
            var runs: [Run] = []
            for (c, s) in map.enumerated() {
                if var last = runs.last, last.start + last.count == c,
                   (s < 0 && last.source < 0) || (s >= 0 && last.source >= 0 && last.source + last.count == s) {
                    last.count += 1
                    runs[runs.count - 1] = last
                } else {
                    runs.append(Run(start: c, count: 1, source: s))
                }
            }
            return runs
        }
    }
}
