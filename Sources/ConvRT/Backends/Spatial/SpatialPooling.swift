/// Planned MaxPool/AvgPool and adaptive pooling on raw buffers, same semantics as
/// `ReferenceKernels.pool` / `adaptivePool` (float accumulation instead of Double).
///
/// Pooling runs one output row at a time and uses that row as its accumulator: for every
/// in-bounds (depth, height) tap it sweeps each width tap over the output columns whose
/// window holds it, so the inner loop is a straight strided pass without bounds checks.
enum SpatialPooling {
    /// In-bounds taps of one dim, lifted to 3-D: the output position `o` reads input
    /// `o * stride - padBegin + j * dilation` for the `j` that land inside `0..<size`.
    private struct Axis {
        var size, kernel, stride, dilation, padBegin, padEnd: Int

        func taps(_ o: Int) -> StrideTo<Int> {
            let first = o * stride - padBegin
            // Smallest j with first + j*d >= 0, and one past the largest with first + j*d < size.
            let lo = first >= 0 ? 0 : (-first + dilation - 1) / dilation
            let hi = min(kernel, first >= size ? 0 : (size - 1 - first) / dilation + 1)
            return Swift.stride(from: first + lo * dilation, to: first + max(hi, lo) * dilation, by: dilation)
        }

        /// Average pooling's divisor factor along this dim (0 when the window misses the input).
        func averageFactor(_ o: Int, countIncludePad: Bool) -> Int {
            let start = o * stride - padBegin
            let end = min(start + kernel, size + padEnd)
            let clipped = min(end, size) - max(start, 0)
            guard clipped > 0 else { return 0 }
            return countIncludePad ? end - start : clipped
        }
    }

    private static func lift(_ v: [Int], _ fill: Int) -> [Int] { [Int](repeating: fill, count: 3 - v.count) + v }

    static func pool(_ a: PoolAttributes, _ x: UnsafePointer<Float>, inShape: [Int], out: UnsafeMutablePointer<Float>,
                     outShape: [Int], threads: Int) {
        let n = a.spatialRank
        let inSize = lift(Array(inShape.suffix(n)), 1), outSize = lift(Array(outShape.suffix(n)), 1)
        let (k, s, d) = (lift(a.kernelSize, 1), lift(a.stride, 1), lift(a.dilation, 1))
        let (pb, pe) = (lift(a.padBegin, 0), lift(a.padEnd, 0))
        let axes = (0..<3).map { Axis(size: inSize[$0], kernel: k[$0], stride: s[$0], dilation: d[$0], padBegin: pb[$0], padEnd: pe[$0]) }
        // Width taps: tap j covers output columns lo..<hi, reading input column ow*sW + offset.
        let widthTaps: [(lo: Int, hi: Int, offset: Int)] = (0..<k[2]).compactMap { j in
            let offset = j * d[2] - pb[2]
            let lo = max(0, ConvGeometry.floorDiv(-offset + s[2] - 1, s[2]))
            let hi = min(outSize[2], ConvGeometry.floorDiv(inSize[2] - 1 - offset, s[2]) + 1)
            return hi > lo ? (lo, hi, offset) : nil
        }
        let isMax = a.kind == .max
        let widthFactors = (0..<outSize[2]).map { axes[2].averageFactor($0, countIncludePad: a.countIncludePad) }
        let inPlane = inSize.reduce(1, *)
        let rowsPerPlane = outSize[0] * outSize[1]
        let rows = inShape.dropLast(n).reduce(1, *) * rowsPerPlane
        let ow = outSize[2], sw = s[2], iw = inSize[2]
        SpatialLayerKernel.forEachRowChunk(rows, threads: threads) { chunk in
            for row in chunk {
                let (plane, rest) = row.quotientAndRemainder(dividingBy: rowsPerPlane)
                let (od, oh) = rest.quotientAndRemainder(dividingBy: outSize[1])
                let acc = out + row * ow
                acc.update(repeating: isMax ? -.infinity : 0, count: ow)
                for id in axes[0].taps(od) {
                    for ih in axes[1].taps(oh) {
                        let src = x + plane * inPlane + (id * inSize[1] + ih) * iw
                        for t in widthTaps {
                            if isMax {
                                maxSweep(src + t.offset, stride: sw, acc, t.lo, t.hi)
                            } else {
                                sumSweep(src + t.offset, stride: sw, acc, t.lo, t.hi)
                            }
                        }
                    }
                }
                if !isMax {
                    let outer = axes[0].averageFactor(od, countIncludePad: a.countIncludePad)
                        * axes[1].averageFactor(oh, countIncludePad: a.countIncludePad)
                    for c in 0..<ow {
                        let factor = outer * widthFactors[c]
                        acc[c] = factor == 0 ? 0 : acc[c] / Float(a.divisorOverride ?? factor)
                    }
                }
            }
        }
    }

