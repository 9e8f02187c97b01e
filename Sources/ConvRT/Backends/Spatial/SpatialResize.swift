/// Planned linear / bilinear / trilinear resizing, same taps as `ReferenceKernels.resize`.
///
/// Separable: each input row is first interpolated along the width (`h[c] = w0[c] * x[i0[c]]
/// + w1[c] * x[i1[c]]`), then an output row blends up to four such rows (two depths x two
/// heights, zero weights skipped). Neighbouring output rows share input rows, so the
/// width-interpolated rows are kept in a four-slot cache per thread.
enum SpatialResize {
    static func linear(_ a: ResizeAttributes, _ x: UnsafePointer<Float>, inShape: [Int], out: UnsafeMutablePointer<Float>,
                       outShape: [Int], threads: Int) {
        let n = inShape.count - 2
        let inSize = [Int](repeating: 1, count: 3 - n) + inShape.dropFirst(2)
        let outSize = [Int](repeating: 1, count: 3 - n) + outShape.dropFirst(2)
        let taps = (0..<3).map { i -> [LinearTap] in
            let d = i - (3 - n)
            guard d >= 0 else { return [LinearTap(i0: 0, i1: 0, w0: 1, w1: 0)] }
            return ResizeGeometry.linearTaps(a, dim: d, inSize: inSize[i], outSize: outSize[i])
        }
        let width = WidthTaps(taps[2])
        let rowsPerPlane = outSize[0] * outSize[1]
        let ow = outSize[2], iw = inSize[2]
        SpatialLayerKernel.forEachRowChunk(inShape[0] * inShape[1] * rowsPerPlane, threads: threads) { chunk in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * ow) { buffer in
                var cache = RowCache(base: buffer.baseAddress!, width: ow)
                // The (input row, weight) pairs of one output row; reused, so no allocation per row.
                var keys = [Int](repeating: 0, count: 4), weights = [Float](repeating: 0, count: 4)
                for row in chunk {
                    let (plane, rest) = row.quotientAndRemainder(dividingBy: rowsPerPlane)
                    let (od, oh) = rest.quotientAndRemainder(dividingBy: outSize[1])
                    let (td, th) = (taps[0][od], taps[1][oh])
                    var count = 0
                    for a in 0..<2 {
                        let (id, wd) = a == 0 ? (td.i0, td.w0) : (td.i1, td.w1)
                        guard wd != 0 else { continue }
                        for b in 0..<2 {
                            let (ih, wh) = b == 0 ? (th.i0, th.w0) : (th.i1, th.w1)
                            guard wh != 0 else { continue }
                            keys[count] = (plane * inSize[0] + id) * inSize[1] + ih
                            weights[count] = Float(wd * wh)
                            count += 1
                        }
                    }
                    let dst = out + row * ow
                    for r in 0..<count {
                        let h = cache.row(keys[r], protecting: keys[0..<count]) { width.interpolate(x + keys[r] * iw, into: $0) }
                        let w = weights[r]
                        if r == 0 {
                            for c in 0..<ow { dst[c] = w * h[c] }
                        } else {
                            for c in 0..<ow { dst[c] += w * h[c] }
                        }
                    }
                    if count == 0 { dst.update(repeating: 0, count: ow) }
                }
            }
        }
    }

    /// The width dim's taps as flat arrays.
    private struct WidthTaps {
        var i0: [Int], i1: [Int], w0: [Float], w1: [Float]

        init(_ taps: [LinearTap]) {
            i0 = taps.map(\.i0)
            i1 = taps.map(\.i1)
            w0 = taps.map { Float($0.w0) }
            w1 = taps.map { Float($0.w1) }
        }

        /// `h[c] = w0[c] * src[i0[c]] + w1[c] * src[i1[c]]` (a zero weight reads nothing).
        func interpolate(_ src: UnsafePointer<Float>, into h: UnsafeMutablePointer<Float>) {
            i0.withUnsafeBufferPointer { i0 in
                i1.withUnsafeBufferPointer { i1 in
                    w0.withUnsafeBufferPointer { w0 in
                        w1.withUnsafeBufferPointer { w1 in
                            for c in 0..<i0.count {
                                let b = w1[c]
                                h[c] = b == 0 ? w0[c] * src[i0[c]] : w0[c] * src[i0[c]] + b * src[i1[c]]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Four width-interpolated input rows, keyed by their input row index.
    private struct RowCache {
        let base: UnsafeMutablePointer<Float>
        let width: Int
        var keys = [Int](repeating: -1, count: 4)
        var next = 0

        init(base: UnsafeMutablePointer<Float>, width: Int) {
            self.base = base
            self.width = width
        }

        /// The width-interpolated row `key`, computed with `fill` into a slot holding none of
        /// `protecting` (the keys the current output row uses) when it is not cached.
        mutating func row(_ key: Int, protecting: ArraySlice<Int>, fill: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
            if let slot = keys.firstIndex(of: key) { return UnsafePointer(base + slot * width) }
            while protecting.contains(keys[next]) { next = (next + 1) % 4 }
            let slot = next
            next = (next + 1) % 4
            keys[slot] = key
            fill(base + slot * width)
            return UnsafePointer(base + slot * width)
        }
    }
}
