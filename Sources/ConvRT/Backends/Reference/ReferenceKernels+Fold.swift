extension ReferenceKernels {
    /// `nn.Unfold`: extracts sliding blocks, `(N, C, H, W) -> (N, C·kh·kw, L)`.
    ///
    /// Row `c·kh·kw + ki·kw + kj` holds channel `c` at kernel tap `(ki, kj)`; column `l` is the
    /// `l`-th block in row-major order, `L = bh·bw` with
    /// `b = floor((size + 2p - d(k-1) - 1) / s) + 1` per dim. Taps in the padding read 0.
    static func unfold(_ x: Tensor, window: SlidingWindow) -> Tensor {
        let imageSize = spatialShape(x)
        precondition(x.rank == 4, "unfold: expected (N, C, H, W), got \(x.shape)")
        let (batch, channels) = (x.shape[0], x.shape[1])
        let geometry = foldWindow(image: imageSize, window)
        let (taps, blocks) = (geometry.kernelCount, geometry.positionCount)
        return makeTensor([batch, channels * taps, blocks]) { y in
            x.data.withUnsafeBufferPointer { xs in
                for plane in 0..<(batch * channels) {
                    let xBase = plane * geometry.imageCount
                    // Rows c·taps ..< (c+1)·taps of batch n start at plane·taps·blocks.
                    let yBase = plane * taps * blocks
                    geometry.forEachPosition { l, bd, bh, bw in
                        geometry.forEachTap(bd, bh, bw) { tap, offset in
                            y[yBase + tap * blocks + l] = xs[xBase + offset]
                        }
                    }
                }
            }
        }
    }

    /// `nn.Fold`: sums sliding blocks back into an image, `(N, C·kh·kw, L) -> (N, C, *outputSize)`.
    ///
    /// The adjoint of `unfold`: every element of block column `l`, row `c·kh·kw + tap`, is added
    /// to the image position that `unfold` would have read it from (padding taps are dropped).
    /// Overlaps are summed in `Double` (blocks row-major, then taps), rounded to `Float` once.
    static func fold(_ x: Tensor, outputSize: [Int], window: SlidingWindow) -> Tensor {
        precondition(x.rank == 3, "fold: expected (N, C·kh·kw, L), got \(x.shape)")
        let geometry = foldWindow(image: outputSize, window)
        let (taps, blocks) = (geometry.kernelCount, geometry.positionCount)
        precondition(taps > 0 && x.shape[1] % taps == 0 && x.shape[2] == blocks,
                     "fold: input \(x.shape) does not match \(taps) taps and \(blocks) blocks")
        let (batch, channels) = (x.shape[0], x.shape[1] / taps)
        var sums = [Double](repeating: 0, count: batch * channels * geometry.imageCount)
        x.data.withUnsafeBufferPointer { xs in
            sums.withUnsafeMutableBufferPointer { acc in
                for plane in 0..<(batch * channels) {
                    let xBase = plane * taps * blocks
                    let outBase = plane * geometry.imageCount
                    geometry.forEachPosition { l, bd, bh, bw in
                        geometry.forEachTap(bd, bh, bw) { tap, offset in
                            acc[outBase + offset] += Double(xs[xBase + tap * blocks + l])
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, channels] + outputSize, data: sums.map { Float($0) })
    }

    /// The 2-D window of Unfold/Fold over an image of `image` (H, W), symmetric padding.
    static func foldWindow(image: [Int], _ w: SlidingWindow) -> Window {
        precondition(image.count == 2 && [w.kernelSize, w.dilation, w.padding, w.stride].allSatisfy { $0.count == 2 },
                     "unfold/fold work on exactly two spatial dims")
        let blocks = (0..<2).map {
            slidingCount(size: image[$0], padBegin: w.padding[$0], padEnd: w.padding[$0],
                         kernel: w.kernelSize[$0], stride: w.stride[$0], dilation: w.dilation[$0])
        }
        return Window(image: image, kernel: w.kernelSize, stride: w.stride, dilation: w.dilation,
                      padBegin: w.padding, positions: blocks)
    }
}
