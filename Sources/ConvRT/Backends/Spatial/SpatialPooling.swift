import CKernels

/// Planned MaxPool/AvgPool and adaptive pooling on raw buffers, same semantics as
/// `ReferenceKernels.pool` / `adaptivePool` (float accumulation instead of Double).
///
/// Pooling is separable and runs one output row at a time: the in-bounds input rows of the
/// (depth, height) window are reduced elementwise, then the window slides along that row
/// (`convrt_pool_rows`, `convrt_pool_window` in CKernels: contiguous, vectorised loops).
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

    /// `isa` picks the CKernels path (tests compare them); `nil` is the best this CPU runs.
    static func pool(_ a: PoolAttributes, _ x: UnsafePointer<Float>, inShape: [Int], out: UnsafeMutablePointer<Float>,
                     outShape: [Int], threads: Int, isa path: SGEMM.ISA? = nil) {
        let isa = path?.cValue ?? CONVRT_ISA_AUTO
        let n = a.spatialRank
        let inSize = lift(Array(inShape.suffix(n)), 1), outSize = lift(Array(outShape.suffix(n)), 1)
        let (k, s, d) = (lift(a.kernelSize, 1), lift(a.stride, 1), lift(a.dilation, 1))
        let (pb, pe) = (lift(a.padBegin, 0), lift(a.padEnd, 0))
        let axes = (0..<3).map { Axis(size: inSize[$0], kernel: k[$0], stride: s[$0], dilation: d[$0], padBegin: pb[$0], padEnd: pe[$0]) }
        let isMax = a.kind == .max
        let op = Int32(isMax ? CONVRT_POOL_MAX.rawValue : CONVRT_POOL_SUM.rawValue)
        let widthFactors = (0..<outSize[2]).map { axes[2].averageFactor($0, countIncludePad: a.countIncludePad) }
        let inPlane = inSize.reduce(1, *)
        let rowsPerPlane = outSize[0] * outSize[1]
        let rows = inShape.dropLast(n).reduce(1, *) * rowsPerPlane
        let (ow, iw) = (outSize[2], inSize[2])
        // At most this many input rows are in bounds for one window.
        let maxRows = max(1, min(k[0], inSize[0]) * min(k[1], inSize[1]))
        // One reduced input row, then the stride-1 window row that stride s subsamples.
        let scratchCount = iw + (ow - 1) * s[2] + 1
        SpatialLayerKernel.forEachRowChunk(rows, threads: threads) { chunk in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: maxRows) { rowPointers in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                    let line = scratch.baseAddress!, windows = line + iw
                    for row in chunk {
                        let (plane, rest) = row.quotientAndRemainder(dividingBy: rowsPerPlane)
                        let (od, oh) = rest.quotientAndRemainder(dividingBy: outSize[1])
                        let dst = out + row * ow
                        var count = 0
                        for id in axes[0].taps(od) {
                            for ih in axes[1].taps(oh) {
                                rowPointers[count] = UnsafePointer(x + plane * inPlane + (id * inSize[1] + ih) * iw)
                                count += 1
                            }
                        }
                        if count == 0 {
                            dst.update(repeating: isMax ? -.infinity : 0, count: ow)
                        } else {
                            var source = rowPointers[0]!
                            if count > 1 {
                                convrt_pool_rows(isa, op, rowPointers.baseAddress, count, iw, line)
                                source = UnsafePointer(line)
                            }
                            convrt_pool_window(isa, op, source, iw, dst, ow, k[2], s[2], pb[2], d[2], windows)
                        }
                        if !isMax {
                            divide(dst, count: ow, outer: axes[0].averageFactor(od, countIncludePad: a.countIncludePad)
                                       * axes[1].averageFactor(oh, countIncludePad: a.countIncludePad),
                                   widthFactors: widthFactors, divisorOverride: a.divisorOverride)
                        }
                    }
                }
            }
        }
    }

    /// Average pooling's division: by `divisorOverride`, else the window size (a window missing
    /// the input gives 0).
    private static func divide(_ row: UnsafeMutablePointer<Float>, count: Int, outer: Int, widthFactors: [Int],
                               divisorOverride: Int?) {
        for c in 0..<count {
            let factor = outer * widthFactors[c]
            row[c] = factor == 0 ? 0 : row[c] / Float(divisorOverride ?? factor)
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