    /// `acc[c] = max(acc[c], src[c * stride])` for `c` in `lo..<hi`; NaN wins.
    @inline(__always)
    private static func maxSweep(_ src: UnsafePointer<Float>, stride: Int, _ acc: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        if stride == 1 {
            for c in lo..<hi {
                let v = src[c], m = acc[c]
                acc[c] = v > m || v != v ? v : m
            }
        } else {
            for c in lo..<hi {
                let v = src[c * stride], m = acc[c]
                acc[c] = v > m || v != v ? v : m
            }
        }
    }

    @inline(__always)
    private static func sumSweep(_ src: UnsafePointer<Float>, stride: Int, _ acc: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        if stride == 1 {
            for c in lo..<hi { acc[c] += src[c] }
        } else {
            for c in lo..<hi { acc[c] += src[c * stride] }
        }
    }

    /// Adaptive pooling; an all-ones output (global pooling) reduces each plane in one pass.
    static func adaptive(_ a: AdaptivePoolAttributes, _ x: UnsafePointer<Float>, inShape: [Int],
                         out: UnsafeMutablePointer<Float>, outShape: [Int], threads: Int) {
        let n = a.spatialRank
        let inSize = lift(Array(inShape.suffix(n)), 1), outSize = lift(Array(outShape.suffix(n)), 1)
        let inPlane = inSize.reduce(1, *)
        let planes = outShape.dropLast(n).reduce(1, *)
        let isMax = a.kind == .max
        if outSize.allSatisfy({ $0 == 1 }) {
            SpatialLayerKernel.forEachRowChunk(planes, threads: threads) { chunk in
                for p in chunk { out[p] = reduce(x + p * inPlane, count: inPlane, isMax: isMax) }
            }
            return
        }
        let cells = (0..<3).map { i in
            (0..<outSize[i]).map { AdaptivePoolShapeFunction.window($0, inSize: inSize[i], outSize: outSize[i]) }
        }
        let rowsPerPlane = outSize[0] * outSize[1]
        SpatialLayerKernel.forEachRowChunk(planes * rowsPerPlane, threads: threads) { chunk in
            for row in chunk {
                let (plane, rest) = row.quotientAndRemainder(dividingBy: rowsPerPlane)
                let (od, oh) = rest.quotientAndRemainder(dividingBy: outSize[1])
                let (rd, rh) = (cells[0][od], cells[1][oh])
                for (c, rw) in cells[2].enumerated() {
                    var sum: Float = 0, best = -Float.infinity
                    for id in rd {
                        for ih in rh {
                            let src = x + plane * inPlane + (id * inSize[1] + ih) * inSize[2]
                            for iw in rw {
                                let v = src[iw]
                                sum += v
                                if v > best || v != v { best = v }
                            }
                        }
                    }
                    out[row * outSize[2] + c] = isMax ? best : sum / Float(rd.count * rh.count * rw.count)
                }
            }
        }
    }

    /// The mean (NaN when empty) or NaN-propagating max of `count` contiguous values.
    private static func reduce(_ p: UnsafePointer<Float>, count: Int, isMax: Bool) -> Float {
        if isMax {
            var best = -Float.infinity
            for i in 0..<count {
                let v = p[i]
                best = v > best || v != v ? v : best
            }
            return best
        }
        // Four partial sums let the compiler vectorise without reassociating one chain.
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= count {
            s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]
            i += 4
        }
        while i < count { s0 += p[i]; i += 1 }
        return ((s0 + s1) + (s2 + s3)) / Float(count)
    }
}
