/// Planned linear / bilinear / trilinear resizing, same taps as `ReferenceKernels.resize`.
///
/// Each output row blends up to four input rows (two depths x two heights, zero weights
/// skipped); along the row every column blends two input columns from a precomputed table.
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
        let width = taps[2]
        let i0 = width.map(\.i0), i1 = width.map(\.i1)
        let w0 = width.map { Float($0.w0) }, w1 = width.map { Float($0.w1) }
        let inPlane = inSize.reduce(1, *)
        let rowsPerPlane = outSize[0] * outSize[1]
        let ow = outSize[2]
        SpatialLayerKernel.forEachRowChunk(inShape[0] * inShape[1] * rowsPerPlane, threads: threads) { chunk in
            i0.withUnsafeBufferPointer { i0 in
                i1.withUnsafeBufferPointer { i1 in
                    w0.withUnsafeBufferPointer { w0 in
                        w1.withUnsafeBufferPointer { w1 in
                            for row in chunk {
                                let (plane, rest) = row.quotientAndRemainder(dividingBy: rowsPerPlane)
                                let (od, oh) = rest.quotientAndRemainder(dividingBy: outSize[1])
                                let (td, th) = (taps[0][od], taps[1][oh])
                                let dst = out + row * ow
                                dst.update(repeating: 0, count: ow)
                                for (id, wd) in [(td.i0, td.w0), (td.i1, td.w1)] where wd != 0 {
                                    for (ih, wh) in [(th.i0, th.w0), (th.i1, th.w1)] where wh != 0 {
                                        let src = x + plane * inPlane + (id * inSize[1] + ih) * inSize[2]
                                        blend(src, weight: Float(wd * wh), i0, i1, w0, w1, into: dst, count: ow)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `dst[c] += weight * (w0[c] * src[i0[c]] + w1[c] * src[i1[c]])`.
    @inline(__always)
    private static func blend(_ src: UnsafePointer<Float>, weight: Float, _ i0: UnsafeBufferPointer<Int>,
                              _ i1: UnsafeBufferPointer<Int>, _ w0: UnsafeBufferPointer<Float>,
                              _ w1: UnsafeBufferPointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        for c in 0..<count {
            dst[c] += weight * (w0[c] * src[i0[c]] + w1[c] * src[i1[c]])
        }
    }
}
