extension ReferenceKernels {
    /// MaxPool / AvgPool over the last `a.spatialRank` dims; every leading index is an independent
    /// plane (so batched, unbatched and PyTorch's odd ranks all run the same loops).
    ///
    /// - Max: NaN wins (ATen's `val > max || isnan(val)`); taps in the padding are skipped.
    /// - Average (ATen's `cpu_avg_pool`): the window `[o*s - pb, min(o*s - pb + k, in + pe))` is
    ///   clipped to the input; the divisor is `divisorOverride`, else the unclipped window size with
    ///   `countIncludePad`, else the clipped one. A window entirely in the padding gives 0.
    static func pool(_ x: Tensor, _ a: PoolAttributes, outputShape: [Int]) -> Tensor {
        let n = a.spatialRank
        let inSize = lift3(Array(x.shape.suffix(n)), fill: 1), outSize = lift3(Array(outputShape.suffix(n)), fill: 1)
        let axes = (0..<3).map { i in
            PoolAxis(inSize: inSize[i], kernel: lift3(a.kernelSize, fill: 1)[i], stride: lift3(a.stride, fill: 1)[i],
                     dilation: lift3(a.dilation, fill: 1)[i], padBegin: lift3(a.padBegin, fill: 0)[i],
                     padEnd: lift3(a.padEnd, fill: 0)[i])
        }
        let planeSize = inSize.reduce(1, *)
        let planes = x.shape.dropLast(n).reduce(1, *)
        return makeTensor(outputShape) { out in
            x.data.withUnsafeBufferPointer { src in
                var o = 0
                for plane in 0..<planes {
                    let base = plane * planeSize
                    for od in 0..<outSize[0] {
                        for oh in 0..<outSize[1] {
                            for ow in 0..<outSize[2] {
                                let position = [od, oh, ow]
                                out[o] = a.kind == .max
                                    ? maxWindow(src, base: base, axes: axes, position: position)
                                    : averageWindow(src, base: base, axes: axes, position: position, a)
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// One spatial dim of a pooling window, lifted to 3-D like the other reference kernels.
    struct PoolAxis {
        var inSize, kernel, stride, dilation, padBegin, padEnd: Int

        /// The in-bounds input indices of the window at output index `o` (max pooling, dilated).
        func taps(_ o: Int) -> [Int] {
            let first = o * stride - padBegin
            // Only the j with 0 <= first + j*dilation < inSize (a huge kernel costs nothing extra).
            let lo = first >= 0 ? 0 : (-first + dilation - 1) / dilation
            let hi = first >= inSize ? 0 : min(kernel, (inSize - 1 - first) / dilation + 1)
            return lo < hi ? (lo..<hi).map { first + $0 * dilation } : []
        }

        /// The average-pooling window at `o`: its clipped range and its size counting the padding.
        func averageWindow(_ o: Int) -> (range: Range<Int>, paddedCount: Int) {
            let start = o * stride - padBegin
            let end = min(start + kernel, inSize + padEnd)
            let clipped = max(start, 0)..<max(max(start, 0), min(end, inSize))
            return (clipped, end - start)
        }
    }

    private static func maxWindow(_ src: UnsafeBufferPointer<Float>, base: Int, axes: [PoolAxis], position: [Int]) -> Float {
        var best = -Float.infinity
        let (td, th, tw) = (axes[0].taps(position[0]), axes[1].taps(position[1]), axes[2].taps(position[2]))
        for id in td {
            for ih in th {
                for iw in tw {
                    let v = src[base + (id * axes[1].inSize + ih) * axes[2].inSize + iw]
                    if v > best || v.isNaN { best = v }
                }
            }
        }
        return best
    }

    private static func averageWindow(_ src: UnsafeBufferPointer<Float>, base: Int, axes: [PoolAxis], position: [Int],
                                      _ a: PoolAttributes) -> Float {
        let windows = (0..<3).map { axes[$0].averageWindow(position[$0]) }
        guard windows.allSatisfy({ !$0.range.isEmpty }) else { return 0 }
        var sum = 0.0
        for id in windows[0].range {
            for ih in windows[1].range {
                for iw in windows[2].range {
                    sum += Double(src[base + (id * axes[1].inSize + ih) * axes[2].inSize + iw])
                }
            }
        }
        let divisor = a.divisorOverride
            ?? (a.countIncludePad ? windows.reduce(1) { $0 * $1.paddedCount } : windows.reduce(1) { $0 * $1.range.count })
        return Float(sum / Double(divisor))
    }

    /// AdaptiveAvgPool / AdaptiveMaxPool over the last `a.spatialRank` dims (`outputShape` has
    /// every size resolved). Cell `o` of a dim covers `[floor(o*in/out), ceil((o+1)*in/out))`.
    /// Average divides by the cell's size (an empty input gives NaN, like `mean` of nothing);
    /// max lets NaN win.
    static func adaptivePool(_ x: Tensor, _ a: AdaptivePoolAttributes, outputShape: [Int]) -> Tensor {
        let n = a.spatialRank
        let inSize = lift3(Array(x.shape.suffix(n)), fill: 1), outSize = lift3(Array(outputShape.suffix(n)), fill: 1)
        let cells = (0..<3).map { i in
            (0..<outSize[i]).map { AdaptivePoolShapeFunction.window($0, inSize: inSize[i], outSize: outSize[i]) }
        }
        let planeSize = inSize.reduce(1, *)
        let planes = outputShape.dropLast(n).reduce(1, *)
        return makeTensor(outputShape) { out in
            x.data.withUnsafeBufferPointer { src in
                var o = 0
                for plane in 0..<planes {
                    for rd in cells[0] {
                        for rh in cells[1] {
                            for rw in cells[2] {
                                var sum = 0.0, best = -Float.infinity
                                for id in rd {
                                    for ih in rh {
                                        for iw in rw {
                                            let v = src[plane * planeSize + (id * inSize[1] + ih) * inSize[2] + iw]
                                            sum += Double(v)
                                            if v > best || v.isNaN { best = v }
                                        }
                                    }
                                }
                                let count = rd.count * rh.count * rw.count
                                out[o] = a.kind == .max ? best : Float(sum / Double(count))
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
